"""Every fault the issue lists ends in FAIL with its reason, leaves nothing behind and changes no source.

moto runs the real RDS, S3, KMS, EC2 and tagging APIs in-process; faults are injected with botocore
event hooks on the drill's session (a refused call, a changed answer, an interrupt), so the engine's
own error paths run (164.308(a)(7)(ii)(D) testing of the contingency plan).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from infra.config import load_stack
from scripts import paths
from scripts.drill import buckets
from scripts.drill.model import DrillRecord, ResourceKind, Verdict
from tests.scripts.drill.drill_support import (
    Account,
    client_error,
    fake_aws,
    is_drill_copy,
    later,
    seeded_account,
    stepping_clock,
)

DATABASE = frozenset({ResourceKind.DATABASE})
BUCKET = frozenset({ResourceKind.BUCKET})


@pytest.fixture
def account() -> Iterator[Account]:
    config = load_stack(paths.stacks_dir(), "demo")
    with fake_aws(config.region):
        yield seeded_account(config)


def _assert_failed_and_clean(
    account: Account, record: DrillRecord, before: dict[str, Any], reason: str
) -> None:
    reasons = " | ".join(record.failure_reasons())
    assert record.verdict is Verdict.FAIL, (
        f"the fault must fail the drill (164.308(a)(7)(ii)(D)); got {reasons}"
    )
    assert reason in reasons, f"the evidence must say why: expected {reason!r} in {reasons!r}"
    assert account.drill_leftovers() == [], "nothing the drill created may remain (164.310(d)(2)(iv))"
    assert account.state() == before, "no source resource may change (164.308(a)(7)(ii)(A))"


def _mutate_copy(account: Account, **changes: Any) -> None:
    """Make DescribeDBInstances report ``changes`` for the drill's copy (never for the source)."""

    def handler(parsed: dict[str, Any], **_kw: Any) -> None:
        for instance in parsed.get("DBInstances", []):
            if is_drill_copy(instance):
                instance.update(changes)

    account.on("after-call.rds.DescribeDBInstances", handler)


def test_no_recovery_point_within_the_rpo_target(account: Account) -> None:
    before = account.state()
    hours = account.config.rpo_target_hours + 6
    record = account.drill(kinds=DATABASE, clock=later(hours))
    _assert_failed_and_clean(account, record, before, "no recovery point within the RPO target")
    (db,) = record.resources
    assert db.rpo_seconds is not None and db.rpo_seconds > account.config.rpo_target_hours * 3600, (
        f"{db.source}: RPO measured past the {account.config.rpo_target_hours} h target: {db.rpo_seconds}"
    )


def test_no_recovery_point_at_all(account: Account) -> None:
    before = account.state()

    def no_snapshots(parsed: dict[str, Any], **_kw: Any) -> None:
        parsed["DBSnapshots"] = []

    account.on("after-call.rds.DescribeDBSnapshots", no_snapshots)
    record = account.drill(kinds=DATABASE)
    _assert_failed_and_clean(
        account,
        record,
        before,
        f"no recovery point: no backup of {account.seed.db_identifier} in the vault or RDS",
    )


def test_rto_target_missed(account: Account) -> None:
    before = account.state()
    step = timedelta(minutes=account.config.rto_target_minutes + 1)
    record = account.drill(kinds=DATABASE, clock=stepping_clock(step))
    _assert_failed_and_clean(
        account, record, before, f"min exceeds the {account.config.rto_target_minutes} min target"
    )
    (db,) = record.resources
    assert db.rto_seconds is not None and db.rto_seconds > account.config.rto_target_minutes * 60, (
        "RTO measured"
    )


def test_restore_call_refused(account: Account) -> None:
    before = account.state()

    def refuse(**_kw: Any) -> None:
        raise client_error("InsufficientDBInstanceCapacity", "RestoreDBInstanceFromDBSnapshot")

    account.on("before-call.rds.RestoreDBInstanceFromDBSnapshot", refuse)
    record = account.drill(kinds=DATABASE)
    _assert_failed_and_clean(
        account, record, before, "restore failed: AWS error InsufficientDBInstanceCapacity"
    )


def test_restore_that_fails_while_waiting(account: Account) -> None:
    before = account.state()
    _mutate_copy(account, DBInstanceStatus="incompatible-restore")
    record = account.drill(kinds=DATABASE)
    _assert_failed_and_clean(account, record, before, "restore failed: the restored instance went to status")


def test_restored_database_unencrypted(account: Account) -> None:
    before = account.state()
    _mutate_copy(account, StorageEncrypted=False, KmsKeyId=None)
    record = account.drill(kinds=DATABASE)
    _assert_failed_and_clean(
        account, record, before, "encrypted with the expected key: StorageEncrypted false"
    )


def test_restored_database_public(account: Account) -> None:
    before = account.state()
    _mutate_copy(account, PubliclyAccessible=True)
    record = account.drill(kinds=DATABASE)
    _assert_failed_and_clean(account, record, before, "not publicly accessible: PubliclyAccessible true")


