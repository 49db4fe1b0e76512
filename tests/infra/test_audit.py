"""Audit trail invariants for every bundled stack.

164.312(b) audit controls: a multi-region trail with global events, management events and S3 data
events (read and write) on every PHI bucket, delivered to the locked archive and to CloudWatch Logs.
164.312(c)(1) integrity: log file validation. 164.312(a)(2)(iv): encrypted with the logs key.
164.316(b)(2)(i): the trail's log group kept 6 years; every log group kept at least a year.
"""

from __future__ import annotations

import copy

import pytest

from infra.audit import AuditTrailArgs
from infra.config import AUDIT_LOG_RETENTION_FLOOR_DAYS, LOG_RETENTION_FLOOR_DAYS
from scripts.synth import Synthesis
from tests.conftest import synth_stack
from tests.infra.audit_support import (
    KEY,
    LOG_GROUP,
    bucket_arn,
    log_archive_bucket,
    logs_key,
    phi_buckets,
    stack_config,
    trail,
    trail_log_group,
)
from tests.support import as_list, depends_on, policy_document, statements

S3_OBJECT = "AWS::S3::Object"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def _selectors(synthesis: Synthesis) -> list[dict[str, object]]:
    return [s for s in as_list(trail(synthesis).inputs.get("eventSelectors")) if isinstance(s, dict)]


def test_trail_covers_every_region_and_global_services(stack_synthesis: Synthesis) -> None:
    record = trail(stack_synthesis)
    assert record.inputs.get("isMultiRegionTrail") is True, (
        f"{record.name}: the trail must record every region (164.312(b))"
    )
    assert record.inputs.get("includeGlobalServiceEvents") is True, (
        f"{record.name}: the trail must record global services such as IAM and STS (164.312(b))"
    )
    assert record.inputs.get("enableLogging") is not False, f"{record.name}: logging must be on (164.312(b))"


def test_trail_validates_log_files(stack_synthesis: Synthesis) -> None:
    record = trail(stack_synthesis)
    assert record.inputs.get("enableLogFileValidation") is True, (
        f"{record.name}: log file validation (signed digests) must be on (164.312(c)(1))"
    )


def test_trail_is_encrypted_with_the_logs_key(stack_synthesis: Synthesis) -> None:
    record = trail(stack_synthesis)
    assert record.inputs.get("kmsKeyId") and depends_on(record, logs_key(stack_synthesis), "kmsKeyId"), (
        f"{record.name}: the trail must be encrypted with the logs customer-managed key (164.312(a)(2)(iv))"
    )


def test_trail_delivers_to_the_log_archive(stack_synthesis: Synthesis) -> None:
    record = trail(stack_synthesis)
    archive = log_archive_bucket(stack_synthesis)
    assert depends_on(record, archive, "s3BucketName"), (
        f"{record.name}: the trail must deliver to the Object Lock log archive {archive.name} (164.312(c)(1))"
    )
    policies = [
        p
        for p in stack_synthesis.of_type(BUCKET_POLICY)
        if archive.urn in p.property_dependencies.get("bucket", [])
    ]
    assert policies and all(p.urn in record.dependencies for p in policies), (
        f"{record.name}: the trail must wait for the archive's bucket policy, or its first delivery fails "
        "(164.312(b))"
    )


def test_trail_delivers_to_cloudwatch_logs(stack_synthesis: Synthesis) -> None:
    record = trail(stack_synthesis)
    group = trail_log_group(stack_synthesis)
    assert str(record.inputs.get("cloudWatchLogsGroupArn", "")).endswith(":*"), (
        f"{record.name}: CloudTrail needs the log group ARN with its ':*' stream wildcard (164.312(b))"
    )
    roles = [r for r in stack_synthesis.of_type(ROLE) if depends_on(record, r, "cloudWatchLogsRoleArn")]
    assert len(roles) == 1, f"{record.name}: CloudWatch delivery needs its own IAM role (164.312(b))"
    for statement in statements(policy_document(roles[0].inputs.get("assumeRolePolicy"))):
        assert statement.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}, (
            f"{roles[0].name}: only CloudTrail may assume the delivery role (164.312(a)(1))"
        )
        assert (statement.get("Condition") or {}).get("StringEquals", {}).get("aws:SourceAccount"), (
            f"{roles[0].name}: trust must require aws:SourceAccount (164.312(a)(1))"
        )
    grants = [
        p
        for p in stack_synthesis.of_type(ROLE_POLICY)
        if depends_on(p, roles[0], "role") and depends_on(p, group, "policy")
    ]
    assert grants, f"{roles[0].name}: the role must be allowed to write to {group.name} (164.312(b))"


def test_trail_records_management_events_read_and_write(stack_synthesis: Synthesis) -> None:
    record = trail(stack_synthesis)
    management = [
        s
        for s in _selectors(stack_synthesis)
        if s.get("includeManagementEvents") is not False and s.get("readWriteType", "All") == "All"
    ]
    assert management, f"{record.name}: management events, read and write, must be recorded (164.312(b))"


def test_trail_records_s3_data_events_on_every_phi_bucket(stack_synthesis: Synthesis) -> None:
    record = trail(stack_synthesis)
    buckets = phi_buckets(stack_synthesis)
    configured = stack_config(stack_synthesis.spa).phi_buckets
    assert len(buckets) == len(configured), (
        f"{stack_synthesis.spa}: expected {len(configured)} PHI buckets ({', '.join(configured)}), found "
        f"{len(buckets)}; the trail cannot be checked against the storage component (164.312(b))"
    )
    recorded = {
        str(value)
        for selector in _selectors(stack_synthesis)
        if selector.get("readWriteType", "All") == "All"
        for resource in as_list(selector.get("dataResources"))
        if resource.get("type") == S3_OBJECT
        for value in as_list(resource.get("values"))
    }
    for bucket in buckets:
        assert depends_on(record, bucket, "eventSelectors") and f"{bucket_arn(bucket)}/" in recorded, (
            f"{record.name}: reads and writes of objects in PHI bucket {bucket.name} must be recorded as "
            "S3 data events (164.312(b))"
        )


