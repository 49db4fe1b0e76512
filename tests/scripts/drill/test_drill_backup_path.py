"""The engine's AWS Backup path and ``--from-dr-region``, with the AWS Backup calls replaced by a fake.

moto does not implement AWS Backup's recovery points and restore jobs, so the functions of
scripts/drill/backup_jobs.py (tested on their own with botocore's Stubber) are replaced here by a
fake that behaves like AWS Backup: it restores into the account moto holds (RDS restore without our
tags, S3 objects copied into the drill's bucket). Everything else is moto (164.308(a)(7)(ii)(D)).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.config import load_stack
from scripts import paths
from scripts.drill import backup_jobs
from scripts.drill.model import ResourceKind, ScheduledRestoreTest, Verdict
from tests.scripts.drill.drill_support import Account, client_error, fake_aws, seeded_account

DATABASE = frozenset({ResourceKind.DATABASE})
BUCKET = frozenset({ResourceKind.BUCKET})


@dataclass
class FakeBackup:
    """Stands in for backup_jobs; records what the engine asked for."""

    account: Account
    outcome: str = "COMPLETED"
    timeout: bool = False
    refuse_start: bool = False
    points: bool = True
    metadata: list[dict[str, Any]] = field(default_factory=list)
    vaults: list[str | None] = field(default_factory=list)
    started: list[dict[str, Any]] = field(default_factory=list)
    validations: list[tuple[str, bool, str]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in (
            "newest_recovery_point",
            "rds_restore_metadata",
            "s3_restore_metadata",
            "start_restore",
            "wait_for_restore",
            "report_validation",
            "scheduled_restore_tests",
        ):
            monkeypatch.setattr(backup_jobs, name, getattr(self, name))

    def newest_recovery_point(self, _backup: Any, resource_arn: str, *, vault_name: str | None = None) -> Any:
        self.vaults.append(vault_name)
        if not self.points:
            return None
        return backup_jobs.RecoveryPoint(
            arn=f"arn:aws:backup:us-east-1:{self.account.seed.account_id}:recovery-point:{len(self.vaults)}",
            created=datetime.now(UTC),  # after the seed: the objects existed at the recovery point
            vault_name=str(vault_name),
            resource_arn=resource_arn,
            encryption_key_arn=None,
            status="COMPLETED",
        )

    def rds_restore_metadata(self, **kwargs: str) -> dict[str, str]:
        self.metadata.append({"type": "RDS", **kwargs})
        return {"type": "RDS", **kwargs}

    def s3_restore_metadata(self, **kwargs: str) -> dict[str, str]:
        self.metadata.append({"type": "S3", **kwargs})
        return {"type": "S3", **kwargs}

    def start_restore(self, _backup: Any, **kwargs: Any) -> str:
        if self.refuse_start:
            raise client_error("InvalidParameterValueException", "StartRestoreJob")
        self.started.append(kwargs)
        return f"rj-{len(self.started)}"

    def wait_for_restore(self, _backup: Any, job_id: str, **_kwargs: Any) -> Any:
        """Restore like AWS Backup would: the copy appears without the drill's tags."""
        metadata = self.started[int(job_id.removeprefix("rj-")) - 1]["metadata"]
        if metadata["type"] == "RDS":
            self.account.client("rds").restore_db_instance_from_db_snapshot(
                DBInstanceIdentifier=metadata["db_instance_identifier"],
                DBSnapshotIdentifier=self.account.seed.snapshot_id,
                DBSubnetGroupName=metadata["subnet_group"],
                VpcSecurityGroupIds=[metadata["security_group_id"]],
                PubliclyAccessible=False,
            )
        else:
            s3 = self.account.client("s3")
            source = next(
                b for b in self.account.seed.buckets if b.split("-")[2] in metadata["target_bucket"]
            )
            for item in s3.list_objects_v2(Bucket=source).get("Contents", []):
                s3.copy_object(
                    Bucket=metadata["target_bucket"],
                    Key=item["Key"],
                    CopySource={"Bucket": source, "Key": item["Key"]},
                    ServerSideEncryption="aws:kms",
                    SSEKMSKeyId=metadata["kms_key_arn"],
                )
        if self.timeout:
            raise backup_jobs.RestoreTimeout(job_id)
        return backup_jobs.RestoreOutcome(
            job_id=job_id,
            status=self.outcome,
            created_resource_arn=None,
            status_message="injected" if self.outcome != "COMPLETED" else None,
            completed=datetime.now(UTC),
        )

    def report_validation(self, _backup: Any, job_id: str, *, passed: bool, message: str) -> str | None:
        self.validations.append((job_id, passed, message))
        return None

    def scheduled_restore_tests(
        self, _backup: Any, spa: str, *, since: datetime
    ) -> list[ScheduledRestoreTest]:
        return [
            ScheduledRestoreTest(
                plan_name=f"{spa}_restore_tests",
                restore_job_id="rj-scheduled",
                resource_arn=self.account.seed.buckets[0],
                status="COMPLETED",
                validation_status="SUCCESSFUL",
                completed_at=since + timedelta(days=1),
            )
        ]


