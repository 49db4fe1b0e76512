"""Security alarms on the CloudTrail log group: a metric filter and an alarm per event a spa must notice.

164.308(a)(1)(ii)(D) information system activity review and 164.308(a)(5)(ii)(C) log-in monitoring:
nobody reads every CloudTrail record, so the events that signal misuse or tampering raise an alarm to
the alert topic within five minutes. The classic patterns are those of the CIS AWS Foundations
Benchmark (Security Hub controls CloudWatch.1-14); break-glass use (164.312(a)(2)(ii)) and backup
tampering (164.308(a)(7)(ii)(A)) are this kit's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.context import DataClassification, SpaContext

MAX_PATTERN_LENGTH = 1024  # CloudWatch Logs' limit on a filter pattern
ALARM_PERIOD_SECONDS = 300
ALARM_THRESHOLD = 1

BACKUP_TAMPERING_EVENTS = (
    "DeleteRecoveryPoint",
    "DeleteBackupVault",
    "DeleteBackupVaultLockConfiguration",
    "PutBackupVaultAccessPolicy",
    "DeleteBackupVaultAccessPolicy",
    "DeleteBackupPlan",
    "DeleteBackupSelection",
    "UpdateRecoveryPointLifecycle",
)


@dataclass(frozen=True)
class SecurityEvent:
    """One thing to alarm on: a slug (resource names, `.alarms` key), a filter pattern and why."""

    slug: str
    metric: str
    pattern: str
    description: str
    hipaa: str


def _any_event(names: Iterable[str]) -> str:
    return " || ".join(f'($.eventName = "{n}")' for n in names)


def break_glass_pattern(role_name: str) -> str:
    """Assuming the break-glass role, or anything done with it (console sign-in included)."""
    return (
        f'{{ (($.eventName = "AssumeRole") && ($.requestParameters.roleArn = "*{role_name}*")) '
        f'|| ($.userIdentity.arn = "*{role_name}*") }}'
    )


def security_events(break_glass_role_name: str) -> tuple[SecurityEvent, ...]:
    """Every alarm the kit creates, in a stable order."""
    activity = "164.308(a)(1)(ii)(D)"
    transmission = "164.312(e)(1)"
    return (
        SecurityEvent(
            "root-usage",
            "RootAccountUsage",
            '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
            '&& $.eventType != "AwsServiceEvent" }',
            "The account root user was used",
            f"{activity}, 164.312(a)(1)",
        ),
        SecurityEvent(
            "unauthorized-api-calls",
            "UnauthorizedApiCalls",
            '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
            "API calls were refused for lack of permission",
            f"{activity}, 164.308(a)(5)(ii)(C)",
        ),
        SecurityEvent(
            "console-signin-without-mfa",
            "ConsoleSigninWithoutMfa",
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
            '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
            "Someone signed in to the console without MFA",
            "164.312(d), 164.308(a)(5)(ii)(C)",
        ),
        SecurityEvent(
            "console-signin-failures",
            "ConsoleSigninFailures",
            '{ ($.eventName = "ConsoleLogin") && ($.errorMessage = "Failed authentication") }',
            "Console sign-in failed",
            "164.308(a)(5)(ii)(C)",
        ),
        SecurityEvent(
            "iam-policy-changes",
            "IamPolicyChanges",
            "{ "
            + _any_event(
                (
                    "DeleteGroupPolicy",
                    "DeleteRolePolicy",
                    "DeleteUserPolicy",
                    "PutGroupPolicy",
                    "PutRolePolicy",
                    "PutUserPolicy",
                    "CreatePolicy",
                    "DeletePolicy",
                    "CreatePolicyVersion",
                    "DeletePolicyVersion",
                    "AttachRolePolicy",
                    "DetachRolePolicy",
                    "AttachUserPolicy",
                    "DetachUserPolicy",
                    "AttachGroupPolicy",
                    "DetachGroupPolicy",
                )
            )
            + " }",
            "An IAM policy was created, changed, attached or detached",
            "164.308(a)(4), 164.308(a)(3)",
        ),
        SecurityEvent(
            "cloudtrail-changes",
            "CloudTrailChanges",
            "{ "
            + _any_event(("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"))
            + " }",
            "A CloudTrail trail was created, changed, deleted, started or stopped",
            "164.312(b)",
        ),
        SecurityEvent(
            "kms-key-disable-or-deletion",
            "KmsKeyDisableOrDeletion",
            '{ ($.eventSource = "kms.amazonaws.com") && '
            "(" + _any_event(("DisableKey", "ScheduleKeyDeletion")) + ") }",
            "A KMS key was disabled or scheduled for deletion",
            "164.312(a)(2)(iv)",
        ),
        SecurityEvent(
            "s3-bucket-policy-changes",
            "S3BucketPolicyChanges",
            '{ ($.eventSource = "s3.amazonaws.com") && ('
            + _any_event(
                (
                    "PutBucketAcl",
                    "PutBucketPolicy",
                    "PutBucketCors",
                    "PutBucketLifecycle",
                    "PutBucketReplication",
                    "DeleteBucketPolicy",
                    "DeleteBucketCors",
                    "DeleteBucketLifecycle",
                    "DeleteBucketReplication",
                )
            )
            + ") }",
            "An S3 bucket policy, ACL, CORS, lifecycle or replication changed",
            "164.312(a)(1)",
        ),
        SecurityEvent(
            "security-group-changes",
            "SecurityGroupChanges",
            "{ "
            + _any_event(
                (
                    "AuthorizeSecurityGroupIngress",
                    "AuthorizeSecurityGroupEgress",
                    "RevokeSecurityGroupIngress",
                    "RevokeSecurityGroupEgress",
                    "CreateSecurityGroup",
                    "DeleteSecurityGroup",
                )
            )
            + " }",
            "A security group was created, changed or deleted",
            transmission,
        ),
        SecurityEvent(
            "nacl-changes",
            "NetworkAclChanges",
            "{ "
            + _any_event(
                (
                    "CreateNetworkAcl",
                    "CreateNetworkAclEntry",
                    "DeleteNetworkAcl",
                    "DeleteNetworkAclEntry",
                    "ReplaceNetworkAclEntry",
                    "ReplaceNetworkAclAssociation",
                )
            )
            + " }",
            "A network ACL was created, changed or deleted",
            transmission,
        ),
        SecurityEvent(
            "route-table-changes",
            "RouteTableChanges",
            '{ ($.eventSource = "ec2.amazonaws.com") && ('
            + _any_event(
                (
                    "CreateRoute",
                    "CreateRouteTable",
                    "ReplaceRoute",
                    "ReplaceRouteTableAssociation",
                    "DeleteRouteTable",
                    "DeleteRoute",
                    "DisassociateRouteTable",
                )
            )
            + ") }",
            "A route or route table changed (a way out of the isolated subnets?)",
            transmission,
        ),
        SecurityEvent(
            "network-gateway-changes",
            "NetworkGatewayChanges",
            "{ "
            + _any_event(
                (
                    "CreateCustomerGateway",
                    "DeleteCustomerGateway",
                    "AttachInternetGateway",
                    "CreateInternetGateway",
                    "DeleteInternetGateway",
                    "DetachInternetGateway",
                )
            )
            + " }",
            "An internet or customer gateway was created, attached, detached or deleted",
            transmission,
        ),
        SecurityEvent(
            "vpc-changes",
            "VpcChanges",
            "{ "
            + _any_event(
                (
                    "CreateVpc",
                    "DeleteVpc",
                    "ModifyVpcAttribute",
                    "AcceptVpcPeeringConnection",
                    "CreateVpcPeeringConnection",
                    "DeleteVpcPeeringConnection",
                    "RejectVpcPeeringConnection",
                    "AttachClassicLinkVpc",
                    "DetachClassicLinkVpc",
                    "DisableVpcClassicLink",
                    "EnableVpcClassicLink",
                )
            )
            + " }",
            "A VPC or VPC peering connection was created, changed or deleted",
            transmission,
        ),
        SecurityEvent(
            "config-changes",
            "AwsConfigChanges",
            '{ ($.eventSource = "config.amazonaws.com") && ('
            + _any_event(
                (
                    "StopConfigurationRecorder",
                    "DeleteDeliveryChannel",
                    "PutDeliveryChannel",
                    "PutConfigurationRecorder",
                )
            )
            + ") }",
            "AWS Config recording or delivery changed",
            activity,
        ),
        SecurityEvent(
            "break-glass-use",
            "BreakGlassUse",
            break_glass_pattern(break_glass_role_name),
            f"The emergency-access role {break_glass_role_name} was assumed or used",
            "164.312(a)(2)(ii)",
        ),
        SecurityEvent(
            "backup-deletion-attempts",
            "BackupDeletionAttempts",
            '{ ($.eventSource = "backup.amazonaws.com") && (' + _any_event(BACKUP_TAMPERING_EVENTS) + ") }",
            "Someone tried to delete or shorten backups, vaults, vault locks or plans",
            "164.308(a)(7)(ii)(A), 164.310(d)(2)(iv)",
        ),
    )


REQUIRED_ALARMS: tuple[str, ...] = tuple(e.slug for e in security_events("break-glass"))


@dataclass(frozen=True)
class SecurityAlarmsArgs:
    """Where the CloudTrail records arrive, where alarms go, and the break-glass role's IAM name."""

    log_group_name: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    namespace: str
    break_glass_role_name: str


