"""The Pulumi state backend: where the state lives, and, for an S3 bucket, that it is kept safe.

The state names every resource of the spa and holds its secrets (encrypted by the stack's secrets
provider): it must be private, versioned so a bad write can be undone, and encrypted with a KMS key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.exceptions import ClientError

from scripts.preflight.account import account_public_access_block, flags_off
from scripts.preflight.errors import error_code
from scripts.preflight.model import CheckResult, PreflightContext, Status

ITEM = "Pulumi state backend"
PRIVATE_ITEM = "State bucket private"
VERSIONED_ITEM = "State bucket versioned"
ENCRYPTED_ITEM = "State bucket encrypted"
PULUMI_CLOUD_HOSTS = frozenset({"api.pulumi.com", "app.pulumi.com"})
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})


def resolve_backend(
    option: str | None, environ: Mapping[str, str] | None = None, home: Path | None = None
) -> tuple[str | None, str]:
    """(url, where it came from): --backend-url, else PULUMI_BACKEND_URL, else `pulumi login`'s current."""
    environ = os.environ if environ is None else environ
    if option:
        return option, "--backend-url"
    if environ.get("PULUMI_BACKEND_URL"):
        return environ["PULUMI_BACKEND_URL"], "PULUMI_BACKEND_URL"
    pulumi_home = home or Path(environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    try:
        current = json.loads((pulumi_home / "credentials.json").read_text(encoding="utf-8")).get("current")
    except (OSError, ValueError, AttributeError):
        return None, ""
    return (str(current), "pulumi login") if current else (None, "")


def check_backend(ctx: PreflightContext) -> list[CheckResult]:
    url = ctx.backend_url
    if not url:
        return [
            CheckResult(
                ITEM,
                Status.WARN,
                "none configured (no --backend-url, PULUMI_BACKEND_URL or `pulumi login`)",
                "create a private, versioned, KMS-encrypted S3 bucket in the spa's account and "
                "`pulumi login s3://BUCKET` (docs/runbook.md), then run preflight again",
            )
        ]
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "s3":
        return _check_bucket(ctx, parts.netloc, parse_qs(parts.query).get("region", [None])[0])
    if scheme == "file":
        return [
            CheckResult(
                ITEM,
                Status.WARN,
                f"local files ({ctx.backend_source}): not shared, no history, lost with this machine",
                "use an S3 bucket in the spa's account: `pulumi login s3://BUCKET`",
            )
        ]
    if scheme == "https" and (parts.hostname or "") in PULUMI_CLOUD_HOSTS:
        return [
            CheckResult(
                ITEM,
                Status.OK,
                "Pulumi Cloud: the service keeps history and encrypts state; preflight does not inspect it",
                "limit the Pulumi organization to the contractor's team; stack secrets stay encrypted with "
                "the spa's KMS key",
            )
        ]
    return [
        CheckResult(
            ITEM,
            Status.WARN,
            f"{scheme or 'unknown'} backend ({ctx.backend_source}): preflight checks only S3 backends",
            "check by hand that it is private, versioned and encrypted, or use `pulumi login s3://BUCKET`",
        )
    ]


def _check_bucket(ctx: PreflightContext, bucket: str, region: str | None) -> list[CheckResult]:
    s3 = ctx.client("s3", region or ctx.config.region)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchBucket"):
            return [
                CheckResult(
                    ITEM,
                    Status.FAIL,
                    f"s3://{bucket} does not exist",
                    "create it (docs/runbook.md) or point --backend-url / PULUMI_BACKEND_URL at the right bucket",
                )
            ]
        raise
    results = [CheckResult(ITEM, Status.OK, f"s3://{bucket} ({ctx.backend_source})")]
    results.append(_private(ctx, s3, bucket))
    results.append(_versioned(s3, bucket))
    results.append(_encrypted(s3, bucket))
    return results


def _private(ctx: PreflightContext, s3: Any, bucket: str) -> CheckResult:
    hipaa = "164.312(a)(1)"
    try:
        status = s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]
        public_policy = bool(status.get("IsPublic"))
    except ClientError as error:
        if error_code(error) != "NoSuchBucketPolicy":
            raise
        public_policy = False
    if public_policy:
        return CheckResult(
            PRIVATE_ITEM,
            Status.FAIL,
            f"s3://{bucket} has a bucket policy that makes it public",
            f"remove the public statements: `aws s3api get-bucket-policy --bucket {bucket}`, then "
            f"`aws s3api put-bucket-policy` (or `delete-bucket-policy --bucket {bucket}`)",
            hipaa,
        )
    try:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as error:
        if error_code(error) != "NoSuchPublicAccessBlockConfiguration":
            raise
        block = {}
    off = flags_off(block)
    if off:
        try:
            account = account_public_access_block(ctx)
            if not flags_off(account.get("PublicAccessBlockConfiguration")):
                off = []  # the account-wide block covers the bucket
        except ClientError:
            pass  # no account-wide block (or not readable): the bucket's own flags decide
    if off:
        return CheckResult(
            PRIVATE_ITEM,
            Status.FAIL,
            f"s3://{bucket}: public access block off ({', '.join(off)})",
            f"`aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration "
            "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true`",
            hipaa,
        )
    return CheckResult(PRIVATE_ITEM, Status.OK, "public access blocked, no public policy", hipaa=hipaa)


def _versioned(s3: Any, bucket: str) -> CheckResult:
    hipaa = "164.312(c)(1)"
    status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    if status == "Enabled":
        return CheckResult(VERSIONED_ITEM, Status.OK, "versioning enabled", hipaa=hipaa)
    return CheckResult(
        VERSIONED_ITEM,
        Status.FAIL,
        f"s3://{bucket}: versioning {status or 'never enabled'}; a bad write to the state cannot be undone",
        f"`aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled`",
        hipaa,
    )


def _encrypted(s3: Any, bucket: str) -> CheckResult:
    hipaa = "164.312(a)(2)(iv)"
    fix = (
        f"`aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration "
        '\'{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms",'
        '"KMSMasterKeyID":"alias/YOUR-STATE-KEY"},"BucketKeyEnabled":true}]}\'`'
    )
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError as error:
        if error_code(error) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        rules = []
    algorithms = {str(r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm", "")) for r in rules}
    if algorithms & KMS_ALGORITHMS:
        return CheckResult(ENCRYPTED_ITEM, Status.OK, "SSE-KMS", hipaa=hipaa)
    if "AES256" in algorithms:
        return CheckResult(
            ENCRYPTED_ITEM,
            Status.WARN,
            f"s3://{bucket}: SSE-S3 only; use of the key is neither logged nor limited to the spa's people",
            "prefer SSE-KMS with a customer managed key: " + fix,
            hipaa,
        )
    return CheckResult(
        ENCRYPTED_ITEM, Status.FAIL, f"s3://{bucket}: no default encryption", "turn on SSE-KMS: " + fix, hipaa
    )