@pytest.fixture
def account() -> Iterator[Account]:
    config = load_stack(paths.stacks_dir(), "demo")
    with fake_aws(config.region):
        yield seeded_account(config)


@pytest.fixture
def fake(account: Account, monkeypatch: pytest.MonkeyPatch) -> FakeBackup:
    backup = FakeBackup(account)
    backup.install(monkeypatch)
    return backup


def test_vault_recovery_points_restore_through_aws_backup_and_pass(
    account: Account, fake: FakeBackup
) -> None:
    before = account.state()
    record = account.drill()
    assert record.verdict is Verdict.PASS, f"AWS Backup path must PASS: {record.failure_reasons()}"
    assert record.resources, "demo: the AWS Backup path must restore the database and buckets"
    assert all(
        r.restore_job_id and r.recovery_point_arn and ":recovery-point:" in r.recovery_point_arn
        for r in record.resources
    ), "each resource names its restore job and recovery point (164.308(a)(7)(ii)(D) evidence)"
    assert account.drill_leftovers() == [], "the untagged AWS Backup copy is claimed and deleted"
    assert account.state() == before, "sources unchanged"


def test_validation_result_is_reported_to_aws_backup(account: Account, fake: FakeBackup) -> None:
    record = account.drill()
    assert fake.started, "demo: the drill must start AWS Backup restore jobs, or there is nothing to validate"
    assert fake.validations, "demo: PutRestoreValidationResult must be called for the restore jobs"
    assert sorted(job for job, _, _ in fake.validations) == sorted(
        str(r.restore_job_id) for r in record.resources
    ), "demo: each restore job gets its validation result in AWS Backup (164.308(a)(7)(ii)(D))"
    assert all(passed for _, passed, _ in fake.validations), "SUCCESSFUL after a passing validation"
    for _, _, message in fake.validations:
        assert record.drill_id in message and "synthetic" not in message, "no PHI in the validation message"


def test_restore_metadata_keeps_copies_under_our_key_and_isolated(account: Account, fake: FakeBackup) -> None:
    account.drill()
    rds = next(m for m in fake.metadata if m["type"] == "RDS")
    assert rds["kms_key_arn"] == account.seed.data_key_arn, "RDS copy under the data key (164.312(a)(2)(iv))"
    assert rds["subnet_group"] == "demo-phi-db-isolated", "RDS copy in the isolated subnets (164.312(a)(1))"
    assert rds["security_group_id"].startswith("sg-"), "with the drill's no-ingress security group"
    s3_restores = [m for m in fake.metadata if m["type"] == "S3"]
    assert s3_restores, "demo: every PHI bucket must be restored through AWS Backup (S3 restore metadata)"
    for s3 in s3_restores:
        assert s3["kms_key_arn"] == account.seed.data_key_arn, (
            "S3 copy under the data key (164.312(a)(2)(iv))"
        )
        assert s3["target_bucket"].startswith("medspa-drill-"), "into the drill's locked-down bucket"
    assert set(fake.vaults) == {"demo-vault"}, "recovery points come from the primary vault"


def test_failed_restore_job_fails_the_drill(account: Account, fake: FakeBackup) -> None:
    fake.outcome = "FAILED"
    before = account.state()
    record = account.drill(kinds=DATABASE)
    assert record.verdict is Verdict.FAIL, "demo database: a FAILED restore job must fail the drill"
    assert "ended FAILED" in " ".join(record.failure_reasons()), "a failed restore job is the reason"
    assert account.drill_leftovers() == [] and account.state() == before, "nothing left, sources unchanged"


