"""Hand-built drill records for the evidence and history tests (no engine, no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scripts.drill.model import (
    Check,
    CleanupAction,
    DrillRecord,
    DrillTargets,
    ResourceKind,
    ResourceResult,
    ScheduledRestoreTest,
)

START = datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
DB_ARN = "arn:aws:rds:us-east-1:111122223333:db:demo-phi-db"
BUCKET_ARN = "arn:aws:s3:::demo-phi-documents-111122223333"
RECOVERY_POINT_ARN = "arn:aws:rds:us-east-1:111122223333:snapshot:rds:demo-phi-db-2026-11-23-07-05"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555"


def database_result(*, rto_seconds: float = 1500.0, rpo_seconds: float = 3.5 * 3600) -> ResourceResult:
    return ResourceResult(
        kind=ResourceKind.DATABASE,
        source=DB_ARN,
        region="us-east-1",
        recovery_point_arn=RECOVERY_POINT_ARN,
        recovery_point_time=START - timedelta(seconds=rpo_seconds),
        restore_job_id="rj-0123456789abcdef",
        restored="medspa-drill-d20261123t101500z-a1b2c3-db",
        restore_started=START + timedelta(minutes=1),
        validated_at=START + timedelta(minutes=1, seconds=rto_seconds),
        rto_seconds=rto_seconds,
        rpo_seconds=rpo_seconds,
        checks=[
            Check(
                "encrypted with the data key",
                True,
                f"StorageEncrypted, KmsKeyId {KEY_ARN}",
                "164.312(a)(2)(iv)",
            ),
            Check("not publicly accessible", True, "PubliclyAccessible false", "164.312(e)(1)"),
            Check("validation query", True, "no validation query configured", "164.312(c)(1)", note=True),
        ],
    )


def bucket_result() -> ResourceResult:
    return ResourceResult(
        kind=ResourceKind.BUCKET,
        source=BUCKET_ARN,
        region="us-east-1",
        recovery_point_arn=None,
        recovery_point_time=START - timedelta(hours=2),
        restored="medspa-drill-d20261123t101500z-a1b2c3-documents",
        restore_started=START + timedelta(minutes=2),
        validated_at=START + timedelta(minutes=4),
        rto_seconds=120.0,
        rpo_seconds=7200.0,
        checks=[Check("manifest matches", True, "3 objects, 3 match (keys sha256 9f86d0)", "164.312(c)(1)")],
    )


def record(
    *,
    drill_id: str = "d20261123t101500z-a1b2c3",
    started: datetime = START,
    emulator: bool = False,
    resources: list[ResourceResult] | None = None,
    cleanup_ok: bool = True,
    reasons: list[str] | None = None,
    spa: str = "demo",
    regions: list[str] | None = None,
) -> DrillRecord:
    return DrillRecord(
        drill_id=drill_id,
        spa=spa,
        operator_arn="arn:aws:sts::111122223333:assumed-role/drill-operator/privacy-officer",
        account_id="111122223333",
        started_at=started,
        finished_at=started + timedelta(minutes=40),
        regions=["us-east-1"] if regions is None else regions,
        from_dr_region=False,
        emulator=emulator,
        targets=DrillTargets(rto_minutes=240, rpo_hours=24),
        resources=[database_result(), bucket_result()] if resources is None else resources,
        scheduled_tests=[
            ScheduledRestoreTest(
                plan_name="demo_restore_test",
                restore_job_id="rj-scheduled-42",
                resource_arn=DB_ARN,
                status="COMPLETED",
                validation_status="SUCCESSFUL",
                completed_at=started - timedelta(days=7),
            )
        ],
        cleanup=[
            CleanupAction("medspa-drill-d20261123t101500z-a1b2c3-db", "delete db instance", True),
            CleanupAction(
                "sg-0drill", "delete security group", cleanup_ok, "" if cleanup_ok else "DependencyViolation"
            ),
        ],
        reasons=[] if reasons is None else reasons,
        kit_version="0.1.0",
    )