class SecurityAlarms(pulumi.ComponentResource):
    """A metric filter and an alarm (threshold 1 in 5 minutes, to the alert topic) per security event."""

    metric_filters: dict[str, aws.cloudwatch.LogMetricFilter]
    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(
        self,
        name: str,
        args: SecurityAlarmsArgs,
        ctx: SpaContext,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("medspa:alarms:SecurityAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.metric_filters = {}
        self.alarms = {}
        for event in security_events(args.break_glass_role_name):
            if len(event.pattern) > MAX_PATTERN_LENGTH:
                raise ValueError(f"{event.slug}: filter pattern exceeds {MAX_PATTERN_LENGTH} characters")
            metric_filter = aws.cloudwatch.LogMetricFilter(
                f"{name}-{event.slug}-filter",
                name=ctx.name(event.slug),
                log_group_name=args.log_group_name,
                pattern=event.pattern,
                metric_transformation={
                    "name": event.metric,
                    "namespace": args.namespace,
                    "value": "1",
                    "default_value": "0",
                },
                opts=child,
            )
            transformation = metric_filter.metric_transformation
            self.alarms[event.slug] = aws.cloudwatch.MetricAlarm(
                f"{name}-{event.slug}-alarm",
                name=ctx.name(f"security-{event.slug}"),
                alarm_description=f"{event.description} ({event.hipaa})",
                metric_name=transformation.name,
                namespace=transformation.namespace,
                statistic="Sum",
                period=ALARM_PERIOD_SECONDS,
                evaluation_periods=1,
                threshold=ALARM_THRESHOLD,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[args.alert_topic_arn],
                actions_enabled=True,
                tags=ctx.tags(DataClassification.AUDIT, Alarm=event.slug),
                opts=child,
            )
            self.metric_filters[event.slug] = metric_filter
        self.register_outputs({"alarmArns": {slug: alarm.arn for slug, alarm in self.alarms.items()}})
