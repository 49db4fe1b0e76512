"""Teardown deletes only drill-tagged resources; ``cleanup_leftovers`` removes what a killed drill left.

A source must never be modified or deleted (164.308(a)(7)(ii)(A)); a leftover copy of PHI must not
outlive its drill (164.310(d)(2)(iv)). Runs against moto's RDS, EC2, S3 and tagging APIs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.config import load_stack
from scripts import paths
from scripts.drill.cleanup import (
    BUCKET,
    DB_INSTANCE,
    SECURITY_GROUP,
    Created,
    RefusedDelete,
    delete_one,
    drill_name,
    require_drill_tag,
)
from scripts.drill.engine import cleanup_leftovers
from scripts.drill.model import DRILL_TAG_KEY, drill_tags
from tests.scripts.drill.drill_support import Account, fake_aws, seeded_account

KILLED = "d20261123t101500z-a1b2c3"


@pytest.fixture
def account() -> Iterator[Account]:
    config = load_stack(paths.stacks_dir(), "demo")
    with fake_aws(config.region):
        yield seeded_account(config)


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _leave_a_killed_drill(account: Account, drill_id: str = KILLED, spa: str = "demo") -> dict[str, str]:
    """What a drill killed with -9 leaves: a restored copy (deletion protection on), its SG, a bucket."""
    tags = _tag_list(drill_tags(drill_id, spa))
    ec2 = account.client("ec2")
    group = ec2.create_security_group(
        GroupName=drill_name(drill_id, "db"),
        Description="left by a killed drill",
        VpcId=account.seed.vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": tags}],
    )["GroupId"]
    rds = account.client("rds")
    instance = drill_name(drill_id, "db")
    rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier=instance,
        DBSnapshotIdentifier=account.seed.snapshot_id,
        DBSubnetGroupName=f"{spa}-phi-db-isolated",
        VpcSecurityGroupIds=[group],
        PubliclyAccessible=False,
        DeletionProtection=True,
        Tags=tags,
    )
    s3 = account.client("s3")
    bucket = drill_name(drill_id, "documents")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="synthetic/a.txt", Body=b"FAKE one")
    s3.put_object(Bucket=bucket, Key="synthetic/a.txt", Body=b"FAKE two")
    s3.delete_object(Bucket=bucket, Key="synthetic/a.txt")
    return {"group": group, "instance": instance, "bucket": bucket}


def test_guard_refuses_a_resource_without_the_drill_tag() -> None:
    with pytest.raises(RefusedDelete, match="no medspa:drill-id tag"):
        require_drill_tag({"Spa": "demo", "ManagedBy": "medspa-kit"}, spa="demo", drill_id=None, resource="x")


def test_guard_refuses_another_spas_drill_resource() -> None:
    with pytest.raises(RefusedDelete, match="not tagged as a drill resource of demo"):
        require_drill_tag(drill_tags(KILLED, "other"), spa="demo", drill_id=None, resource="x")


def test_guard_refuses_another_drills_resource_during_a_drill() -> None:
    with pytest.raises(RefusedDelete, match="belongs to drill"):
        require_drill_tag(
            drill_tags(KILLED, "demo"), spa="demo", drill_id="d20270101t000000z-ffffff", resource="x"
        )


def test_guard_accepts_its_own_drill_resource() -> None:
    assert require_drill_tag(drill_tags(KILLED, "demo"), spa="demo", drill_id=KILLED, resource="x") == KILLED


@pytest.mark.parametrize("kind", [DB_INSTANCE, SECURITY_GROUP, BUCKET])
def test_delete_refuses_every_source_and_leaves_it_unchanged(account: Account, kind: str) -> None:
    """Even when asked directly, the delete path refuses a source: it has no drill tag."""
    before = account.state()
    ec2 = account.client("ec2")
    source_group = ec2.create_security_group(
        GroupName="demo-phi-db", Description="source", VpcId=account.seed.vpc_id
    )["GroupId"]
    identifier = {
        DB_INSTANCE: account.seed.db_identifier,
        SECURITY_GROUP: source_group,
        BUCKET: account.seed.buckets[0],
    }[kind]
    action = delete_one(
        account.session,
        Created(kind, account.config.region, identifier),
        spa="demo",
        drill_id=None,
        timeout_seconds=1,
        poll_seconds=0,
    )
    assert action.action == "refuse" and not action.ok, f"{kind} {identifier}: a source must never be deleted"
    assert account.state() == before, f"{kind} {identifier}: the source is unchanged (164.308(a)(7)(ii)(A))"
    assert ec2.describe_security_groups(GroupIds=[source_group])["SecurityGroups"], "source SG still there"


def test_cleanup_leftovers_removes_a_killed_drill(account: Account) -> None:
    before = account.state()
    left = _leave_a_killed_drill(account)
    actions = cleanup_leftovers(
        "demo", account.session, regions=[account.config.region, account.config.dr_region], poll_seconds=0
    )
    assert actions and all(a.ok for a in actions), f"every leftover removed: {actions}"
    assert account.drill_leftovers() == [], (
        f"a killed drill's copies of PHI must go (164.310(d)(2)(iv)): {left}"
    )
    assert account.state() == before, "sources untouched"


def test_cleanup_leftovers_leaves_another_spas_drill_alone(account: Account) -> None:
    ec2 = account.client("ec2")
    other = ec2.create_security_group(
        GroupName=drill_name(KILLED, "db"),
        Description="another spa's drill",
        VpcId=account.seed.vpc_id,
        TagSpecifications=[
            {"ResourceType": "security-group", "Tags": _tag_list(drill_tags(KILLED, "other"))}
        ],
    )["GroupId"]
    cleanup_leftovers("demo", account.session, regions=[account.config.region], poll_seconds=0)
    groups = ec2.describe_security_groups(Filters=[{"Name": f"tag:{DRILL_TAG_KEY}", "Values": [KILLED]}])
    assert [g["GroupId"] for g in groups["SecurityGroups"]] == [other], "only this spa's drills are cleaned"


def test_cleanup_leftovers_with_nothing_left_is_empty(account: Account) -> None:
    assert cleanup_leftovers("demo", account.session, regions=[account.config.region]) == []


def test_cleanup_leftovers_reads_both_regions_from_the_stack(account: Account) -> None:
    searched: list[str] = []

    def record_region(request: object, **_kw: object) -> None:
        searched.append(str(getattr(request, "url", "")))

    account.on("before-send.resource-groups-tagging-api.GetResources", record_region)
    cleanup_leftovers("demo", account.session)
    assert any(account.config.region in url for url in searched), "the primary region is swept"
    assert any(account.config.dr_region in url for url in searched), (
        "the DR region is swept (--from-dr-region)"
    )
