"""`--local`: the emulator runs on 127.0.0.1 only and is seeded like the stack deploys the spa.

The drill finds what it restores by tags, so the seed must carry the stack's tags exactly
(infra/context.py); PHI stores must be encrypted with the data key (164.312(a)(2)(iv)).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from infra.config import SpaConfig, load_stack
from infra.context import DataClassification, SpaContext
from scripts import paths
from scripts.drill.local import (
    FAKE_CREDENTIAL,
    SeededEnvironment,
    emulator,
    emulator_session,
    scoped_environment,
    seed_environment,
)


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[SpaConfig, SeededEnvironment, Any]]:
    config = load_stack(paths.stacks_dir(), "demo")
    with emulator(config.region) as endpoint:
        session = emulator_session(config.region)
        yield config, seed_environment(session, config, endpoint), session


def _expected_tags(config: SpaConfig, account_id: str, **extra: str) -> dict[str, str]:
    return SpaContext(config=config, account_id=account_id).tags(DataClassification.PHI, **extra)


def test_emulator_listens_on_loopback_and_restores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "someone-real")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://example.invalid")
    before = dict(os.environ)
    with emulator("us-east-1") as endpoint:
        assert endpoint.startswith("http://127.0.0.1:"), "the emulator must never listen beyond loopback"
        assert os.environ["AWS_ENDPOINT_URL"] == endpoint
        assert os.environ["AWS_ACCESS_KEY_ID"] == FAKE_CREDENTIAL, "fake credentials only"
        assert "127.0.0.1" in os.environ["NO_PROXY"], "the emulator is reached directly, never via a proxy"
        assert "AWS_PROFILE" not in os.environ and "AWS_ENDPOINT_URL_S3" not in os.environ, (
            "a real profile or service endpoint must not leak into the emulator run"
        )
    assert dict(os.environ) == before, "the process environment must be restored afterwards"


def test_scoped_environment_restores_even_on_error() -> None:
    before = dict(os.environ)
    with pytest.raises(RuntimeError), scoped_environment({"AWS_REGION": "eu-west-1"}):
        raise RuntimeError("boom")
    assert dict(os.environ) == before


def test_database_is_encrypted_private_and_tagged_like_the_stack(seeded: Any) -> None:
    config, seed, session = seeded
    db = session.client("rds").describe_db_instances(DBInstanceIdentifier=seed.db_identifier)["DBInstances"][
        0
    ]
    assert db["StorageEncrypted"] and db["KmsKeyId"] == seed.data_key_arn, (
        f"{seed.db_identifier}: encrypted with the data key (164.312(a)(2)(iv))"
    )
    assert db["PubliclyAccessible"] is False, f"{seed.db_identifier}: not public (164.312(e)(1))"
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == "demo-phi-db-isolated"
    assert (db["Engine"], db["DBInstanceClass"]) == (config.db_engine.value, config.db_instance_class)
    tags = {t["Key"]: t["Value"] for t in db["TagList"]}
    assert tags == _expected_tags(config, seed.account_id), (
        f"{seed.db_identifier}: tagged like infra/database.py"
    )


def test_database_has_a_snapshot_to_restore(seeded: Any) -> None:
    _, seed, session = seeded
    snapshots = session.client("rds").describe_db_snapshots(DBInstanceIdentifier=seed.db_identifier)[
        "DBSnapshots"
    ]
    assert seed.snapshot_id in {s["DBSnapshotIdentifier"] for s in snapshots}, (
        "the drill needs a recovery point"
    )


def test_phi_buckets_are_versioned_encrypted_blocked_and_tagged(seeded: Any) -> None:
    config, seed, session = seeded
    s3 = session.client("s3")
    assert len(seed.buckets) == len(config.phi_buckets)
    for bucket, role in zip(seed.buckets, config.phi_buckets, strict=True):
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled", f"{bucket}: versioned"
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        default = rule["ApplyServerSideEncryptionByDefault"]
        assert (default["SSEAlgorithm"], default["KMSMasterKeyID"]) == ("aws:kms", seed.data_key_arn), (
            f"{bucket}: SSE-KMS with the data key (164.312(a)(2)(iv))"
        )
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()), f"{bucket}: public access blocked (164.312(a)(1))"
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
        assert tags == _expected_tags(config, seed.account_id, Purpose=f"phi-{role}"), f"{bucket}: stack tags"


def test_bucket_objects_are_synthetic_with_an_older_version(seeded: Any) -> None:
    _, seed, session = seeded
    s3 = session.client("s3")
    bucket = seed.buckets[0]
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert all(v["Key"].startswith("synthetic/") for v in versions), "only obviously synthetic objects"
    for version in versions:
        body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
        assert b"SYNTHETIC" in body or b"FAKE" in body, f"{version['Key']}: must say it is fake, never PHI"
    keys = [v["Key"] for v in versions]
    assert len(keys) > len(set(keys)), "one object has two versions, so a point-in-time restore is tested"


def test_data_key_has_the_stack_alias(seeded: Any) -> None:
    _, seed, session = seeded
    key = session.client("kms").describe_key(KeyId="alias/demo/data")["KeyMetadata"]
    assert key["Arn"] == seed.data_key_arn and key["KeyState"] == "Enabled"


def test_drill_finds_the_protected_resources_by_tags(seeded: Any) -> None:
    """Part A's discovery filters Spa=<spa> and medspa:backup=phi; the seed must answer to it."""
    _, seed, session = seeded
    pages = session.client("resourcegroupstaggingapi").get_resources(
        TagFilters=[{"Key": "Spa", "Values": ["demo"]}, {"Key": "medspa:backup", "Values": ["phi"]}]
    )
    arns = {m["ResourceARN"] for m in pages["ResourceTagMappingList"]}
    assert f"arn:aws:rds:us-east-1:{seed.account_id}:db:{seed.db_identifier}" in arns
    assert {f"arn:aws:s3:::{b}" for b in seed.buckets} <= arns
