"""CKV_MEDSPA_101: every required security alarm exists on CloudTrail's log group and notifies someone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from policies.plan_checks.base import PLAN_ADDRESS, PlanCheck, PlanFinding, PlanView, Resource, blocks, first


@dataclass(frozen=True)
class AlarmRequirement:
    """An alarm the spa must have: a slug (as in infra/audit.py `alarms`) and the events that identify it.

    A metric filter matches when its pattern names ANY of `events` (case-insensitive, as a whole word),
    so a filter is recognised by its key CloudTrail event names whatever its exact syntax.
    """

    slug: str
    title: str
    events: tuple[str, ...]


REQUIRED_ALARMS: tuple[AlarmRequirement, ...] = (
    AlarmRequirement("root-usage", "root account usage", ("Root",)),
    AlarmRequirement(
        "unauthorized-api-calls", "unauthorized API calls", ("UnauthorizedOperation", "AccessDenied")
    ),
    AlarmRequirement("console-signin-without-mfa", "console sign-in without MFA", ("MFAUsed",)),
    AlarmRequirement(
        "console-signin-failures", "console sign-in failures", ("Failed authentication", "Failure")
    ),
    AlarmRequirement(
        "iam-policy-changes",
        "IAM policy changes",
        (
            "PutRolePolicy",
            "PutUserPolicy",
            "PutGroupPolicy",
            "AttachRolePolicy",
            "CreatePolicyVersion",
            "DeleteRolePolicy",
            "AttachUserPolicy",
            "CreatePolicy",
            "DeletePolicy",
        ),
    ),
    AlarmRequirement(
        "cloudtrail-changes", "CloudTrail changes", ("StopLogging", "DeleteTrail", "UpdateTrail")
    ),
    AlarmRequirement(
        "kms-key-disable-or-deletion", "KMS key disabling or deletion", ("DisableKey", "ScheduleKeyDeletion")
    ),
    AlarmRequirement(
        "s3-bucket-policy-changes", "S3 bucket policy changes", ("PutBucketPolicy", "DeleteBucketPolicy")
    ),
    AlarmRequirement(
        "security-group-changes",
        "security group changes",
        (
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "CreateSecurityGroup",
            "DeleteSecurityGroup",
        ),
    ),
    AlarmRequirement(
        "nacl-changes",
        "network ACL changes",
        (
            "CreateNetworkAcl",
            "CreateNetworkAclEntry",
            "DeleteNetworkAcl",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry",
            "ReplaceNetworkAclAssociation",
        ),
    ),
    AlarmRequirement(
        "route-table-changes",
        "route table changes",
        (
            "CreateRoute",
            "CreateRouteTable",
            "ReplaceRoute",
            "ReplaceRouteTableAssociation",
            "DeleteRouteTable",
            "DeleteRoute",
            "DisassociateRouteTable",
        ),
    ),
    AlarmRequirement(
        "network-gateway-changes",
        "network gateway changes",
        (
            "CreateCustomerGateway",
            "DeleteCustomerGateway",
            "AttachInternetGateway",
            "CreateInternetGateway",
            "DeleteInternetGateway",
            "DetachInternetGateway",
        ),
    ),
    AlarmRequirement(
        "vpc-changes",
        "VPC changes",
        (
            "CreateVpc",
            "DeleteVpc",
            "ModifyVpcAttribute",
            "AcceptVpcPeeringConnection",
            "CreateVpcPeeringConnection",
            "DeleteVpcPeeringConnection",
            "AttachClassicLinkVpc",
        ),
    ),
    AlarmRequirement(
        "config-changes",
        "AWS Config changes",
        (
            "StopConfigurationRecorder",
            "DeleteDeliveryChannel",
            "PutDeliveryChannel",
            "PutConfigurationRecorder",
            "DeleteConfigurationRecorder",
        ),
    ),
    AlarmRequirement("break-glass-use", "break-glass role use", ("break-glass",)),
    AlarmRequirement(
        "backup-deletion-attempts",
        "backup deletion attempts",
        (
            "DeleteRecoveryPoint",
            "DeleteBackupVault",
            "DeleteBackupPlan",
            "DeleteBackupVaultLockConfiguration",
            "UpdateRecoveryPointLifecycle",
        ),
    ),
)


def _pattern_matches(pattern: str, requirement: AlarmRequirement) -> bool:
    """Whether a filter pattern names one of the requirement's events (whole word, any case)."""
    for event in requirement.events:
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(event)}(?![A-Za-z0-9])", pattern, re.IGNORECASE):
            return True
    return False