def test_restored_bucket_unencrypted(account: Account) -> None:
    before = account.state()

    def sse_s3(parsed: dict[str, Any], **_kw: Any) -> None:
        rules = parsed.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        for rule in rules:
            rule["ApplyServerSideEncryptionByDefault"] = {"SSEAlgorithm": "AES256"}

    account.on("after-call.s3.GetBucketEncryption", sse_s3)
    record = account.drill(kinds=BUCKET)
    _assert_failed_and_clean(account, record, before, "encrypted with the expected key: default AES256")


def test_restored_bucket_public(account: Account) -> None:
    before = account.state()

    def opened(parsed: dict[str, Any], **_kw: Any) -> None:
        block = parsed.get("PublicAccessBlockConfiguration")
        if block is not None:
            block["RestrictPublicBuckets"] = False

    account.on("after-call.s3.GetPublicAccessBlock", opened)
    record = account.drill(kinds=BUCKET)
    _assert_failed_and_clean(account, record, before, "not publicly accessible")


@pytest.mark.parametrize("fault", ["disable", "schedule deletion"])
def test_restore_key_unusable_refuses_to_start(account: Account, fault: str) -> None:
    kms = account.client("kms")
    key_id = kms.describe_key(KeyId=account.seed.data_key_arn)["KeyMetadata"]["KeyId"]
    if fault == "disable":
        kms.disable_key(KeyId=key_id)
        expected = "Disabled"
    else:
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
        expected = "PendingDeletion"
    before = account.state()
    created: list[str] = []
    account.on(
        "provide-client-params.rds.RestoreDBInstanceFromDBSnapshot", lambda **_kw: created.append("db")
    )
    account.on("provide-client-params.s3.CreateBucket", lambda **_kw: created.append("bucket"))
    record = account.drill()
    _assert_failed_and_clean(account, record, before, "refused to start: restore key alias/demo/data")
    assert expected in " ".join(record.reasons), f"the key state {expected} is the reason (164.312(a)(2)(iv))"
    assert record.resources == [] and created == [], "nothing is restored with an unusable key"


def test_timeout_while_waiting_for_the_restore(account: Account) -> None:
    before = account.state()
    _mutate_copy(account, DBInstanceStatus="creating")
    record = account.drill(kinds=DATABASE)
    _assert_failed_and_clean(account, record, before, "timeout: the restored instance was not available")


def test_interrupt_during_the_database_wait_cleans_up_and_reraises(account: Account) -> None:
    before = account.state()
    fired: list[bool] = []

    def interrupt(params: dict[str, Any], **_kw: Any) -> None:
        if is_drill_copy(params) and not fired:
            fired.append(True)
            raise KeyboardInterrupt

    account.on("provide-client-params.rds.DescribeDBInstances", interrupt)
    with pytest.raises(KeyboardInterrupt) as caught:
        account.drill()
    record = caught.value.drill_record  # type: ignore[attr-defined]
    assert isinstance(record, DrillRecord), "the partial record travels with the interrupt, for the evidence"
    _assert_failed_and_clean(account, record, before, "interrupted")
    assert record.finished_at is not None, (
        f"drill {record.drill_id}: an interrupted drill records when it ended"
    )


def test_interrupt_during_the_bucket_copy_cleans_up_and_reraises(account: Account) -> None:
    before = account.state()

    def interrupt(**_kw: Any) -> None:
        raise KeyboardInterrupt

    account.on("before-call.s3.CopyObject", interrupt)
    with pytest.raises(KeyboardInterrupt) as caught:
        account.drill(kinds=BUCKET)
    _assert_failed_and_clean(account, caught.value.drill_record, before, "interrupted")  # type: ignore[attr-defined]


def test_checksum_mismatch(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy of one object comes back with other bytes of the same length: the manifest must catch it."""
    before = account.state()
    real_copy = buckets.copy_versions

    def corrupting_copy(env: Any, source: str, versions: dict[str, str], target: str) -> None:
        real_copy(env, source, versions, target)
        key = sorted(versions)[0]
        body = env.client("s3").get_object(Bucket=target, Key=key)["Body"].read()
        env.client("s3").put_object(Bucket=target, Key=key, Body=bytes(reversed(body)))

    monkeypatch.setattr(buckets, "copy_versions", corrupting_copy)
    record = account.drill(kinds=BUCKET)
    _assert_failed_and_clean(account, record, before, "manifest matches the source: 1 of 3 objects differ")
    assert "changed 1" in " ".join(record.failure_reasons()), (
        "size equal, SHA-256 differs: counted as changed"
    )


def test_timeout_while_copying_bucket_versions(account: Account) -> None:
    before = account.state()
    record = account.drill(kinds=BUCKET, clock=stepping_clock(timedelta(minutes=30)))
    _assert_failed_and_clean(account, record, before, "objects copied within 1 s")