def test_restore_job_timeout_fails_and_cleans_the_late_copy(account: Account, fake: FakeBackup) -> None:
    fake.timeout = True
    record = account.drill()
    assert record.verdict is Verdict.FAIL, "demo: a restore job past the deadline must fail the drill (RTO)"
    assert "timeout: restore job" in " ".join(record.failure_reasons()), (
        "demo: the timed-out restore job is the reason"
    )
    assert account.drill_leftovers() == [], "a copy that appeared after the timeout is still removed"


def test_start_restore_refused_fails_the_drill(account: Account, fake: FakeBackup) -> None:
    fake.refuse_start = True
    record = account.drill(kinds=DATABASE)
    assert "StartRestoreJob AWS error InvalidParameterValueException" in " ".join(record.failure_reasons()), (
        "demo database: a refused StartRestoreJob is the reason the drill fails"
    )
    assert account.drill_leftovers() == [], "demo: nothing the drill created may remain (164.310(d)(2)(iv))"


def test_scheduled_restore_tests_are_reported(account: Account, fake: FakeBackup) -> None:
    record = account.drill(kinds=BUCKET)
    assert [t.restore_job_id for t in record.scheduled_tests] == ["rj-scheduled"], (
        "the restore testing plan's results are evidence too (164.308(a)(7)(ii)(D))"
    )


def test_unreadable_recovery_points_fall_back_to_snapshots_with_a_note(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*_args: Any, **_kwargs: Any) -> None:
        raise client_error("AccessDeniedException", "ListRecoveryPointsByResource")

    monkeypatch.setattr(backup_jobs, "newest_recovery_point", denied)
    record = account.drill(kinds=DATABASE)
    (db,) = record.resources
    assert db.verdict is Verdict.PASS and db.recovery_point_arn and ":snapshot:" in db.recovery_point_arn, (
        f"{db.source}: unreadable AWS Backup recovery points fall back to the RDS snapshot: {db}"
    )
    notes = [c for c in db.checks if c.note and c.name == "AWS Backup recovery points"]
    assert notes and "AccessDeniedException" in notes[0].detail, "the fallback is recorded, not silent"


def _dr_key(account: Account) -> str:
    kms = account.client("kms", account.config.dr_region)
    key = kms.create_key(Description="demo DR backup key")["KeyMetadata"]
    kms.create_alias(AliasName="alias/demo/backup-dr", TargetKeyId=key["KeyId"])
    return str(key["Arn"])


def test_dr_drill_refuses_without_a_dr_key(account: Account, fake: FakeBackup) -> None:
    record = account.drill(from_dr_region=True)
    assert record.verdict is Verdict.FAIL, "demo DR drill: no DR restore key must refuse the drill"
    assert "alias/demo/backup-dr does not exist" in " ".join(record.reasons), (
        "demo DR drill: the missing DR key alias/demo/backup-dr is the reason (164.312(a)(2)(iv))"
    )
    assert record.regions == [account.config.region, account.config.dr_region], (
        f"demo DR drill: the evidence names the primary and DR regions: {record.regions}"
    )


def test_dr_drill_without_dr_network_fails_clearly_and_uses_the_dr_vault(
    account: Account, fake: FakeBackup
) -> None:
    _dr_key(account)
    record = account.drill(from_dr_region=True, kinds=DATABASE)
    assert set(fake.vaults) == {"demo-dr-vault"}, "the real disaster case restores from the DR vault's copies"
    reasons = " ".join(record.failure_reasons())
    assert "no DB subnet group demo-phi-db-isolated in us-west-2" in reasons, (
        "never restore PHI into a default VPC (164.312(a)(1))"
    )
    assert account.drill_leftovers() == [], (
        "demo DR drill: nothing the drill created may remain (164.310(d)(2)(iv))"
    )


def test_dr_bucket_without_a_dr_recovery_point_fails(account: Account, fake: FakeBackup) -> None:
    _dr_key(account)
    fake.points = False
    record = account.drill(from_dr_region=True, kinds=BUCKET)
    assert record.verdict is Verdict.FAIL, "demo DR drill: a bucket without a DR recovery point must fail"
    assert "in the DR vault demo-dr-vault" in " ".join(record.failure_reasons()), (
        "a DR drill never falls back to the primary bucket's versions"
    )
    assert record.regions == [account.config.region, account.config.dr_region], (
        f"demo DR drill: the evidence names the primary and DR regions: {record.regions}"
    )
