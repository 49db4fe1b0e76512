"""The drill engine against moto: a clean drill of each stack restores, verifies, times and cleans up.

moto implements the RDS snapshot restore and waiters, S3 versions, KMS, EC2 security groups and the
tagging API; AWS Backup's recovery-point API is not implemented in moto, so these runs take the
snapshot and object-version paths (the AWS Backup path is tested in test_drill_backup_path.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra.config import list_stacks, load_stack
from scripts import paths
from scripts.drill.engine import DrillOptions, run_drill
from scripts.drill.local import SYNTHETIC_OBJECTS
from scripts.drill.model import DRILL_TAG_KEY, Check, ResourceKind, Verdict
from scripts.errors import BadInput
from tests.scripts.drill.drill_support import Account, fake_aws, seeded_account

STACKS = list_stacks(paths.stacks_dir())


@pytest.fixture(params=STACKS, ids=STACKS)
def account(request: pytest.FixtureRequest) -> Iterator[Account]:
    config = load_stack(paths.stacks_dir(), request.param)
    with fake_aws(config.region):
        yield seeded_account(config)


def test_clean_drill_passes_for_database_and_every_phi_bucket(account: Account) -> None:
    record = account.drill()
    assert record.verdict is Verdict.PASS, (
        f"{account.config.spa}: a clean drill must PASS (164.308(a)(7)(ii)(D)): {record.failure_reasons()}"
    )
    kinds = [r.kind for r in record.resources]
    assert kinds.count(ResourceKind.DATABASE) == 1, "the PHI database is drilled"
    assert kinds.count(ResourceKind.BUCKET) == len(account.config.phi_buckets), "every PHI bucket is drilled"


def test_drill_leaves_nothing_behind_and_never_changes_a_source(account: Account) -> None:
    before = account.state()
    record = account.drill()
    assert record.cleanup and all(c.ok for c in record.cleanup), f"cleanup: {record.cleanup}"
    assert account.drill_leftovers() == [], (
        "a drill must delete every copy of PHI it made (164.310(d)(2)(iv)); left behind"
    )
    assert account.state() == before, "a drill must never modify a source resource (164.308(a)(7)(ii)(A))"


def test_database_copy_is_verified_encrypted_private_and_isolated(account: Account) -> None:
    record = account.drill(kinds=frozenset({ResourceKind.DATABASE}))
    (db,) = record.resources
    checks = {c.name: c for c in db.checks}
    assert checks["encrypted with the expected key"].passed, (
        "the copy is under the data key (164.312(a)(2)(iv))"
    )
    assert account.seed.data_key_arn in checks["encrypted with the expected key"].detail
    assert checks["not publicly accessible"].passed, "the copy is not public (164.312(e)(1))"
    assert checks["isolated subnets, no-ingress security group"].passed, "isolated network (164.312(a)(1))"
    assert db.recovery_point_arn and ":snapshot:" in db.recovery_point_arn, "the newest RDS snapshot is used"
    assert db.restored and db.restored.startswith(f"medspa-drill-{record.drill_id}-"), db.restored


def test_restore_request_keeps_the_copy_private_in_the_isolated_subnets(account: Account) -> None:
    seen: list[dict[str, Any]] = []
    account.on(
        "provide-client-params.rds.RestoreDBInstanceFromDBSnapshot",
        lambda params, **_kw: seen.append(dict(params)),
    )
    record = account.drill(kinds=frozenset({ResourceKind.DATABASE}))
    assert len(seen) == 1, "one restore per database"
    params = seen[0]
    assert params["PubliclyAccessible"] is False, "restore request: not public (164.312(e)(1))"
    assert params["DBSubnetGroupName"] == f"{account.config.spa}-phi-db-isolated", "isolated subnets"
    assert len(params["VpcSecurityGroupIds"]) == 1, "only the drill security group (164.312(a)(1))"
    tags = {t["Key"]: t["Value"] for t in params["Tags"]}
    assert tags[DRILL_TAG_KEY] == record.drill_id, "the copy carries the drill tag, so cleanup finds it"


def test_drill_security_group_has_no_ingress_and_no_egress(account: Account) -> None:
    groups: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_kw: Any) -> None:
        ec2 = account.client("ec2")
        groups.extend(ec2.describe_security_groups(GroupIds=[params["GroupId"]])["SecurityGroups"])

    account.on("provide-client-params.ec2.DeleteSecurityGroup", capture)
    account.drill(kinds=frozenset({ResourceKind.DATABASE}))
    assert len(groups) == 1, "one drill security group, deleted at the end"
    assert groups[0]["IpPermissions"] == [], "the drill security group must have no ingress (164.312(a)(1))"
    assert groups[0]["IpPermissionsEgress"] == [], "and no egress: the copy reaches nothing"


def test_bucket_copy_matches_source_manifest_and_is_locked_down(account: Account) -> None:
    record = account.drill(kinds=frozenset({ResourceKind.BUCKET}))
    assert record.resources, f"{account.config.spa}: every PHI bucket must be drilled, none was"
    for bucket in record.resources:
        checks = {c.name: c for c in bucket.checks}
        assert checks["manifest matches the source"].passed, (
            f"{bucket.source}: keys, sizes and SHA-256 must match (164.312(c)(1))"
        )
        assert checks["encrypted with the expected key"].passed, f"{bucket.source}: 164.312(a)(2)(iv)"
        assert checks["not publicly accessible"].passed, f"{bucket.source}: 164.312(a)(1)"


def test_point_in_time_copy_holds_the_version_current_at_recovery_time(account: Account) -> None:
    """The seed writes a second version of one object; the copy must hold exactly one object per key."""
    copied: list[dict[str, Any]] = []
    account.on("provide-client-params.s3.CopyObject", lambda params, **_kw: copied.append(dict(params)))
    record = account.drill(kinds=frozenset({ResourceKind.BUCKET}))
    per_bucket = len(SYNTHETIC_OBJECTS)
    assert len(copied) == per_bucket * len(record.resources), "one copy per key, not per version"
    assert copied, f"{account.config.spa}: the drill must copy each PHI bucket's objects, it copied none"
    assert all(c["CopySource"].get("VersionId") for c in copied), "copies name the exact source version"
    assert all(c["SSEKMSKeyId"] == account.seed.data_key_arn for c in copied), "copies under the data key"


def test_rto_and_rpo_are_measured_against_the_targets(account: Account) -> None:
    record = account.drill()
    assert record.targets.rto_minutes == account.config.rto_target_minutes
    assert record.targets.rpo_hours == account.config.rpo_target_hours
    assert record.resources, f"{account.config.spa}: the database and PHI buckets must be drilled, none was"
    for resource in record.resources:
        assert resource.rto_seconds is not None and resource.rto_seconds >= 0, (
            f"{resource.source}: RTO measured"
        )
        assert resource.rpo_seconds is not None and resource.rpo_seconds >= 0, (
            f"{resource.source}: RPO measured"
        )


def test_evidence_never_names_an_object_key(account: Account) -> None:
    record = account.drill()
    text = json.dumps(record.to_dict())
    for key in SYNTHETIC_OBJECTS:
        assert key not in text, "object keys may name patients: evidence holds counts and hashes only"


def test_resource_option_limits_the_drill(account: Account) -> None:
    record = account.drill(kinds=frozenset({ResourceKind.BUCKET}))
    assert {r.kind for r in record.resources} == {ResourceKind.BUCKET}, "--resource bucket: buckets only"


def test_operator_identity_and_account_are_recorded(account: Account) -> None:
    record = account.drill(kinds=frozenset({ResourceKind.BUCKET}))
    assert record.operator_arn.startswith("arn:aws:"), "who ran the drill is evidence"
    assert record.account_id == account.seed.account_id


def test_mismatched_spa_is_bad_input(account: Account) -> None:
    options = DrillOptions(spa="other-spa", config=account.config)
    with pytest.raises(BadInput):
        run_drill(options, account.session)


def test_empty_kinds_is_bad_input(account: Account) -> None:
    options = DrillOptions(spa=account.config.spa, config=account.config, kinds=frozenset())
    with pytest.raises(BadInput):
        run_drill(options, account.session)


QUERY = "SELECT count(*) FROM appointments"


def _with_query(account: Account) -> Any:
    return account.config.model_copy(update={"drill_validation_query": QUERY})


def test_configured_validation_query_runs_on_the_copy_endpoint(account: Account) -> None:
    endpoints: list[str] = []

    def runner(endpoint: str) -> Check:
        endpoints.append(endpoint)
        return Check("validation query", True, "appointments: 42 rows", "164.312(c)(1)")

    record = account.drill(
        kinds=frozenset({ResourceKind.DATABASE}), validate=runner, config=_with_query(account)
    )
    assert record.verdict is Verdict.PASS, record.failure_reasons()
    assert len(endpoints) == 1 and endpoints[0].startswith("medspa-drill-"), (
        "the copy is validated, never the source"
    )
    assert "appointments: 42 rows" in json.dumps(record.to_dict()), "the runner's counts are evidence"


def test_configured_query_without_a_runner_fails_instead_of_pretending(account: Account) -> None:
    record = account.drill(kinds=frozenset({ResourceKind.DATABASE}), config=_with_query(account))
    assert record.verdict is Verdict.FAIL
    assert "no query runner" in " ".join(record.failure_reasons()), (
        "unvalidated data is not PASS (164.312(c)(1))"
    )


def test_runner_error_is_reported_by_type_only(account: Account) -> None:
    def runner(_endpoint: str) -> Check:
        raise RuntimeError("row 17: Jane Doe, 1980-01-01")  # a driver error quoting data

    record = account.drill(
        kinds=frozenset({ResourceKind.DATABASE}), validate=runner, config=_with_query(account)
    )
    text = json.dumps(record.to_dict())
    assert record.verdict is Verdict.FAIL and "RuntimeError" in text
    assert "Jane Doe" not in text, "a runner's message may quote PHI: never in the evidence"