def _matches(pattern: str, requirement: AlarmRequirement) -> bool:
    """Requirement-specific refinements on top of the event names."""
    lowered = pattern.lower()
    if requirement.slug == "root-usage":
        return "useridentity.type" in lowered and '"root"' in lowered
    if requirement.slug == "console-signin-without-mfa":
        return "consolelogin" in lowered and "mfaused" in lowered
    if requirement.slug == "console-signin-failures":
        return "consolelogin" in lowered and ("failed authentication" in lowered or "failure" in lowered)
    return _pattern_matches(pattern, requirement)


def trail_log_groups(view: PlanView) -> list[Resource]:
    """The log groups CloudTrail delivers to: those a trail's cloud_watch_logs_group_arn points at,
    else (no trail links one) log groups named *cloudtrail*."""
    groups = view.of_type("aws_cloudwatch_log_group")
    linked = [
        group
        for group in groups
        for trail in view.of_type("aws_cloudtrail")
        if view.refers_to(trail, "cloud_watch_logs_group_arn", group)
        or any(
            _arn_names_group(text, group)
            for text in view.attribute_strings(trail, "cloud_watch_logs_group_arn")
        )
    ]
    if linked:
        return list({g.address: g for g in linked}.values())
    return [g for g in groups if "cloudtrail" in str(g.get("name") or "").lower()]


def _arn_names_group(text: str, group: Resource) -> bool:
    name = group.get("name")
    return isinstance(name, str) and bool(name) and f":log-group:{name}" in text


def _metric(filter_: Resource) -> tuple[str, str] | None:
    for transformation in blocks(filter_.get("metric_transformation")):
        name, namespace = first(transformation.get("name")), first(transformation.get("namespace"))
        if isinstance(name, str) and isinstance(namespace, str):
            return name, namespace
    return None


def _has_actions(alarm: Resource) -> bool:
    if alarm.get("actions_enabled") is False:
        return False
    return any(isinstance(a, str) and a for a in _flat(alarm.get("alarm_actions")))


def _flat(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _flat(item)]
    return [] if value is None else [value]


class SecurityAlarmsExist(PlanCheck):
    id = "CKV_MEDSPA_101"
    name = "Ensure every required security alarm exists: a metric filter on CloudTrail's log group and an alarm with actions"
    hipaa = ("164.308(a)(1)(ii)(D)", "164.308(a)(5)(ii)(C)", "164.308(a)(6)(ii)", "164.312(b)")

    def run(self, plan: dict[str, Any]) -> list[PlanFinding]:
        view = PlanView(plan)
        groups = trail_log_groups(view)
        if not groups:
            return [
                self.failed(
                    PLAN_ADDRESS, "no CloudTrail log group in the plan, so no security alarm can exist"
                )
            ]
        filters = [
            f
            for group in groups
            for f in view.of_type("aws_cloudwatch_log_metric_filter")
            if view.refers_to(f, "log_group_name", group)
        ]
        alarms = view.of_type("aws_cloudwatch_metric_alarm")
        return [self._judge(requirement, filters, alarms) for requirement in REQUIRED_ALARMS]

    def _judge(
        self, requirement: AlarmRequirement, filters: list[Resource], alarms: list[Resource]
    ) -> PlanFinding:
        matching = [f for f in filters if _matches(str(first(f.get("pattern")) or ""), requirement)]
        if not matching:
            return self.failed(
                PLAN_ADDRESS,
                f"no metric filter on CloudTrail's log group for {requirement.title} ({requirement.slug})",
            )
        metrics = {m for m in (_metric(f) for f in matching) if m}
        watching = [a for a in alarms if (first(a.get("metric_name")), first(a.get("namespace"))) in metrics]
        with_actions = [a for a in watching if _has_actions(a)]
        if with_actions:
            return self.passed(
                with_actions[0].address, f"{requirement.title} alarm notifies {requirement.slug}"
            )
        if watching:
            return self.failed(watching[0].address, f"the {requirement.title} alarm has no alarm_actions")
        return self.failed(
            matching[0].address, f"metric filter for {requirement.title} has no alarm on its metric"
        )