def test_trail_is_protected_from_deletion(stack_synthesis: Synthesis) -> None:
    record = trail(stack_synthesis)
    assert record.protect and record.retain_on_delete, (
        f"{record.name}: the trail must be protected from deletion (164.312(b))"
    )


def test_every_log_group_is_encrypted_with_a_customer_managed_key(stack_synthesis: Synthesis) -> None:
    keys = stack_synthesis.of_type(KEY)
    groups = stack_synthesis.of_type(LOG_GROUP)
    assert groups, f"{stack_synthesis.spa}: no log groups at all (164.312(b))"
    for group in groups:
        assert group.inputs.get("kmsKeyId") and any(depends_on(group, k, "kmsKeyId") for k in keys), (
            f"{group.name}: log group must be encrypted with a customer-managed KMS key (164.312(a)(2)(iv))"
        )


def test_every_log_group_is_kept_at_least_a_year(stack_synthesis: Synthesis) -> None:
    for group in stack_synthesis.of_type(LOG_GROUP):
        days = group.inputs.get("retentionInDays")
        assert isinstance(days, int) and days >= LOG_RETENTION_FLOOR_DAYS, (
            f"{group.name}: retention {days} days is below the {LOG_RETENTION_FLOOR_DAYS}-day floor "
            "(164.312(b))"
        )


def test_every_log_group_is_protected_from_deletion(stack_synthesis: Synthesis) -> None:
    for group in stack_synthesis.of_type(LOG_GROUP):
        assert group.protect and group.retain_on_delete, (
            f"{group.name}: log group must be protected and retained on delete (164.316(b)(2)(i))"
        )


def test_trail_log_group_is_kept_six_years_under_the_logs_key(stack_synthesis: Synthesis) -> None:
    group = trail_log_group(stack_synthesis)
    days = group.inputs.get("retentionInDays")
    wanted = max(AUDIT_LOG_RETENTION_FLOOR_DAYS, stack_config(stack_synthesis.spa).audit_log_retention_days)
    assert isinstance(days, int) and days >= wanted, (
        f"{group.name}: the trail's log group keeps {days} days, below {wanted} (164.316(b)(2)(i))"
    )
    assert depends_on(group, logs_key(stack_synthesis), "kmsKeyId"), (
        f"{group.name}: the trail's log group must use the logs key (164.312(a)(2)(iv))"
    )


def test_audit_args_refuse_short_retention() -> None:
    with pytest.raises(ValueError, match=r"164\.316\(b\)\(2\)\(i\)"):
        AuditTrailArgs(
            logs_key_arn="arn", alert_topic_arn="arn", phi_bucket_arns=["arn"], audit_log_retention_days=731
        )


def test_audit_args_refuse_no_phi_buckets() -> None:
    with pytest.raises(ValueError, match=r"164\.312\(b\)"):
        AuditTrailArgs(
            logs_key_arn="arn", alert_topic_arn="arn", phi_bucket_arns=[], audit_log_retention_days=2192
        )


# Negative controls: the invariants above fail on a weakened trail or log group.


def _weakened_trail(key: str, value: object) -> Synthesis:
    synthesis = copy.deepcopy(synth_stack("demo"))
    trail(synthesis).inputs[key] = value
    return synthesis


def test_single_region_trail_is_caught() -> None:
    with pytest.raises(AssertionError, match="every region"):
        test_trail_covers_every_region_and_global_services(_weakened_trail("isMultiRegionTrail", False))


def test_trail_without_validation_is_caught() -> None:
    with pytest.raises(AssertionError, match="validation"):
        test_trail_validates_log_files(_weakened_trail("enableLogFileValidation", False))


def test_a_phi_bucket_left_out_of_data_events_is_caught() -> None:
    synthesis = copy.deepcopy(synth_stack("demo"))
    selectors = trail(synthesis).inputs["eventSelectors"]
    for selector in selectors:
        for resource in as_list(selector.get("dataResources")):
            resource["values"] = as_list(resource.get("values"))[1:]
    with pytest.raises(AssertionError, match="S3 data events"):
        test_trail_records_s3_data_events_on_every_phi_bucket(synthesis)


def test_write_only_data_events_are_caught() -> None:
    synthesis = copy.deepcopy(synth_stack("demo"))
    for selector in trail(synthesis).inputs["eventSelectors"]:
        selector["readWriteType"] = "WriteOnly"
    with pytest.raises(AssertionError, match="S3 data events"):
        test_trail_records_s3_data_events_on_every_phi_bucket(synthesis)


def test_unencrypted_log_group_is_caught() -> None:
    synthesis = copy.deepcopy(synth_stack("demo"))
    group = trail_log_group(synthesis)
    group.inputs.pop("kmsKeyId")
    group.property_dependencies.pop("kmsKeyId", None)
    with pytest.raises(AssertionError, match="customer-managed"):
        test_every_log_group_is_encrypted_with_a_customer_managed_key(synthesis)


def test_short_trail_log_retention_is_caught() -> None:
    synthesis = copy.deepcopy(synth_stack("demo"))
    trail_log_group(synthesis).inputs["retentionInDays"] = 731
    with pytest.raises(AssertionError, match=r"164\.316"):
        test_trail_log_group_is_kept_six_years_under_the_logs_key(synthesis)
