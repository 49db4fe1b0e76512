"""The drill's record: what was restored, how fast, what was checked, what was cleaned up.

Plain dataclasses shared by the engine (which fills them) and the evidence writer (which renders them),
so a drill's outcome is one JSON-able object an auditor can re-read years later (164.316(b)(2)(i)).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

DRILL_TAG_KEY = "medspa:drill-id"
SPA_TAG_KEY = "Spa"
MANAGED_BY_TAG_KEY = "ManagedBy"
MANAGED_BY_TAG_VALUE = "medspa-drill"


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"


class ResourceKind(StrEnum):
    DATABASE = "database"
    BUCKET = "bucket"


def utc(value: datetime) -> datetime:
    """botocore gives tz-aware timestamps; a naive one is taken as UTC so comparisons never raise."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_z(value: datetime) -> str:
    """ISO-8601 in UTC with a trailing Z: one unambiguous form for every timestamp in the evidence."""
    return utc(value).isoformat().replace("+00:00", "Z")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else iso_z(value)


def error_code(error: ClientError) -> str:
    """The AWS error code of a botocore ClientError ("Unknown" when the response has none)."""
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def _parse(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _required(value: str) -> datetime:
    parsed = _parse(value)
    if parsed is None:  # pragma: no cover - _parse only returns None for None
        raise ValueError("missing timestamp")
    return parsed


@dataclass
class Check:
    """One verification; ``note=True`` is informational and never fails the drill."""

    name: str
    passed: bool
    detail: str
    hipaa: str = ""
    note: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "detail": self.detail,
            "hipaa": self.hipaa,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(
            name=str(data["name"]),
            passed=bool(data["passed"]),
            detail=str(data.get("detail", "")),
            hipaa=str(data.get("hipaa", "")),
            note=bool(data.get("note", False)),
        )


@dataclass
class CleanupAction:
    """One teardown step of something the drill created; a failed one fails the drill."""

    resource: str
    action: str
    ok: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "action": self.action, "ok": self.ok, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CleanupAction:
        return cls(
            resource=str(data["resource"]),
            action=str(data["action"]),
            ok=bool(data["ok"]),
            detail=str(data.get("detail", "")),
        )


@dataclass
class ScheduledRestoreTest:
    """A result of the AWS Backup restore testing plan, reported as evidence alongside the drill."""

    plan_name: str
    restore_job_id: str
    resource_arn: str
    status: str
    validation_status: str | None
    completed_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_name": self.plan_name,
            "restore_job_id": self.restore_job_id,
            "resource_arn": self.resource_arn,
            "status": self.status,
            "validation_status": self.validation_status,
            "completed_at": _iso(self.completed_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScheduledRestoreTest:
        return cls(
            plan_name=str(data["plan_name"]),
            restore_job_id=str(data["restore_job_id"]),
            resource_arn=str(data["resource_arn"]),
            status=str(data["status"]),
            validation_status=data.get("validation_status"),
            completed_at=_parse(data.get("completed_at")),
        )


@dataclass
class ResourceResult:
    """The restore of one protected resource into a temporary copy, with its timings and checks."""

    kind: ResourceKind
    source: str
    region: str
    recovery_point_arn: str | None = None
    recovery_point_time: datetime | None = None
    restore_job_id: str | None = None
    restored: str | None = None
    restore_started: datetime | None = None
    validated_at: datetime | None = None
    rto_seconds: float | None = None
    rpo_seconds: float | None = None
    checks: list[Check] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        if self.reasons or any(not c.passed and not c.note for c in self.checks):
            return Verdict.FAIL
        return Verdict.PASS

    def failure_reasons(self) -> list[str]:
        """Explicit reasons plus every failed (non-note) check, for the report's FAIL summary."""
        failed = [f"{c.name}: {c.detail}" for c in self.checks if not c.passed and not c.note]
        return [*self.reasons, *failed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "source": self.source,
            "region": self.region,
            "recovery_point_arn": self.recovery_point_arn,
            "recovery_point_time": _iso(self.recovery_point_time),
            "restore_job_id": self.restore_job_id,
            "restored": self.restored,
            "restore_started": _iso(self.restore_started),
            "validated_at": _iso(self.validated_at),
            "rto_seconds": self.rto_seconds,
            "rpo_seconds": self.rpo_seconds,
            "checks": [c.to_dict() for c in self.checks],
            "reasons": list(self.reasons),
            "verdict": self.verdict.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResourceResult:
        return cls(
            kind=ResourceKind(data["kind"]),
            source=str(data["source"]),
            region=str(data["region"]),
            recovery_point_arn=data.get("recovery_point_arn"),
            recovery_point_time=_parse(data.get("recovery_point_time")),
            restore_job_id=data.get("restore_job_id"),
            restored=data.get("restored"),
            restore_started=_parse(data.get("restore_started")),
            validated_at=_parse(data.get("validated_at")),
            rto_seconds=_float_or_none(data.get("rto_seconds")),
            rpo_seconds=_float_or_none(data.get("rpo_seconds")),
            checks=[Check.from_dict(c) for c in data.get("checks", [])],
            reasons=[str(r) for r in data.get("reasons", [])],
        )


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass
class DrillTargets:
    """The stack's recovery objectives the drill is measured against (164.308(a)(7)(ii)(B))."""

    rto_minutes: int
    rpo_hours: int

    def to_dict(self) -> dict[str, Any]:
        return {"rto_minutes": self.rto_minutes, "rpo_hours": self.rpo_hours}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrillTargets:
        return cls(rto_minutes=int(data["rto_minutes"]), rpo_hours=int(data["rpo_hours"]))


@dataclass
class DrillRecord:
    """One drill, start to finish: the evidence of a contingency-plan test (164.308(a)(7)(ii)(D))."""

    drill_id: str
    spa: str
    operator_arn: str
    account_id: str
    started_at: datetime
    finished_at: datetime | None
    regions: list[str]
    from_dr_region: bool
    emulator: bool
    targets: DrillTargets
    resources: list[ResourceResult] = field(default_factory=list)
    scheduled_tests: list[ScheduledRestoreTest] = field(default_factory=list)
    cleanup: list[CleanupAction] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    kit_version: str = ""

    @property
    def verdict(self) -> Verdict:
        if (
            self.reasons
            or not self.resources
            or any(r.verdict is Verdict.FAIL for r in self.resources)
            or any(not c.ok for c in self.cleanup)
        ):
            return Verdict.FAIL
        return Verdict.PASS

    def failure_reasons(self) -> list[str]:
        """Every reason the drill failed, drill-level first, each prefixed with what it concerns."""
        reasons = list(self.reasons)
        if not self.resources:
            reasons.append("no resource was restored")
        for resource in self.resources:
            reasons.extend(
                f"{resource.kind.value} {resource.source}: {r}" for r in resource.failure_reasons()
            )
        reasons.extend(
            f"cleanup {c.action} {c.resource} failed: {c.detail}".rstrip(": ")
            for c in self.cleanup
            if not c.ok
        )
        return reasons

    def to_dict(self) -> dict[str, Any]:
        return {
            "drill_id": self.drill_id,
            "spa": self.spa,
            "operator_arn": self.operator_arn,
            "account_id": self.account_id,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "regions": list(self.regions),
            "from_dr_region": self.from_dr_region,
            "emulator": self.emulator,
            "targets": self.targets.to_dict(),
            "resources": [r.to_dict() for r in self.resources],
            "scheduled_tests": [t.to_dict() for t in self.scheduled_tests],
            "cleanup": [c.to_dict() for c in self.cleanup],
            "reasons": list(self.reasons),
            "kit_version": self.kit_version,
            "verdict": self.verdict.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrillRecord:
        """Rebuild a record from its JSON (``--history``); extra keys such as report hashes are ignored."""
        return cls(
            drill_id=str(data["drill_id"]),
            spa=str(data["spa"]),
            operator_arn=str(data.get("operator_arn", "")),
            account_id=str(data.get("account_id", "")),
            started_at=_required(data["started_at"]),
            finished_at=_parse(data.get("finished_at")),
            regions=[str(r) for r in data.get("regions", [])],
            from_dr_region=bool(data.get("from_dr_region", False)),
            emulator=bool(data.get("emulator", False)),
            targets=DrillTargets.from_dict(data["targets"]),
            resources=[ResourceResult.from_dict(r) for r in data.get("resources", [])],
            scheduled_tests=[ScheduledRestoreTest.from_dict(t) for t in data.get("scheduled_tests", [])],
            cleanup=[CleanupAction.from_dict(c) for c in data.get("cleanup", [])],
            reasons=[str(r) for r in data.get("reasons", [])],
            kit_version=str(data.get("kit_version", "")),
        )


def new_drill_id(now: datetime) -> str:
    """``d20261123t101500z-a1b2c3``: sortable by time, unique, and valid in RDS and S3 names."""
    stamp = utc(now).strftime("%Y%m%dT%H%M%SZ").lower()
    return f"d{stamp}-{secrets.token_hex(3)}"


def drill_tags(drill_id: str, spa: str) -> dict[str, str]:
    """The tags on everything a drill creates, so cleanup finds it even after a kill."""
    return {DRILL_TAG_KEY: drill_id, SPA_TAG_KEY: spa, MANAGED_BY_TAG_KEY: MANAGED_BY_TAG_VALUE}
