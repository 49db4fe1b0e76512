"""What ``medspa drill`` does, apart from parsing options: flag rules, sessions, the run, the evidence.

The CLI function stays thin; everything here raises ``BadInput`` (exit 2) or returns an outcome whose
exit code is 0 for PASS and 1 for FAIL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scripts.drill.evidence import (
    EvidenceError,
    EvidenceFiles,
    default_report_dir,
    upload_evidence,
    write_evidence,
)
from scripts.drill.model import CleanupAction, DrillRecord, ResourceKind, Verdict
from scripts.errors import EXIT_FINDING, EXIT_OK, BadInput

if TYPE_CHECKING:
    import boto3

    from infra.config import SpaConfig

MAX_TIMEOUT_MINUTES = 24 * 60
PACKAGE_NAME = "medspa-hipaa-kit"


@dataclass(frozen=True)
class DrillRequest:
    """The operator's options, as given on the command line."""

    spa: str
    local: bool = False
    report_dir: Path | None = None
    from_dr_region: bool = False
    resource: str | None = None
    cleanup: bool = False
    history: bool = False
    upload: bool = False
    timeout_minutes: int = 60
    as_json: bool = False

    @property
    def directory(self) -> Path:
        return self.report_dir if self.report_dir is not None else default_report_dir(self.spa)


@dataclass
class DrillOutcome:
    """A finished drill: its record, where the evidence is, what was archived, and the exit code."""

    record: DrillRecord
    files: EvidenceFiles
    uploaded: list[str] = field(default_factory=list)
    upload_error: str | None = None
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        if self.record.verdict is Verdict.FAIL or self.upload_error or self.interrupted:
            return EXIT_FINDING
        return EXIT_OK


def check_request(request: DrillRequest) -> frozenset[ResourceKind]:
    """Refuse conflicting or malformed options with one line; return the resource kinds to drill."""
    kinds = frozenset(ResourceKind)
    if request.resource is not None:
        try:
            kinds = frozenset({ResourceKind(request.resource)})
        except ValueError:
            choices = " or ".join(k.value for k in ResourceKind)
            raise BadInput(f"--resource must be {choices}, not {request.resource!r}") from None
    if not 1 <= request.timeout_minutes <= MAX_TIMEOUT_MINUTES:
        raise BadInput(f"--timeout-minutes must be 1 to {MAX_TIMEOUT_MINUTES}, not {request.timeout_minutes}")
    modes = [("--cleanup", request.cleanup), ("--history", request.history), ("--local", request.local)]
    chosen = [name for name, on in modes if on]
    if len(chosen) > 1:
        raise BadInput(f"{' and '.join(chosen)} cannot be combined: choose one")
    if request.cleanup or request.history:
        mode = chosen[0]
        for name, on in (
            ("--from-dr-region", request.from_dr_region),
            ("--resource", request.resource is not None),
            ("--upload", request.upload),
        ):
            if on:
                raise BadInput(f"{mode} cannot be combined with {name}")
    if request.local and request.upload:
        raise BadInput(
            "--upload archives real evidence in the log archive; emulator evidence is never uploaded"
        )
    if request.local and request.from_dr_region:
        raise BadInput("--local seeds the primary region only; run --from-dr-region against AWS")
    return kinds


def aws_session(region: str) -> boto3.session.Session:
    """A session for the spa's account; no credentials is bad input (exit 2), never a traceback."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session(region_name=region)
        credentials = session.get_credentials()
    except BotoCoreError as error:
        raise BadInput(f"AWS credentials: {error}") from None
    if credentials is None:
        raise BadInput(
            "no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) "
            "for the spa's account, or try --local"
        )
    return session


def kit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PACKAGE_NAME)
    except PackageNotFoundError:
        return "unknown"


def run(
    request: DrillRequest, config: SpaConfig, *, on_progress: Callable[[str], None] = lambda _msg: None
) -> DrillOutcome:
    """Run the drill (in AWS or, with ``--local``, in the emulator) and always write its evidence."""
    from botocore.exceptions import BotoCoreError

    kinds = check_request(request)
    timeout_seconds = request.timeout_minutes * 60.0
    session: boto3.session.Session | None = None
    interrupted = False
    try:
        if request.local:
            from scripts.drill.local import run_local_drill

            record = run_local_drill(
                config, kinds=kinds, timeout_seconds=timeout_seconds, on_progress=on_progress
            )
        else:
            session = aws_session(config.region)  # no credentials: exit 2 before anything starts

            from scripts.drill.engine import DrillOptions, run_drill

            options = DrillOptions(
                spa=config.spa,
                config=config,
                from_dr_region=request.from_dr_region,
                kinds=kinds,
                timeout_seconds=timeout_seconds,
            )
            record = run_drill(options, session, on_progress=on_progress)
    except KeyboardInterrupt as interrupt:
        partial = getattr(interrupt, "drill_record", None)
        if not isinstance(partial, DrillRecord):
            raise
        record, interrupted = partial, True
    except BotoCoreError as error:
        raise BadInput(f"AWS: {error}") from None
    if not record.kit_version:
        record.kit_version = kit_version()
    try:
        files = write_evidence(record, request.directory)
    except EvidenceError as error:
        raise BadInput(str(error)) from None
    outcome = DrillOutcome(record=record, files=files, interrupted=interrupted)
    if request.upload and session is not None:
        try:
            outcome.uploaded = upload_evidence(files, session, config.spa, config.region)
        except EvidenceError as error:
            outcome.upload_error = str(error)
    return outcome


def cleanup(
    config: SpaConfig, *, on_progress: Callable[[str], None] = lambda _msg: None
) -> list[CleanupAction]:
    """Remove the leftovers of killed drills (everything tagged with a drill id for this spa)."""
    from botocore.exceptions import BotoCoreError

    from scripts.drill.engine import cleanup_leftovers

    session = aws_session(config.region)
    try:
        return cleanup_leftovers(
            config.spa, session, on_progress=on_progress, regions=[config.region, config.dr_region]
        )
    except BotoCoreError as error:
        raise BadInput(f"AWS: {error}") from None
