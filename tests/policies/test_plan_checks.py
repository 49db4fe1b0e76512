"""Whole-plan checks (policies/plan_checks/): a complete small plan passes, each gap fails, absence fails."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from policies.plan_checks import ALL_PLAN_CHECKS
from policies.plan_checks.alarms import REQUIRED_ALARMS, SecurityAlarmsExist
from policies.plan_checks.base import PLAN_ADDRESS, PlanCheck, PlanFinding
from policies.plan_checks.coverage import (
    BackupVaultLockOnEveryVault,
    CloudTrailDataEventsCoverPhi,
    PhiBucketsTlsOnly,
    PhiBucketsUseCustomerManagedKey,
    TrailBucketObjectLock,
    TrailLogGroupRetention,
)
from policies.plan_checks.detection import ConfigRecorderEnabled, GuardDutyEnabled, SecurityHubEnabled

KEY = "arn:aws:kms:us-east-1:111122223333:key/abcd"
PHI_TAGS = {"DataClassification": "PHI", "medspa:backup": "phi"}

# A filter pattern per required slug, written as an operator would (CIS-style syntax).
PATTERNS = {
    "root-usage": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
    "unauthorized-api-calls": '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
    "console-signin-without-mfa": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
    "console-signin-failures": '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    "iam-policy-changes": "{ ($.eventName=DeleteRolePolicy) || ($.eventName=PutRolePolicy) || ($.eventName=CreatePolicy) }",
    "cloudtrail-changes": "{ ($.eventName = StopLogging) || ($.eventName = DeleteTrail) || ($.eventName = UpdateTrail) }",
    "kms-key-disable-or-deletion": "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }",
    "s3-bucket-policy-changes": "{ ($.eventName = PutBucketPolicy) || ($.eventName = DeleteBucketPolicy) }",
    "security-group-changes": "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = CreateSecurityGroup) }",
    "nacl-changes": "{ ($.eventName = CreateNetworkAcl) || ($.eventName = ReplaceNetworkAclEntry) }",
    "route-table-changes": "{ ($.eventName = CreateRoute) || ($.eventName = DeleteRouteTable) }",
    "network-gateway-changes": "{ ($.eventName = CreateCustomerGateway) || ($.eventName = AttachInternetGateway) }",
    "vpc-changes": "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) }",
    "config-changes": "{ ($.eventSource = config.amazonaws.com) && ($.eventName = StopConfigurationRecorder) }",
    "break-glass-use": '{ $.userIdentity.arn = "*:assumed-role/demo-break-glass/*" }',
    "backup-deletion-attempts": "{ ($.eventName = DeleteRecoveryPoint) || ($.eventName = DeleteBackupVault) }",
}


def res(type_: str, name_: str, /, **values: Any) -> dict[str, Any]:
    return {"address": f"{type_}.{name_}", "mode": "managed", "type": type_, "name": name_, "values": values}


def tls_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def good_plan() -> dict[str, Any]:
    """A small plan that satisfies every whole-plan check (module-nested, mixed values and references)."""
    audit = [
        res("aws_s3_bucket", "log_archive", bucket="demo-log-archive", object_lock_enabled=True),
        res(
            "aws_s3_bucket_object_lock_configuration",
            "log_archive_lock",
            bucket="aws_s3_bucket.log_archive.id",
            rule=[{"default_retention": [{"mode": "COMPLIANCE", "days": 2192}]}],
        ),
        res("aws_cloudwatch_log_group", "trail_logs", name="/medspa/demo/cloudtrail", retention_in_days=2192),
        res(
            "aws_cloudtrail",
            "trail",
            s3_bucket_name="demo-log-archive",
            cloud_watch_logs_group_arn="arn:aws:logs:us-east-1:111122223333:log-group:/medspa/demo/cloudtrail:*",
            event_selector=[
                {
                    "read_write_type": "All",
                    "data_resource": [
                        {"type": "AWS::S3::Object", "values": ["arn:aws:s3:::demo-phi-documents/"]}
                    ],
                }
            ],
        ),
        res("aws_sns_topic", "alerts", name="demo-alerts", kms_master_key_id=KEY),
    ]
    for slug, pattern in PATTERNS.items():
        ident = slug.replace("-", "_")
        audit.append(
            res(
                "aws_cloudwatch_log_metric_filter",
                f"filter_{ident}",
                log_group_name="aws_cloudwatch_log_group.trail_logs.name",
                pattern=pattern,
                metric_transformation=[{"name": slug, "namespace": "MedSpa/Security", "value": "1"}],
            )
        )
        audit.append(
            res(
                "aws_cloudwatch_metric_alarm",
                f"alarm_{ident}",
                metric_name=slug,
                namespace="MedSpa/Security",
                alarm_actions=["aws_sns_topic.alerts.arn"],
            )
        )
    storage = [
        res("aws_s3_bucket", "phi_documents", bucket="demo-phi-documents", tags=PHI_TAGS),
        res(
            "aws_s3_bucket_server_side_encryption_configuration",
            "phi_documents_sse",
            bucket="demo-phi-documents",
            rule=[
                {
                    "apply_server_side_encryption_by_default": [
                        {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}
                    ]
                }
            ],
        ),
        res(
            "aws_s3_bucket_policy",
            "phi_documents_policy",
            bucket="demo-phi-documents",
            policy=tls_policy("demo-phi-documents"),
        ),
    ]
    backups = [
        res("aws_backup_vault", "vault", name="demo-vault", kms_key_arn=KEY),
        res(
            "aws_backup_vault_lock_configuration",
            "vault_lock",
            backup_vault_name="demo-vault",
            min_retention_days=35,
        ),
        res("aws_backup_vault", "dr_vault", name="demo-dr-vault", kms_key_arn=KEY),
        res(
            "aws_backup_vault_lock_configuration",
            "dr_vault_lock",
            backup_vault_name="aws_backup_vault.dr_vault.name",
            min_retention_days=35,
        ),
    ]
    detection = [
        res("aws_guardduty_detector", "detector", enable=True),
        res("aws_securityhub_account", "hub"),
        res("aws_config_configuration_recorder", "recorder", name="demo-recorder"),
        res("aws_config_delivery_channel", "channel", name="demo-channel", s3_bucket_name="demo-log-archive"),
        res(
            "aws_config_configuration_recorder_status",
            "recorder_status",
            name="demo-recorder",
            is_enabled=True,
        ),
    ]

    def module(name: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        for item in items:
            item["address"] = f"module.{name}.{item['address']}"
        return {"address": f"module.{name}", "resources": items}

    return {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {
            "root_module": {
                "resources": detection,
                "child_modules": [
                    module("audit", audit),
                    module("storage", storage),
                    module("backups", backups),
                ],
            }
        },
    }


def find(plan: dict[str, Any], name: str) -> dict[str, Any]:
    root = plan["planned_values"]["root_module"]
    for resource in root["resources"] + [r for m in root["child_modules"] for r in m["resources"]]:
        if resource["name"] == name:
            return resource
    raise KeyError(name)


def remove(plan: dict[str, Any], *names: str) -> dict[str, Any]:
    plan = copy.deepcopy(plan)
    root = plan["planned_values"]["root_module"]
    root["resources"] = [r for r in root["resources"] if r["name"] not in names]
    for module in root["child_modules"]:
        module["resources"] = [r for r in module["resources"] if r["name"] not in names]
    return plan


def change(plan: dict[str, Any], name: str, **values: Any) -> dict[str, Any]:
    plan = copy.deepcopy(plan)
    find(plan, name)["values"].update(values)
    return plan


def failed(findings: list[PlanFinding]) -> list[PlanFinding]:
    return [f for f in findings if f.status == "failed"]


EMPTY_PLAN: dict[str, Any] = {"planned_values": {"root_module": {"resources": []}}}


# ------------------------------------------------------------------------------------------ contract


def test_plan_check_ids_are_unique_and_in_our_namespace() -> None:
    ids = [c.id for c in ALL_PLAN_CHECKS]
    assert len(ids) == len(set(ids)), f"duplicate plan check ids: {ids}"
    assert all(i.startswith("CKV_MEDSPA_") for i in ids), ids


@pytest.mark.parametrize("check", ALL_PLAN_CHECKS, ids=lambda c: c.id)
def test_plan_check_names_hipaa_sections(check: PlanCheck) -> None:
    assert check.hipaa and all(s.startswith("164.3") for s in check.hipaa), f"{check.id}: HIPAA sections"


@pytest.mark.parametrize("check", ALL_PLAN_CHECKS, ids=lambda c: c.id)
def test_complete_plan_passes_every_plan_check(check: PlanCheck) -> None:
    findings = check.run(good_plan())
    assert findings and not failed(findings), f"{check.id}: {failed(findings)}"


@pytest.mark.parametrize("check", ALL_PLAN_CHECKS, ids=lambda c: c.id)
def test_empty_plan_fails_at_address_plan(check: PlanCheck) -> None:
    findings = check.run(EMPTY_PLAN)
    assert findings and all(f.status == "failed" and f.address == PLAN_ADDRESS for f in findings), check.id


@pytest.mark.parametrize("check", ALL_PLAN_CHECKS, ids=lambda c: c.id)
def test_findings_carry_the_check_identity(check: PlanCheck) -> None:
    for finding in check.run(good_plan()):
        assert (finding.check_id, finding.check_name) == (check.id, check.name)


# -------------------------------------------------------------------------------------------- alarms


def test_alarms_cover_every_required_slug() -> None:
    findings = SecurityAlarmsExist().run(good_plan())
    assert len(findings) == len(REQUIRED_ALARMS) == len(PATTERNS), "one finding per required alarm"


@pytest.mark.parametrize("slug", sorted(PATTERNS))
def test_missing_metric_filter_fails_that_alarm(slug: str) -> None:
    plan = remove(good_plan(), f"filter_{slug.replace('-', '_')}")
    findings = failed(SecurityAlarmsExist().run(plan))
    assert [f.address for f in findings] == [PLAN_ADDRESS], f"{slug}: 164.308(a)(1)(ii)(D) alarm missing"
    assert slug in findings[0].message


def test_alarm_without_actions_fails() -> None:
    plan = change(good_plan(), "alarm_root_usage", alarm_actions=[])
    findings = failed(SecurityAlarmsExist().run(plan))
    assert [f.address for f in findings] == ["module.audit.aws_cloudwatch_metric_alarm.alarm_root_usage"]


def test_filter_without_alarm_fails() -> None:
    plan = remove(good_plan(), "alarm_break_glass_use")
    findings = failed(SecurityAlarmsExist().run(plan))
    assert [f.address for f in findings] == [
        "module.audit.aws_cloudwatch_log_metric_filter.filter_break_glass_use"
    ]


def test_filter_on_another_log_group_does_not_count() -> None:
    plan = change(good_plan(), "filter_cloudtrail_changes", log_group_name="/medspa/demo/vpc-flow-logs")
    assert len(failed(SecurityAlarmsExist().run(plan))) == 1, "filters must watch CloudTrail's log group"


def test_unrelated_pattern_does_not_count() -> None:
    plan = change(good_plan(), "filter_kms_key_disable_or_deletion", pattern='{ $.eventName = "CreateKey" }')
    assert len(failed(SecurityAlarmsExist().run(plan))) == 1


def test_no_trail_log_group_fails_alarms() -> None:
    plan = remove(good_plan(), "trail_logs")
    assert failed(SecurityAlarmsExist().run(plan))[0].address == PLAN_ADDRESS


# ----------------------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("check", "names"),
    [
        (GuardDutyEnabled(), ("detector",)),
        (SecurityHubEnabled(), ("hub",)),
        (ConfigRecorderEnabled(), ("recorder", "recorder_status", "channel")),
    ],
    ids=["guardduty", "securityhub", "config"],
)
def test_missing_detection_service_fails(check: PlanCheck, names: tuple[str, ...]) -> None:
    assert failed(check.run(remove(good_plan(), *names))), f"{check.id}: 164.308(a)(1)(ii)(D)"


@pytest.mark.parametrize(
    ("check", "names", "key"),
    [
        (GuardDutyEnabled(), ("detector",), "guardduty"),
        (SecurityHubEnabled(), ("hub",), "securityhub"),
        (ConfigRecorderEnabled(), ("recorder", "recorder_status", "channel"), "config"),
    ],
    ids=["guardduty", "securityhub", "config"],
)
def test_adopted_detection_service_passes(check: PlanCheck, names: tuple[str, ...], key: str) -> None:
    plan = remove(good_plan(), *names)
    plan["pulumi_stack"] = {"adopted": [key]}
    assert not failed(check.run(plan)), f"{check.id}: adopted {key} counts as on"


def test_adoption_does_not_excuse_a_disabled_detector() -> None:
    plan = change(good_plan(), "detector", enable=False)
    plan["pulumi_stack"] = {"adopted": ["guardduty"]}
    assert failed(GuardDutyEnabled().run(plan)), "a planned detector that is off fails even when adopted"


def test_config_recorder_not_started_fails() -> None:
    plan = change(good_plan(), "recorder_status", is_enabled=False)
    assert failed(ConfigRecorderEnabled().run(plan))


# -------------------------------------------------------------------------------------- data events


def test_phi_bucket_without_data_events_fails() -> None:
    plan = change(good_plan(), "trail", event_selector=[])
    assert [f.address for f in failed(CloudTrailDataEventsCoverPhi().run(plan))] == [
        "module.storage.aws_s3_bucket.phi_documents"
    ]


def test_read_only_data_events_fail() -> None:
    selector = {
        "read_write_type": "ReadOnly",
        "data_resource": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}],
    }
    findings = failed(
        CloudTrailDataEventsCoverPhi().run(change(good_plan(), "trail", event_selector=[selector]))
    )
    assert findings and "write" in findings[0].message


def test_advanced_selectors_for_all_s3_objects_pass() -> None:
    selector = {
        "name": "PHI object access",
        "field_selector": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::S3::Object"]},
        ],
    }
    plan = change(good_plan(), "trail", event_selector=[], advanced_event_selector=[selector])
    assert not failed(CloudTrailDataEventsCoverPhi().run(plan))


def test_advanced_selectors_for_another_bucket_fail() -> None:
    selector = {
        "field_selector": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::S3::Object"]},
            {"field": "resources.ARN", "starts_with": ["arn:aws:s3:::other-bucket/"]},
        ],
    }
    plan = change(good_plan(), "trail", event_selector=[], advanced_event_selector=[selector])
    assert failed(CloudTrailDataEventsCoverPhi().run(plan))


def test_data_events_by_reference_pass() -> None:
    selector = {
        "read_write_type": "All",
        "data_resource": [{"type": "AWS::S3::Object", "values": ["aws_s3_bucket.phi_documents.arn"]}],
    }
    assert not failed(
        CloudTrailDataEventsCoverPhi().run(change(good_plan(), "trail", event_selector=[selector]))
    )


# --------------------------------------------------------------------------------------- vault lock


def test_vault_without_lock_fails() -> None:
    findings = failed(BackupVaultLockOnEveryVault().run(remove(good_plan(), "dr_vault_lock")))
    assert [f.address for f in findings] == ["module.backups.aws_backup_vault.dr_vault"], (
        "164.308(a)(7)(ii)(A)"
    )


# ---------------------------------------------------------------------------------- PHI companions


def test_phi_bucket_without_encryption_config_fails() -> None:
    findings = failed(PhiBucketsUseCustomerManagedKey().run(remove(good_plan(), "phi_documents_sse")))
    assert [f.address for f in findings] == ["module.storage.aws_s3_bucket.phi_documents"], (
        "164.312(a)(2)(iv)"
    )


def test_phi_bucket_with_aws_managed_key_fails() -> None:
    rule = [
        {
            "apply_server_side_encryption_by_default": [
                {"sse_algorithm": "aws:kms", "kms_master_key_id": "alias/aws/s3"}
            ]
        }
    ]
    plan = change(good_plan(), "phi_documents_sse", rule=rule)
    assert failed(PhiBucketsUseCustomerManagedKey().run(plan)), "164.312(a)(2)(iv)"


def test_phi_bucket_without_policy_fails() -> None:
    findings = failed(PhiBucketsTlsOnly().run(remove(good_plan(), "phi_documents_policy")))
    assert [f.address for f in findings] == ["module.storage.aws_s3_bucket.phi_documents"], "164.312(e)(1)"


def test_phi_bucket_policy_without_tls_deny_fails() -> None:
    plan = change(good_plan(), "phi_documents_policy", policy=json.dumps({"Statement": []}))
    assert failed(PhiBucketsTlsOnly().run(plan)), "164.312(e)(1)"


def test_non_phi_bucket_needs_no_tls_policy_here() -> None:
    plan = remove(good_plan(), "phi_documents_policy")
    find(plan, "phi_documents")["values"]["tags"] = {"DataClassification": "Internal"}
    findings = PhiBucketsTlsOnly().run(plan)
    assert [f.address for f in findings] == [PLAN_ADDRESS], "no PHI bucket at all is itself a failure"


# ------------------------------------------------------------------------------------- trail storage


def test_log_archive_without_object_lock_fails() -> None:
    findings = failed(TrailBucketObjectLock().run(remove(good_plan(), "log_archive_lock")))
    assert [f.address for f in findings] == ["module.audit.aws_s3_bucket.log_archive"], "164.316(b)(2)(i)"


def test_log_archive_governance_lock_fails() -> None:
    plan = change(
        good_plan(), "log_archive_lock", rule=[{"default_retention": [{"mode": "GOVERNANCE", "days": 2192}]}]
    )
    assert failed(TrailBucketObjectLock().run(plan)), "164.312(c)(1)"


def test_log_archive_with_lock_disabled_fails() -> None:
    assert failed(TrailBucketObjectLock().run(change(good_plan(), "log_archive", object_lock_enabled=False)))


def test_trail_log_group_short_retention_fails() -> None:
    findings = failed(TrailLogGroupRetention().run(change(good_plan(), "trail_logs", retention_in_days=365)))
    assert [f.address for f in findings] == ["module.audit.aws_cloudwatch_log_group.trail_logs"], (
        "164.316(b)(2)(i)"
    )
