"""Preflight: where the Pulumi state lives and, for an S3 bucket, that it is private, versioned, encrypted (moto)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.config import SpaConfig
from scripts.preflight.backend import (
    ENCRYPTED_ITEM,
    ITEM,
    PRIVATE_ITEM,
    VERSIONED_ITEM,
    check_backend,
    resolve_backend,
)
from scripts.preflight.model import CheckResult, Status
from tests.scripts.preflight_support import (
    aws_fixture,  # noqa: F401
    context,
    only,
    stack_config_fixture,  # noqa: F401
)

BUCKET = "harbor-pulumi-state"
FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def make_bucket(
    config: SpaConfig, *, private: bool = True, versioned: bool = True, encryption: str | None = "aws:kms"
) -> None:
    s3 = boto3.client("s3", region_name=config.region)
    if config.region == "us-east-1":
        s3.create_bucket(Bucket=BUCKET)
    else:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": config.region})
    if private:
        s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=dict.fromkeys(FLAGS, True))
    if versioned:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    if encryption is not None:
        default: dict[str, Any] = {"SSEAlgorithm": encryption}
        if encryption == "aws:kms":
            default["KMSMasterKeyID"] = "alias/pulumi-state"
        s3.put_bucket_encryption(
            Bucket=BUCKET,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]},
        )


def backend(config: SpaConfig, url: str | None = f"s3://{BUCKET}") -> list[CheckResult]:
    return check_backend(context(config, backend_url=url, backend_source="--backend-url"))


def test_option_wins_over_environment_and_login(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text(json.dumps({"current": "s3://from-login"}))
    found = resolve_backend("s3://from-option", {"PULUMI_BACKEND_URL": "s3://from-env"}, tmp_path)
    assert found == ("s3://from-option", "--backend-url"), f"backend: {found}"


def test_environment_wins_over_login(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text(json.dumps({"current": "s3://from-login"}))
    found = resolve_backend(None, {"PULUMI_BACKEND_URL": "s3://from-env"}, tmp_path)
    assert found == ("s3://from-env", "PULUMI_BACKEND_URL"), f"backend: {found}"


def test_login_current_is_read_from_pulumi_home(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text(json.dumps({"current": "s3://from-login", "accounts": {}}))
    found = resolve_backend(None, {"PULUMI_HOME": str(tmp_path)})
    assert found == ("s3://from-login", "pulumi login"), f"backend: {found}"


def test_no_backend_anywhere_is_none(tmp_path: Path) -> None:
    assert resolve_backend(None, {}, tmp_path) == (None, ""), "backend: nothing configured"


def test_private_versioned_kms_bucket_is_ok(aws: None, stack_config: SpaConfig) -> None:
    make_bucket(stack_config)
    results = backend(stack_config)
    assert [r.status for r in results] == [Status.OK] * 4, f"{ITEM}: {results}"


def test_unversioned_bucket_fails(aws: None, stack_config: SpaConfig) -> None:
    make_bucket(stack_config, versioned=False)
    result = only(backend(stack_config), VERSIONED_ITEM)
    assert result.status is Status.FAIL, f"{VERSIONED_ITEM}: state history (164.312(c)(1)): {result}"
    assert "put-bucket-versioning" in result.action, f"{VERSIONED_ITEM}: says how to fix: {result.action}"


def test_sse_s3_bucket_warns_prefer_kms(aws: None, stack_config: SpaConfig) -> None:
    make_bucket(stack_config, encryption="AES256")
    result = only(backend(stack_config), ENCRYPTED_ITEM)
    assert result.status is Status.WARN and "SSE-KMS" in result.action, (
        f"{ENCRYPTED_ITEM} (164.312(a)(2)(iv)): {result}"
    )


def test_unencrypted_bucket_fails(aws: None, stack_config: SpaConfig) -> None:
    make_bucket(stack_config, encryption=None)
    result = only(backend(stack_config), ENCRYPTED_ITEM)
    assert result.status is Status.FAIL, (
        f"{ENCRYPTED_ITEM}: no default encryption (164.312(a)(2)(iv)): {result}"
    )


def test_bucket_without_public_access_block_fails(aws: None, stack_config: SpaConfig) -> None:
    make_bucket(stack_config, private=False)
    result = only(backend(stack_config), PRIVATE_ITEM)
    assert result.status is Status.FAIL, f"{PRIVATE_ITEM}: must block public access (164.312(a)(1)): {result}"
    assert f"put-public-access-block --bucket {BUCKET}" in result.action, f"{PRIVATE_ITEM}: {result.action}"


def test_account_wide_block_makes_the_bucket_private(aws: None, stack_config: SpaConfig) -> None:
    make_bucket(stack_config, private=False)
    boto3.client("s3control", region_name="us-east-1").put_public_access_block(
        AccountId="123456789012", PublicAccessBlockConfiguration=dict.fromkeys(FLAGS, True)
    )
    result = only(backend(stack_config), PRIVATE_ITEM)
    assert result.status is Status.OK, f"{PRIVATE_ITEM}: the account-wide block covers it: {result}"


def test_public_bucket_policy_fails(aws: None, stack_config: SpaConfig) -> None:
    """Every public access block flag on: only the bucket policy (Principal "*") makes the bucket public.

    The policy is put before the block (AWS refuses a new public policy once BlockPublicPolicy is on);
    without the IsPublic check the block alone would make this OK.
    """
    make_bucket(stack_config, private=False)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            }
        ],
    }
    s3 = boto3.client("s3", region_name=stack_config.region)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=dict.fromkeys(FLAGS, True))
    result = only(backend(stack_config), PRIVATE_ITEM)
    assert result.status is Status.FAIL and "public" in result.detail, (
        f"{PRIVATE_ITEM} (164.312(a)(1)): {result}"
    )
    assert "bucket policy that makes it public" in result.detail, (
        f"{PRIVATE_ITEM}: s3://{BUCKET} must fail on its public bucket policy, not the access block "
        f"(164.312(a)(1)): {result.detail}"
    )
    assert f"delete-bucket-policy --bucket {BUCKET}" in result.action, (
        f"{PRIVATE_ITEM}: s3://{BUCKET}: must say how to remove the public policy: {result.action}"
    )


def test_missing_bucket_fails(aws: None, stack_config: SpaConfig) -> None:
    result = only(backend(stack_config), ITEM)
    assert result.status is Status.FAIL and "does not exist" in result.detail, f"{ITEM}: {result}"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (None, Status.WARN),
        ("file://./pulumi-state", Status.WARN),
        ("https://api.pulumi.com", Status.OK),
    ],
    ids=["none", "local-files", "pulumi-cloud"],
)
def test_other_backends_are_reported_not_inspected(
    stack_config: SpaConfig, url: str | None, status: Status
) -> None:
    result = only(backend(stack_config, url), ITEM)
    assert result.status is status and result.action, f"{ITEM}: {url}: {result}"
