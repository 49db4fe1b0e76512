"""The log archive: one S3 bucket where CloudTrail and AWS Config deliver, locked so nobody can erase it.

164.312(b) audit controls and 164.312(c)(1) integrity: S3 Object Lock in COMPLIANCE mode means no one
(not the contractor, not the account root, not AWS support) can delete or overwrite a log file before
its retention ends. 164.316(b)(2)(i): the default retention is at least 6 years. 164.312(a)(2)(iv):
SSE-KMS with the logs key. 164.312(e)(1): TLS-only bucket policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.config import AUDIT_LOG_RETENTION_FLOOR_DAYS
from infra.context import DataClassification, SpaContext

CLOUDTRAIL_PREFIX = "cloudtrail"  # CloudTrail writes under cloudtrail/AWSLogs/<account>/
CONFIG_PREFIX = "config"  # AWS Config's delivery channel must use this s3_key_prefix
ACCESS_LOG_PREFIX = "log-archive"  # the archive's server access logs, in the spa's access-log bucket
INFREQUENT_ACCESS_AFTER_DAYS = 90  # logs are read mostly in the first quarter
GLACIER_AFTER_DAYS = 365  # then kept cheaply; Object Lock travels with the object across classes
ABORT_MULTIPART_AFTER_DAYS = 7


def log_archive_bucket_name(spa: str, account_id: str) -> str:
    """Bucket names are global: the spa and the account make it unique and recognisable."""
    return f"{spa}-log-archive-{account_id}"


def log_archive_policy(bucket_arn: str, account_id: str, source_trail: str) -> str:
    """TLS only; CloudTrail (this trail) and AWS Config (this account) may write under their prefixes."""
    owner_full_control = {"s3:x-amz-acl": "bucket-owner-full-control"}
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "CloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": bucket_arn,
            "Condition": {"StringEquals": {"aws:SourceArn": source_trail, "aws:SourceAccount": account_id}},
        },
        {
            "Sid": "CloudTrailWrite",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{CLOUDTRAIL_PREFIX}/AWSLogs/{account_id}/*",
            "Condition": {
                "StringEquals": {
                    **owner_full_control,
                    "aws:SourceArn": source_trail,
                    "aws:SourceAccount": account_id,
                }
            },
        },
        {
            "Sid": "AwsConfigAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": bucket_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        {
            "Sid": "AwsConfigWrite",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{CONFIG_PREFIX}/AWSLogs/{account_id}/Config/*",
            "Condition": {"StringEquals": {**owner_full_control, "aws:SourceAccount": account_id}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@dataclass(frozen=True)
class LogArchiveArgs:
    """The key that encrypts the archive, how long each log file is locked, and which trail writes to it.

    `trail_arn` is the ARN the trail will have (computed from its name), so the bucket policy can admit
    that trail alone before the trail exists.
    """

    kms_key_arn: pulumi.Input[str]
    retention_days: int
    trail_arn: pulumi.Input[str]
    access_log_bucket: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        if self.retention_days < AUDIT_LOG_RETENTION_FLOOR_DAYS:
            raise ValueError(
                f"log archive retention {self.retention_days} is below the "
                f"{AUDIT_LOG_RETENTION_FLOOR_DAYS}-day floor (164.316(b)(2)(i))"
            )


class LogArchive(pulumi.ComponentResource):
    """An Object Lock (COMPLIANCE) bucket under the logs key, private, TLS-only, never deleted by accident."""

    bucket: aws.s3.Bucket
    object_lock: aws.s3.BucketObjectLockConfiguration
    policy: aws.s3.BucketPolicy

    def __init__(
        self, name: str, args: LogArchiveArgs, ctx: SpaContext, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medspa:log_archive:LogArchive", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(ctx.account_id)

        # Object Lock can only be switched on when the bucket is created (164.312(c)(1)).
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=account.apply(lambda acct: log_archive_bucket_name(ctx.spa, acct)),
            object_lock_enabled=True,
            force_destroy=False,
            tags=ctx.tags(DataClassification.AUDIT, Purpose="log-archive"),
            opts=ctx.keep(pulumi.ResourceOptions(parent=self)),
        )
        # Ownership first: with ACLs disabled the bucket owner owns every delivered log file.
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=ctx.keep(pulumi.ResourceOptions(parent=self)),
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        # COMPLIANCE mode: the retention cannot be shortened nor a locked version deleted by anyone
        # (164.312(c)(1)), for at least 6 years (164.316(b)(2)(i)).
        self.object_lock = aws.s3.BucketObjectLockConfiguration(
            f"{name}-object-lock",
            bucket=self.bucket.id,
            object_lock_enabled="Enabled",
            rule={"default_retention": {"mode": "COMPLIANCE", "days": args.retention_days}},
            opts=ctx.keep(pulumi.ResourceOptions(parent=self, depends_on=[versioning])),
        )
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.kms_key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        # Cheaper storage as logs age; nothing ever expires, so the lock is never cut short.
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                {
                    "id": "age-into-cheaper-storage",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "transitions": [
                        {"days": INFREQUENT_ACCESS_AFTER_DAYS, "storage_class": "STANDARD_IA"},
                        {"days": GLACIER_AFTER_DAYS, "storage_class": "GLACIER"},
                    ],
                    "noncurrent_version_transitions": [
                        {"noncurrent_days": INFREQUENT_ACCESS_AFTER_DAYS, "storage_class": "STANDARD_IA"},
                        {"noncurrent_days": GLACIER_AFTER_DAYS, "storage_class": "GLACIER"},
                    ],
                    "abort_incomplete_multipart_upload": {
                        "days_after_initiation": ABORT_MULTIPART_AFTER_DAYS
                    },
                }
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, account, args.trail_arn).apply(
                lambda values: log_archive_policy(values[0], values[1], values[2])
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access, ownership, encryption]),
        )
        # Who read the audit logs is itself audit evidence (164.312(b)): server access logs of the
        # archive go to the spa's access-log bucket, which admits this bucket as a source.
        self.access_logging: aws.s3.BucketLogging | None = None
        if args.access_log_bucket is not None:
            self.access_logging = aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=self.bucket.id,
                target_bucket=args.access_log_bucket,
                target_prefix=f"{ACCESS_LOG_PREFIX}/",
                target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
                opts=child,
            )
        self.register_outputs({"bucketName": self.bucket.id, "bucketArn": self.bucket.arn})
