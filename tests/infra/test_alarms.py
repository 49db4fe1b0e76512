"""Security alarm invariants for every bundled stack.

164.308(a)(1)(ii)(D) information system activity review, 164.308(a)(5)(ii)(C) log-in monitoring,
164.312(a)(2)(ii) emergency access (break-glass use), 164.308(a)(7)(ii)(A) backup tampering: each event
has a metric filter on the CloudTrail log group and an alarm to the alert topic.
"""

from __future__ import annotations

import copy

import pytest

from infra.alarms import MAX_PATTERN_LENGTH
from scripts.synth import ResourceRecord, Synthesis
from tests.conftest import synth_stack
from tests.infra.audit_support import (
    ALARM,
    METRIC_FILTER,
    alert_topic,
    audit_resources,
    trail_log_group,
)
from tests.support import depends_on

# Written out here, not imported, so the test states the requirement independently of the code.
REQUIRED_ALARMS = (
    "root-usage",
    "unauthorized-api-calls",
    "console-signin-without-mfa",
    "console-signin-failures",
    "iam-policy-changes",
    "cloudtrail-changes",
    "kms-key-disable-or-deletion",
    "s3-bucket-policy-changes",
    "security-group-changes",
    "nacl-changes",
    "route-table-changes",
    "network-gateway-changes",
    "vpc-changes",
    "config-changes",
    "break-glass-use",
    "backup-deletion-attempts",
)

# What each filter must match: CIS AWS Foundations Benchmark (Security Hub CloudWatch.1-14) events.
REQUIRED_PATTERN_TERMS: dict[str, tuple[str, ...]] = {
    "root-usage": ('$.userIdentity.type = "Root"', "$.userIdentity.invokedBy NOT EXISTS", "AwsServiceEvent"),
    "unauthorized-api-calls": ("*UnauthorizedOperation", "AccessDenied*"),
    "console-signin-without-mfa": ("ConsoleLogin", '$.additionalEventData.MFAUsed != "Yes"'),
    "console-signin-failures": ("ConsoleLogin", "Failed authentication"),
    "iam-policy-changes": (
        "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
        "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
        "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy",
        "AttachGroupPolicy", "DetachGroupPolicy",
    ),
    "cloudtrail-changes": ("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"),
    "kms-key-disable-or-deletion": ("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"),
    "s3-bucket-policy-changes": (
        "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
        "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication",
    ),
    "security-group-changes": (
        "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup",
    ),
    "nacl-changes": (
        "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
        "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation",
    ),
    "route-table-changes": (
        "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
        "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable",
    ),
    "network-gateway-changes": (
        "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
        "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway",
    ),
    "vpc-changes": (
        "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
        "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
    ),
    "config-changes": (
        "config.amazonaws.com", "StopConfigurationRecorder", "DeleteDeliveryChannel",
        "PutDeliveryChannel", "PutConfigurationRecorder",
    ),
    "backup-deletion-attempts": (
        "backup.amazonaws.com", "DeleteRecoveryPoint", "DeleteBackupVault",
        "DeleteBackupVaultLockConfiguration", "PutBackupVaultAccessPolicy", "DeleteBackupPlan",
        "UpdateRecoveryPointLifecycle",
    ),
}  # fmt: skip


def _alarms(synthesis: Synthesis) -> dict[str, ResourceRecord]:
    return {str((a.inputs.get("tags") or {}).get("Alarm")): a for a in audit_resources(synthesis, ALARM)}


def _filter_for(synthesis: Synthesis, alarm: ResourceRecord) -> ResourceRecord:
    filters = [f for f in synthesis.of_type(METRIC_FILTER) if depends_on(alarm, f, "metricName")]
    assert len(filters) == 1, (
        f"{alarm.name}: alarm must take its metric from exactly one metric filter, found {len(filters)} "
        "(164.308(a)(1)(ii)(D))"
    )
    return filters[0]


def _pattern(synthesis: Synthesis, slug: str) -> str:
    alarm = _alarms(synthesis).get(slug)
    assert alarm is not None, f"{synthesis.spa}: no {slug} alarm (164.308(a)(1)(ii)(D))"
    return str(_filter_for(synthesis, alarm).inputs.get("pattern", ""))


def test_every_required_alarm_exists(stack_synthesis: Synthesis) -> None:
    missing = [slug for slug in REQUIRED_ALARMS if slug not in _alarms(stack_synthesis)]
    assert not missing, f"{stack_synthesis.spa}: security alarms missing: {missing} (164.308(a)(1)(ii)(D))"


def test_every_alarm_counts_a_metric_filter_on_the_trail_log_group(stack_synthesis: Synthesis) -> None:
    group = trail_log_group(stack_synthesis)
    for slug, alarm in _alarms(stack_synthesis).items():
        metric_filter = _filter_for(stack_synthesis, alarm)
        assert depends_on(metric_filter, group, "logGroupName"), (
            f"{metric_filter.name}: {slug} filter must read the CloudTrail log group (164.308(a)(1)(ii)(D))"
        )
        transformation = metric_filter.inputs.get("metricTransformation") or {}
        assert (transformation.get("name"), transformation.get("namespace")) == (
            alarm.inputs.get("metricName"),
            alarm.inputs.get("namespace"),
        ), f"{alarm.name}: alarm must watch the metric its filter publishes (164.308(a)(1)(ii)(D))"
        assert transformation.get("value") == "1", (
            f"{metric_filter.name}: each matching event must count 1 (164.308(a)(1)(ii)(D))"
        )


