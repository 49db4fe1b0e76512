"""Customer-managed KMS keys, one per purpose, so a leak or revocation of one never exposes the others.

164.312(a)(2)(iv) encryption and decryption; 164.312(c)(1) integrity (keys protected from deletion).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.context import DataClassification, SpaContext

DELETION_WINDOW_DAYS = 30  # the longest AWS allows: a month to notice and cancel a scheduled deletion


def _root_statement(partition: str, account_id: str) -> dict[str, Any]:
    """Let the account's IAM policies govern the key; without it the key can become unmanageable."""
    return {
        "Sid": "AccountAdministersKeyThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def _via_services_statement(sid: str, account_id: str, services: list[str], region: str) -> dict[str, Any]:
    """Principals of this account may use the key only through the named AWS services."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": [
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:CreateGrant",
            "kms:DescribeKey",
        ],
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:CallerAccount": account_id,
                "kms:ViaService": [f"{s}.{region}.amazonaws.com" for s in services],
            }
        },
    }


def data_key_policy(partition: str, account_id: str, region: str) -> str:
    """PHI data key: S3, RDS, Secrets Manager and EBS may use it on behalf of this account only."""
    statements = [
        _root_statement(partition, account_id),
        _via_services_statement(
            "PhiServicesInThisAccount", account_id, ["s3", "rds", "secretsmanager", "ec2"], region
        ),
    ]
    return json.dumps({"Version": "2012-10-17", "Id": "medspa-data-key", "Statement": statements})


def logs_key_policy(partition: str, account_id: str, region: str) -> str:
    """Log key: CloudWatch Logs, CloudTrail and the alert topic's publishers, each with conditions."""
    statements: list[dict[str, Any]] = [
        _root_statement(partition, account_id),
        {
            "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": [
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                    )
                }
            },
        },
        {
            "Sid": "CloudTrailEncryptsThisAccountsTrails",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": (
                        f"arn:{partition}:cloudtrail:*:{account_id}:trail/*"
                    )
                },
            },
        },
        {
            "Sid": "CloudTrailDescribesKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        {
            "Sid": "AlertPublishersUseKeyForThisAccountsTopics",
            "Effect": "Allow",
            "Principal": {
                "Service": [
                    "cloudwatch.amazonaws.com",
                    "events.amazonaws.com",
                    "backup.amazonaws.com",
                    "sns.amazonaws.com",
                ]
            },
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        {
            "Sid": "AwsConfigAndLogDeliveryWriteArchive",
            "Effect": "Allow",
            "Principal": {"Service": ["config.amazonaws.com", "delivery.logs.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        _via_services_statement("LogArchiveThroughS3", account_id, ["s3"], region),
    ]
    return json.dumps({"Version": "2012-10-17", "Id": "medspa-logs-key", "Statement": statements})


def backup_key_policy(partition: str, account_id: str, region: str) -> str:
    """Backup key: AWS Backup may use it for this account's vaults only, through grants for AWS resources."""
    statements = [
        _root_statement(partition, account_id),
        _via_services_statement("AwsBackupInThisAccount", account_id, ["backup"], region),
        {
            "Sid": "AwsBackupGrantsOnlyForAwsResources",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Id": "medspa-backup-key", "Statement": statements})


def _policy_output(make: Callable[[str, str, str], str], ctx: SpaContext, region: str) -> pulumi.Output[str]:
    return pulumi.Output.from_input(ctx.account_id).apply(
        lambda account: make(ctx.partition, account, region)
    )


@dataclass(frozen=True)
class KeysArgs:
    """Which region the keys live in; the DR region gets its own backup key with its own provider."""

    region: str


class Keys(pulumi.ComponentResource):
    """The spa's three customer-managed keys (data, logs, backup), rotated yearly and never deleted by accident."""

    data_key: aws.kms.Key
    logs_key: aws.kms.Key
    backup_key: aws.kms.Key

    def __init__(
        self, name: str, args: KeysArgs, ctx: SpaContext, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medspa:keys:Keys", name, None, opts)
        policies = {
            "data": (data_key_policy, DataClassification.PHI, "PHI at rest: S3, RDS, Secrets Manager, EBS"),
            "logs": (logs_key_policy, DataClassification.AUDIT, "Audit logs, flow logs and alerts"),
            "backup": (backup_key_policy, DataClassification.BACKUP, "AWS Backup recovery points"),
        }
        created: dict[str, aws.kms.Key] = {}
        for purpose, (policy_for, classification, description) in policies.items():
            policy = _policy_output(policy_for, ctx, args.region)
            key = aws.kms.Key(
                f"{name}-{purpose}",
                description=f"{ctx.spa} {purpose} key: {description}",
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=DELETION_WINDOW_DAYS,
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                multi_region=False,
                policy=policy,
                tags=ctx.tags(classification, Purpose=purpose),
                opts=ctx.keep(pulumi.ResourceOptions(parent=self)),
            )
            aws.kms.Alias(
                f"{name}-{purpose}-alias",
                name=f"alias/{ctx.spa}/{purpose}",
                target_key_id=key.key_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            created[purpose] = key
        self.data_key = created["data"]
        self.logs_key = created["logs"]
        self.backup_key = created["backup"]
        self.register_outputs(
            {
                "dataKeyArn": self.data_key.arn,
                "logsKeyArn": self.logs_key.arn,
                "backupKeyArn": self.backup_key.arn,
            }
        )
