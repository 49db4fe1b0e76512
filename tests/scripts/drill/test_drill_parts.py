"""The drill's parts on their own, against moto: discovery by tags, the key check, the locked bucket, the manifest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from infra.config import load_stack
from scripts import paths
from scripts.drill.buckets import Entry, bucket_role, compare, create_locked_bucket, key_digest
from scripts.drill.cleanup import DrillEnv, Workspace
from scripts.drill.discover import discover
from scripts.drill.keys import inspect_key, restore_key_alias
from scripts.drill.model import DRILL_TAG_KEY, ResourceKind, drill_tags
from tests.scripts.drill.drill_support import Account, fake_aws, seeded_account


@pytest.fixture
def account() -> Iterator[Account]:
    config = load_stack(paths.stacks_dir(), "demo")
    with fake_aws(config.region):
        yield seeded_account(config)


def test_discovery_finds_the_database_and_buckets_by_tags_only(account: Account) -> None:
    found = discover(account.session, "us-east-1", "demo", frozenset(ResourceKind))
    assert found and found[0].kind is ResourceKind.DATABASE, f"demo: the database is drilled first: {found}"
    assert {r.identifier for r in found} == {account.seed.db_identifier, *account.seed.buckets}, (
        "exactly the PHI stores the backup plan selects by medspa:backup=phi (164.308(a)(7)(ii)(A)); "
        "not the PHI-tagged key or snapshots"
    )


def test_discovery_ignores_other_spas_and_drill_copies(account: Account) -> None:
    s3 = account.client("s3")
    for name, tags in (
        ("other-phi-documents-123456789012", {"Spa": "other", "medspa:backup": "phi"}),
        ("medspa-drill-copy", {"Spa": "demo", "medspa:backup": "phi", **drill_tags("d1", "demo")}),
    ):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )
    found = {r.identifier for r in discover(account.session, "us-east-1", "demo", frozenset(ResourceKind))}
    assert "other-phi-documents-123456789012" not in found, "another spa's bucket is never drilled"
    assert "medspa-drill-copy" not in found, f"a drill copy ({DRILL_TAG_KEY}) is never taken for a source"


def test_discovery_limited_to_one_kind(account: Account) -> None:
    found = discover(account.session, "us-east-1", "demo", frozenset({ResourceKind.DATABASE}))
    assert [r.identifier for r in found] == [account.seed.db_identifier], (
        f"demo: --resource database must find only {account.seed.db_identifier}, found {found}"
    )


def test_key_check_accepts_an_enabled_key(account: Account) -> None:
    status = inspect_key(account.client("kms"), restore_key_alias("demo", dr=False))
    assert status.usable and status.arn == account.seed.data_key_arn, (
        f"alias/demo/data: an enabled data key must be usable for the restore (164.312(a)(2)(iv)): {status}"
    )


@pytest.mark.parametrize(
    ("fault", "state", "hint"),
    [("disable", "Disabled", "kms enable-key"), ("delete", "PendingDeletion", "kms cancel-key-deletion")],
)
def test_key_check_names_the_state_and_what_to_do(
    account: Account, fault: str, state: str, hint: str
) -> None:
    kms = account.client("kms")
    key_id = kms.describe_key(KeyId=account.seed.data_key_arn)["KeyMetadata"]["KeyId"]
    if fault == "disable":
        kms.disable_key(KeyId=key_id)
    else:
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    status = inspect_key(kms, "alias/demo/data")
    assert not status.usable and status.problem is not None, (
        f"alias/demo/data: a {state} key must not be used for the restore (164.312(a)(2)(iv)): {status}"
    )
    assert state in status.problem, (
        f"alias/demo/data: the problem names the key state {state}: {status.problem}"
    )
    assert hint in status.problem, f"alias/demo/data: a {state} key must say `{hint}`: {status.problem}"


def test_key_check_reports_a_missing_key(account: Account) -> None:
    status = inspect_key(account.client("kms"), restore_key_alias("demo", dr=True))
    assert status.problem == "restore key alias/demo/backup-dr does not exist", (
        f"alias/demo/backup-dr: a missing DR restore key must be named: {status}"
    )


def test_locked_bucket_outside_the_emulator_gets_every_control(account: Account) -> None:
    env = DrillEnv(
        session=account.session,
        workspace=Workspace("d20261123t101500z-a1b2c3", "demo"),
        config=account.config,
        region="us-east-1",
        source_region="us-east-1",
        from_dr_region=False,
        expected_key_arn=account.seed.data_key_arn,
        account_id=account.seed.account_id,
        started_at=datetime.now(UTC),
        timeout_seconds=1,
        poll_seconds=0,
        clock=lambda: datetime.now(UTC),
        sleep=lambda _s: None,
        on_progress=lambda _m: None,
        emulator=False,
    )
    name = "medspa-drill-d20261123t101500z-a1b2c3-documents"
    create_locked_bucket(env, name)
    s3 = account.client("s3")
    assert all(s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"].values()), (
        f"{name}: every public access block flag on (164.312(a)(1))"
    )
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == account.seed.data_key_arn, (
        f"{name}: default encryption under the data key (164.312(a)(2)(iv))"
    )
    policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    deny = policy["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, (
        f"{name}: bucket policy denies non-TLS requests (164.312(e)(1))"
    )
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}
    assert tags[DRILL_TAG_KEY] == "d20261123t101500z-a1b2c3", (
        f"{name}: {DRILL_TAG_KEY} tag so cleanup finds it"
    )
    assert env.workspace.created, f"{name}: registered for teardown before it was created (164.310(d)(2)(iv))"


def test_manifest_mismatch_counts_and_hashes_keys_never_names_them() -> None:
    expected = {"patients/jane-doe.pdf": Entry(3, "a"), "patients/john-roe.pdf": Entry(3, "b")}
    restored = {"patients/jane-doe.pdf": Entry(3, "x")}
    check = compare(expected, restored)
    assert not check.passed and check.hipaa == "164.312(c)(1)", (
        f"manifest: a missing and a changed object must fail the integrity check (164.312(c)(1)): {check}"
    )
    assert "2 of 2 objects differ (missing 1, extra 0, changed 1)" in check.detail, (
        f"manifest: counts of missing, extra and changed objects: {check.detail}"
    )
    assert "jane" not in check.detail and "john" not in check.detail, "object keys may name patients"
    assert key_digest("patients/jane-doe.pdf")[:16] in check.detail, (
        f"manifest: a differing object is named by its key's SHA-256 prefix: {check.detail}"
    )


def test_manifest_match() -> None:
    same = {"k": Entry(1, "a")}
    assert compare(same, dict(same)).passed, "manifest: identical sizes and SHA-256 pass (164.312(c)(1))"


def test_bucket_role_from_the_stack_naming() -> None:
    assert bucket_role("demo-phi-photos-123456789012", "demo", "123456789012") == "photos", (
        "demo-phi-photos-123456789012: role taken from the stack's bucket naming"
    )
    assert bucket_role("unrelated", "demo", "123456789012") == "bucket", (
        "unrelated: a bucket outside the naming gets the generic role"
    )
