"""The audit trail: CloudTrail of every region into the locked log archive and CloudWatch Logs, with alarms.

164.312(b) audit controls: management events and S3 data events (read and write) on every PHI bucket,
from every region, global services included. 164.312(c)(1) integrity: log file validation (signed
digests) and the Object Lock archive. 164.316(b)(2)(i): 6 years of retention in both copies.
164.308(a)(1)(ii)(D): metric filters and alarms on the CloudWatch copy (infra/alarms.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.alarms import SecurityAlarms, SecurityAlarmsArgs
from infra.config import AUDIT_LOG_RETENTION_FLOOR_DAYS
from infra.context import DataClassification, SpaContext
from infra.log_archive import CLOUDTRAIL_PREFIX, LogArchive, LogArchiveArgs

S3_OBJECT = "AWS::S3::Object"


def trail_arn(partition: str, region: str, account_id: str, trail_name: str) -> str:
    """The trail's ARN, known before the trail exists so policies can name that trail alone."""
    return f"arn:{partition}:cloudtrail:{region}:{account_id}:trail/{trail_name}"


def cloudtrail_logs_trust_policy(account_id: str, source_trail: str) -> str:
    """Only CloudTrail, delivering this account's trail, may assume the delivery role."""
    statement = {
        "Sid": "CloudTrailForThisTrail",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": source_trail},
        },
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def cloudtrail_logs_delivery_policy(log_group_arn: str) -> str:
    """Write the trail's log streams in its one log group, nothing else (164.308(a)(4))."""
    statement = {
        "Sid": "WriteTrailLogStreams",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{log_group_arn}:log-stream:*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def data_resource_values(bucket_arns: Sequence[str]) -> list[str]:
    """`arn:aws:s3:::bucket/` selects every object of the bucket for data events."""
    return [f"{arn.rstrip('/')}/" for arn in bucket_arns]


@dataclass(frozen=True)
class AuditTrailArgs:
    """The logs key, the alert topic, the PHI buckets whose object access is recorded, and retention.

    `phi_bucket_arns` must list every bucket that holds PHI: reads and writes of their objects are
    recorded as S3 data events (164.312(b)); an empty list is refused, since it would record no PHI
    access at all. `audit_log_retention_days` (at least 2192, 6 years) applies to the trail's log group
    and to the archive's Object Lock (164.316(b)(2)(i)).
    """

    logs_key_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    phi_bucket_arns: Sequence[pulumi.Input[str]]
    audit_log_retention_days: int
    access_log_bucket: pulumi.Input[str] | None = None  # receives the log archive's server access logs
    metric_namespace: str | None = None  # default: medspa/<spa>/security

    def __post_init__(self) -> None:
        if not self.phi_bucket_arns:
            raise ValueError("phi_bucket_arns is empty: no PHI object access would be recorded (164.312(b))")
        if self.audit_log_retention_days < AUDIT_LOG_RETENTION_FLOOR_DAYS:
            raise ValueError(
                f"audit log retention {self.audit_log_retention_days} is below the "
                f"{AUDIT_LOG_RETENTION_FLOOR_DAYS}-day floor (164.316(b)(2)(i))"
            )


class AuditTrail(pulumi.ComponentResource):
    """A multi-region, validated, KMS-encrypted trail with a locked S3 copy, a CloudWatch copy and alarms."""

    log_archive: LogArchive
    log_archive_bucket: aws.s3.Bucket
    trail_log_group: aws.cloudwatch.LogGroup
    trail_logs_role: aws.iam.Role
    trail: aws.cloudtrail.Trail
    security_alarms: SecurityAlarms
    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(
        self, name: str, args: AuditTrailArgs, ctx: SpaContext, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medspa:audit:AuditTrail", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(ctx.account_id)
        trail_name = ctx.name("trail")
        source_trail = account.apply(lambda acct: trail_arn(ctx.partition, ctx.region, acct, trail_name))

        self.log_archive = LogArchive(
            f"{name}-archive",
            LogArchiveArgs(
                kms_key_arn=args.logs_key_arn,
                retention_days=args.audit_log_retention_days,
                trail_arn=source_trail,
                access_log_bucket=args.access_log_bucket,
            ),
            ctx,
            opts=child,
        )
        self.log_archive_bucket = self.log_archive.bucket

        # The CloudWatch copy, for alarms and quick queries: logs key, 6 years, never deleted by accident.
        self.trail_log_group = aws.cloudwatch.LogGroup(
            f"{name}-trail-logs",
            name=f"/medspa/{ctx.spa}/cloudtrail",
            kms_key_id=args.logs_key_arn,
            retention_in_days=args.audit_log_retention_days,
            log_group_class="STANDARD",  # metric filters need the standard class
            deletion_protection_enabled=True,
            tags=ctx.tags(DataClassification.AUDIT, Purpose="cloudtrail"),
            opts=ctx.keep(pulumi.ResourceOptions(parent=self)),
        )
        self.trail_logs_role = aws.iam.Role(
            f"{name}-trail-logs-role",
            name=ctx.name("cloudtrail-logs"),
            description="Lets CloudTrail write this spa's trail to its log group, and nothing else",
            assume_role_policy=pulumi.Output.all(account, source_trail).apply(
                lambda values: cloudtrail_logs_trust_policy(values[0], values[1])
            ),
            tags=ctx.tags(DataClassification.AUDIT),
            opts=child,
        )
        delivery = aws.iam.RolePolicy(
            f"{name}-trail-logs-delivery",
            name="deliver-trail-to-log-group",
            role=self.trail_logs_role.id,
            policy=self.trail_log_group.arn.apply(cloudtrail_logs_delivery_policy),
            opts=child,
        )

        # Management events (read and write) plus every read and write of a PHI object (164.312(b)).
        event_selector: aws.cloudtrail.TrailEventSelectorArgsDict = {
            "read_write_type": "All",
            "include_management_events": True,
            "data_resources": [
                {
                    "type": S3_OBJECT,
                    "values": pulumi.Output.all(*args.phi_bucket_arns).apply(data_resource_values),
                }
            ],
        }
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=trail_name,
            s3_bucket_name=self.log_archive_bucket.id,
            s3_key_prefix=CLOUDTRAIL_PREFIX,
            kms_key_id=args.logs_key_arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            cloud_watch_logs_group_arn=self.trail_log_group.arn.apply(lambda arn: f"{arn}:*"),
            cloud_watch_logs_role_arn=self.trail_logs_role.arn,
            event_selectors=[event_selector],
            tags=ctx.tags(DataClassification.AUDIT),
            opts=ctx.keep(
                pulumi.ResourceOptions(parent=self, depends_on=[self.log_archive.policy, delivery])
            ),
        )

        self.security_alarms = SecurityAlarms(
            f"{name}-alarms",
            SecurityAlarmsArgs(
                log_group_name=self.trail_log_group.name,
                alert_topic_arn=args.alert_topic_arn,
                namespace=args.metric_namespace or f"medspa/{ctx.spa}/security",
                break_glass_role_name=ctx.name("break-glass"),
            ),
            ctx,
            opts=child,
        )
        self.alarms = self.security_alarms.alarms
        self.register_outputs(
            {
                "trailArn": self.trail.arn,
                "trailLogGroupArn": self.trail_log_group.arn,
                "logArchiveBucket": self.log_archive_bucket.id,
            }
        )