def test_every_alarm_notifies_the_alert_topic(stack_synthesis: Synthesis) -> None:
    topic = alert_topic(stack_synthesis)
    for slug, alarm in _alarms(stack_synthesis).items():
        assert (
            depends_on(alarm, topic, "alarmActions") and len(alarm.inputs.get("alarmActions") or []) >= 1
        ), f"{alarm.name}: {slug} alarm must notify the alert topic (164.308(a)(1)(ii)(D))"
        assert alarm.inputs.get("actionsEnabled") is not False, (
            f"{alarm.name}: alarm actions must be enabled (164.308(a)(1)(ii)(D))"
        )


def test_every_alarm_fires_on_the_first_event(stack_synthesis: Synthesis) -> None:
    expected = {
        "threshold": 1,
        "period": 300,
        "statistic": "Sum",
        "evaluationPeriods": 1,
        "comparisonOperator": "GreaterThanOrEqualToThreshold",
        "treatMissingData": "notBreaching",
    }
    for alarm in _alarms(stack_synthesis).values():
        actual = {k: alarm.inputs.get(k) for k in expected}
        assert actual == expected, (
            f"{alarm.name}: alarm must fire on one event in five minutes, got {actual} (164.308(a)(1)(ii)(D))"
        )


def test_filters_match_the_benchmark_events(stack_synthesis: Synthesis) -> None:
    for slug, terms in REQUIRED_PATTERN_TERMS.items():
        pattern = _pattern(stack_synthesis, slug)
        missing = [t for t in terms if t not in pattern]
        assert not missing, f"{slug}: filter pattern does not match {missing} (164.308(a)(1)(ii)(D))"


def test_break_glass_filter_matches_assume_role_and_use(stack_synthesis: Synthesis) -> None:
    role = f"{stack_synthesis.spa}-break-glass"
    pattern = _pattern(stack_synthesis, "break-glass-use")
    for term in ('"AssumeRole"', "$.requestParameters.roleArn", "$.userIdentity.arn"):
        assert term in pattern, f"break-glass-use: filter must match {term} (164.312(a)(2)(ii))"
    assert pattern.count(role) >= 2, (
        f"break-glass-use: filter must name the role {role} for both assuming and using it (164.312(a)(2)(ii))"
    )


def test_filter_patterns_are_well_formed(stack_synthesis: Synthesis) -> None:
    for metric_filter in audit_resources(stack_synthesis, METRIC_FILTER):
        pattern = str(metric_filter.inputs.get("pattern", ""))
        assert len(pattern) <= MAX_PATTERN_LENGTH, (
            f"{metric_filter.name}: pattern longer than CloudWatch's {MAX_PATTERN_LENGTH} characters "
            "(164.308(a)(1)(ii)(D))"
        )
        depth = 0
        for char in pattern:
            depth += {"(": 1, ")": -1}.get(char, 0)
            assert depth >= 0, f"{metric_filter.name}: unbalanced parentheses (164.308(a)(1)(ii)(D))"
        assert depth == 0 and pattern.startswith("{") and pattern.endswith("}"), (
            f"{metric_filter.name}: not a JSON filter pattern {{ ... }} (164.308(a)(1)(ii)(D))"
        )
        assert pattern.count('"') % 2 == 0, f"{metric_filter.name}: unbalanced quotes (164.308(a)(1)(ii)(D))"


# Negative controls: the invariants above fail when an alarm is weakened or removed.


def test_a_missing_alarm_is_caught() -> None:
    weakened = copy.deepcopy(synth_stack("demo"))
    weakened.resources = [
        r for r in weakened.resources if (r.inputs.get("tags") or {}).get("Alarm") != "break-glass-use"
    ]
    with pytest.raises(AssertionError, match="break-glass-use"):
        test_every_required_alarm_exists(weakened)


def test_an_alarm_without_the_topic_is_caught() -> None:
    weakened = copy.deepcopy(synth_stack("demo"))
    alarm = _alarms(weakened)["root-usage"]
    alarm.property_dependencies["alarmActions"] = []
    with pytest.raises(AssertionError, match="alert topic"):
        test_every_alarm_notifies_the_alert_topic(weakened)


def test_a_narrowed_filter_is_caught() -> None:
    weakened = copy.deepcopy(synth_stack("demo"))
    metric_filter = _filter_for(weakened, _alarms(weakened)["cloudtrail-changes"])
    metric_filter.inputs["pattern"] = '{ ($.eventName = "DeleteTrail") }'
    with pytest.raises(AssertionError, match="StopLogging"):
        test_filters_match_the_benchmark_events(weakened)
