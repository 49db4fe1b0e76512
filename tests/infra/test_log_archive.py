"""Log archive invariants for every bundled stack.

164.312(b) audit controls, 164.312(c)(1) integrity (Object Lock in COMPLIANCE mode), 164.316(b)(2)(i)
6-year retention, 164.312(a)(2)(iv) encryption with the logs key, 164.312(e)(1) TLS only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from infra.config import AUDIT_LOG_RETENTION_FLOOR_DAYS
from infra.log_archive import LogArchiveArgs
from scripts.synth import Synthesis
from tests.conftest import synth_stack
from tests.infra.audit_support import configures, log_archive_bucket, logs_key, stack_config
from tests.support import as_list, depends_on, policy_document, statements

OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
SERVICE_WRITERS = {"cloudtrail.amazonaws.com", "config.amazonaws.com"}


def _one_config(synthesis: Synthesis, type_token: str, section: str) -> dict[str, Any]:
    bucket = log_archive_bucket(synthesis)
    found = configures(synthesis, type_token, bucket)
    assert len(found) == 1, (
        f"{bucket.name}: exactly one {type_token.rsplit(':', 1)[-1]} expected, found {len(found)} ({section})"
    )
    return found[0].inputs


def _retention_days(default_retention: dict[str, Any]) -> int:
    days = default_retention.get("days")
    years = default_retention.get("years")
    return int(days) if days else int(years or 0) * 365


def test_object_lock_is_enabled_at_creation(stack_synthesis: Synthesis) -> None:
    bucket = log_archive_bucket(stack_synthesis)
    assert bucket.inputs.get("objectLockEnabled") is True, (
        f"{bucket.name}: Object Lock must be enabled when the bucket is created (164.312(c)(1))"
    )


def test_object_lock_is_compliance_mode(stack_synthesis: Synthesis) -> None:
    bucket = log_archive_bucket(stack_synthesis)
    lock = _one_config(stack_synthesis, OBJECT_LOCK, "164.312(c)(1)")
    retention = (lock.get("rule") or {}).get("defaultRetention") or {}
    assert retention.get("mode") == "COMPLIANCE", (
        f"{bucket.name}: default retention must be COMPLIANCE mode so nobody can shorten it, "
        f"got {retention.get('mode')!r} (164.312(c)(1))"
    )


def test_object_lock_retains_at_least_six_years(stack_synthesis: Synthesis) -> None:
    bucket = log_archive_bucket(stack_synthesis)
    lock = _one_config(stack_synthesis, OBJECT_LOCK, "164.316(b)(2)(i)")
    retention = (lock.get("rule") or {}).get("defaultRetention") or {}
    days = _retention_days(retention)
    wanted = max(AUDIT_LOG_RETENTION_FLOOR_DAYS, stack_config(stack_synthesis.spa).audit_log_retention_days)
    assert days >= wanted, (
        f"{bucket.name}: Object Lock default retention {days} days is below {wanted} (164.316(b)(2)(i))"
    )


def test_log_archive_is_versioned(stack_synthesis: Synthesis) -> None:
    bucket = log_archive_bucket(stack_synthesis)
    versioning = _one_config(stack_synthesis, VERSIONING, "164.312(c)(1)")
    status = (versioning.get("versioningConfiguration") or {}).get("status")
    assert status == "Enabled", f"{bucket.name}: versioning must be Enabled, got {status!r} (164.312(c)(1))"


def test_log_archive_is_encrypted_with_the_logs_key(stack_synthesis: Synthesis) -> None:
    bucket = log_archive_bucket(stack_synthesis)
    found = configures(stack_synthesis, ENCRYPTION, bucket)
    assert len(found) == 1, f"{bucket.name}: one encryption configuration expected (164.312(a)(2)(iv))"
    rules = as_list(found[0].inputs.get("rules"))
    defaults = [r.get("applyServerSideEncryptionByDefault") or {} for r in rules]
    assert defaults and all(d.get("sseAlgorithm") == "aws:kms" for d in defaults), (
        f"{bucket.name}: default encryption must be SSE-KMS (164.312(a)(2)(iv))"
    )
    assert all(r.get("bucketKeyEnabled") is True for r in rules), (
        f"{bucket.name}: S3 bucket keys must be on, to keep KMS calls per object down (164.312(a)(2)(iv))"
    )
    assert depends_on(found[0], logs_key(stack_synthesis), "rules"), (
        f"{bucket.name}: default encryption must use the logs customer-managed key (164.312(a)(2)(iv))"
    )


def test_log_archive_blocks_all_public_access(stack_synthesis: Synthesis) -> None:
    bucket = log_archive_bucket(stack_synthesis)
    block = _one_config(stack_synthesis, PUBLIC_ACCESS, "164.312(a)(1)")
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    off = [f for f in flags if block.get(f) is not True]
    assert not off, f"{bucket.name}: public access block must set all four flags, not {off} (164.312(a)(1))"


def test_log_archive_disables_acls(stack_synthesis: Synthesis) -> None:
    bucket = log_archive_bucket(stack_synthesis)
    ownership = _one_config(stack_synthesis, OWNERSHIP, "164.312(a)(1)")
    rule = ownership.get("rule") or {}
    assert rule.get("objectOwnership") == "BucketOwnerEnforced", (
        f"{bucket.name}: object ownership must be BucketOwnerEnforced (ACLs off) (164.312(a)(1))"
    )


def test_log_archive_is_tls_only(stack_synthesis: Synthesis) -> None:
    bucket = log_archive_bucket(stack_synthesis)
    policy = policy_document(_one_config(stack_synthesis, POLICY, "164.312(e)(1)").get("policy"))
    denies = [
        s
        for s in statements(policy)
        if s.get("Effect") == "Deny"
        and s.get("Principal") in ("*", {"AWS": "*"})
        and (s.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        and "s3:*" in as_list(s.get("Action"))
    ]
    covered = {str(r) for s in denies for r in as_list(s.get("Resource"))}
    assert any(r.endswith("/*") for r in covered) and any(not r.endswith("/*") for r in covered), (
        f"{bucket.name}: bucket policy must deny every request without TLS on the bucket and its "
        "objects (164.312(e)(1))"
    )


def test_log_archive_service_writers_are_limited_to_this_account(stack_synthesis: Synthesis) -> None:
    bucket = log_archive_bucket(stack_synthesis)
    policy = policy_document(_one_config(stack_synthesis, POLICY, "164.312(a)(1)").get("policy"))
    writers = [
        s
        for s in statements(policy)
        if s.get("Effect") == "Allow" and isinstance(s.get("Principal"), dict) and "Service" in s["Principal"]
    ]
    services = {svc for s in writers for svc in as_list(s["Principal"]["Service"])}
    assert services >= SERVICE_WRITERS, (
        f"{bucket.name}: CloudTrail and AWS Config must be allowed to deliver, found {sorted(services)} "
        "(164.312(b))"
    )
    for statement in writers:
        equals = (statement.get("Condition") or {}).get("StringEquals", {})
        assert equals.get("aws:SourceAccount"), (
            f"{bucket.name}: statement {statement.get('Sid')} must require aws:SourceAccount (164.312(a)(1))"
        )
        if "cloudtrail.amazonaws.com" in as_list(statement["Principal"]["Service"]):
            assert ":trail/" in str(equals.get("aws:SourceArn", "")), (
                f"{bucket.name}: statement {statement.get('Sid')} must name the trail in aws:SourceArn "
                "(164.312(a)(1))"
            )
        if "s3:PutObject" in as_list(statement.get("Action")):
            resources = [str(r) for r in as_list(statement.get("Resource"))]
            assert all("/AWSLogs/" in r for r in resources), (
                f"{bucket.name}: statement {statement.get('Sid')} must limit writes to a log prefix, "
                f"not {resources} (164.312(c)(1))"
            )


def test_log_archive_ages_into_cheaper_storage_without_expiring(stack_synthesis: Synthesis) -> None:
    bucket = log_archive_bucket(stack_synthesis)
    lifecycle = _one_config(stack_synthesis, LIFECYCLE, "164.316(b)(2)(i)")
    rules = [r for r in as_list(lifecycle.get("rules")) if r.get("status") == "Enabled"]
    classes = {t.get("storageClass") for r in rules for t in as_list(r.get("transitions"))}
    assert {"STANDARD_IA", "GLACIER"} <= classes, (
        f"{bucket.name}: logs should move to STANDARD_IA then GLACIER, found {sorted(map(str, classes))} "
        "(164.316(b)(2)(i))"
    )
    floor = stack_config(stack_synthesis.spa).audit_log_retention_days
    for rule in rules:
        for key in ("expiration", "noncurrentVersionExpiration"):
            expiry = rule.get(key)
            for entry in as_list(expiry):
                days = entry.get("days") or entry.get("noncurrentDays") or 0
                assert days >= floor, (
                    f"{bucket.name}: lifecycle rule {rule.get('id')} expires logs after {days} days, "
                    f"before the {floor}-day retention (164.316(b)(2)(i))"
                )


def test_log_archive_is_protected_from_deletion(stack_synthesis: Synthesis) -> None:
    bucket = log_archive_bucket(stack_synthesis)
    lock = configures(stack_synthesis, OBJECT_LOCK, bucket)
    for record in [bucket, *lock]:
        assert record.protect and record.retain_on_delete, (
            f"{record.name}: must be protected and retained on delete (164.316(b)(2)(i))"
        )


def test_log_archive_args_refuse_short_retention() -> None:
    with pytest.raises(ValueError, match=r"164\.316\(b\)\(2\)\(i\)"):
        LogArchiveArgs(kms_key_arn="arn", retention_days=365, trail_arn="arn")


# Negative controls: the invariants above fail on a weakened archive.


def _weakened(type_token: str, mutate: Callable[[dict[str, Any]], None]) -> Synthesis:
    synthesis = copy.deepcopy(synth_stack("demo"))
    for record in configures(synthesis, type_token, log_archive_bucket(synthesis)):
        mutate(record.inputs)
    return synthesis


def test_governance_mode_is_caught() -> None:
    weakened = _weakened(
        OBJECT_LOCK, lambda i: i.update(rule={"defaultRetention": {"mode": "GOVERNANCE", "days": 2192}})
    )
    with pytest.raises(AssertionError, match="COMPLIANCE"):
        test_object_lock_is_compliance_mode(weakened)


def test_one_year_lock_is_caught() -> None:
    weakened = _weakened(
        OBJECT_LOCK, lambda i: i.update(rule={"defaultRetention": {"mode": "COMPLIANCE", "days": 365}})
    )
    with pytest.raises(AssertionError, match=r"164\.316"):
        test_object_lock_retains_at_least_six_years(weakened)


def test_missing_tls_deny_is_caught() -> None:
    def drop_deny(inputs: dict[str, Any]) -> None:
        document = policy_document(inputs["policy"])
        document["Statement"] = [s for s in statements(document) if s.get("Effect") != "Deny"]
        inputs["policy"] = document

    with pytest.raises(AssertionError, match="TLS"):
        test_log_archive_is_tls_only(_weakened(POLICY, drop_deny))


def test_early_expiry_is_caught() -> None:
    def expire(inputs: dict[str, Any]) -> None:
        for rule in as_list(inputs["rules"]):
            rule["expiration"] = {"days": 400}

    with pytest.raises(AssertionError, match="expires logs"):
        test_log_archive_ages_into_cheaper_storage_without_expiring(_weakened(LIFECYCLE, expire))


def test_reads_of_the_archive_are_logged_to_the_access_log_bucket(stack_synthesis: Synthesis) -> None:
    archive = log_archive_bucket(stack_synthesis)
    found = configures(stack_synthesis, LOGGING, archive)
    access_logs = [
        b
        for b in stack_synthesis.of_type("aws:s3/bucket:Bucket")
        if (b.inputs.get("tags") or {}).get("Purpose") == "s3-server-access-logs"
    ]
    assert len(found) == 1 and len(access_logs) == 1, (
        f"{archive.name}: server access logging expected once, into the access-log bucket (164.312(b))"
    )
    assert depends_on(found[0], access_logs[0], "targetBucket") and found[0].inputs.get("targetPrefix") == (
        "log-archive/"
    ), f"{archive.name}: server access logs must go to {access_logs[0].name}/log-archive/ (164.312(b))"
