"""PHI object storage: S3 buckets for documents and before/after photos, and the bucket of their access logs.

164.312(a)(2)(iv) encryption: SSE-KMS under the PHI data key with bucket keys, SSE-C refused.
164.312(e)(1) transmission security: TLS only, TLS 1.2 or later.
164.312(a)(1) access control: all four public access blocks (bucket and account), ACLs disabled, and
requests refused unless they come through the spa's VPC endpoint or from an allow-listed address.
164.312(b) audit controls: server access logs of every PHI bucket.
164.312(c)(1) integrity: versioning, buckets protected from deletion, log objects not deletable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.context import DataClassification, SpaContext
from infra.log_archive import log_archive_bucket_name

MIN_TLS_VERSION = 1.2
ABORT_MULTIPART_DAYS = 7  # parts of an abandoned upload are PHI fragments nobody can see or list easily
NONCURRENT_TO_IA_DAYS = 30  # the earliest S3 allows a transition to STANDARD_IA
LOG_TO_IA_DAYS = 30
LOG_TO_GLACIER_IR_DAYS = 90
S3_LOGGING_SERVICE = "logging.s3.amazonaws.com"
# The IAM name the backups component gives the role AWS Backup uses for S3; exempt from the network
# restriction because AWS Backup calls S3 with it from AWS's own network.
BACKUP_ROLE_NAME = "{spa}-backup"


def break_glass_role_arn(partition: str, account_id: str, spa: str) -> str:
    """The emergency-access role (created by the IAM component under exactly this name)."""
    return f"arn:{partition}:iam::{account_id}:role/{spa}-break-glass"


def service_linked_roles_arn(partition: str, account_id: str) -> str:
    """Service-linked roles: only AWS services can assume them (AWS Config, Macie, Access Analyzer)."""
    return f"arn:{partition}:iam::{account_id}:role/aws-service-role/*"


def _bucket_resources(bucket_arn: str) -> list[str]:
    return [bucket_arn, f"{bucket_arn}/*"]


def tls_statements(bucket_arn: str) -> list[dict[str, Any]]:
    """Refuse plain HTTP and TLS older than 1.2 for everyone, services included (164.312(e)(1))."""
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": _bucket_resources(bucket_arn),
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyTlsOlderThan12",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": _bucket_resources(bucket_arn),
            "Condition": {"NumericLessThan": {"s3:TlsVersion": MIN_TLS_VERSION}},
        },
    ]


def network_restriction_statement(
    bucket_arn: str,
    vpc_endpoint_id: str,
    vpc_id: str,
    allowlist_cidrs: Sequence[str],
    exempt_principal_arns: Sequence[str],
) -> dict[str, Any]:
    """Deny every request that comes neither through the spa's VPC nor from an allow-listed address.

    IAM evaluates every condition of a Deny together: the request is refused only when ALL hold, so
    each condition below is an exemption (164.312(a)(1)):

    - ``aws:SourceVpce`` / ``aws:SourceVpc``: through the S3 gateway endpoint (or another endpoint of the
      spa's own VPC, whose endpoint policies admit only this account);
    - ``aws:SourceIp``: from an office or admin address;
    - ``aws:PrincipalIsAWSService`` / ``aws:ViaAWSService``: an AWS service principal (server access log
      delivery, CloudTrail) or a service acting with the caller's own credentials (S3 calling KMS, AWS
      Backup's forward access sessions); their source address is AWS's, never the office's;
    - ``aws:PrincipalArn``: the break-glass role (an emergency must not depend on the office network),
      the AWS Backup role, and service-linked roles, which only AWS services can assume (AWS Config,
      Macie, Access Analyzer read bucket settings from AWS's own network).

    Every operator is the ``IfExists`` form, so a missing key counts as "not exempt": a request from
    outside any VPC carries no ``aws:SourceVpce``, an anonymous request no principal keys, and both are
    refused. The account root user can always delete a bucket policy, so a mistake here can be undone without
    an exemption for root.
    """
    return {
        "Sid": "DenyOutsideVpcEndpointAndAllowList",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": _bucket_resources(bucket_arn),
        "Condition": {
            "StringNotEqualsIfExists": {"aws:SourceVpce": vpc_endpoint_id, "aws:SourceVpc": vpc_id},
            "NotIpAddressIfExists": {"aws:SourceIp": list(allowlist_cidrs)},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"},
            "ArnNotLikeIfExists": {"aws:PrincipalArn": list(exempt_principal_arns)},
        },
    }


def phi_bucket_policy(
    bucket_arn: str,
    data_key_arn: str,
    vpc_endpoint_id: str,
    vpc_id: str,
    allowlist_cidrs: Sequence[str],
    exempt_principal_arns: Sequence[str],
) -> str:
    """TLS only, network-restricted, and no object stored under any key but the PHI data key."""
    statements = [
        *tls_statements(bucket_arn),
        network_restriction_statement(
            bucket_arn, vpc_endpoint_id, vpc_id, allowlist_cidrs, exempt_principal_arns
        ),
        {
            # A client may omit the headers (default encryption applies: the data key) but may not ask
            # for SSE-S3 or another key. "Null": false makes each deny apply only when the header is sent.
            "Sid": "DenyNonKmsEncryption",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {
                "Null": {"s3:x-amz-server-side-encryption": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
            },
        },
        {
            "Sid": "DenyOtherKmsKeys",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {
                "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": data_key_arn},
            },
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def access_log_bucket_policy(
    bucket_arn: str,
    account_id: str,
    source_bucket_arns: Sequence[str],
    vpc_endpoint_id: str,
    vpc_id: str,
    allowlist_cidrs: Sequence[str],
    exempt_principal_arns: Sequence[str],
    break_glass_arn: str,
) -> str:
    """S3 log delivery may write (for this account's PHI buckets only); nobody but break-glass deletes."""
    statements = [
        {
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": S3_LOGGING_SERVICE},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn": list(source_bucket_arns)},
            },
        },
        *tls_statements(bucket_arn),
        network_restriction_statement(
            bucket_arn, vpc_endpoint_id, vpc_id, allowlist_cidrs, exempt_principal_arns
        ),
        {
            # Audit records must not be erased by the people they record (164.312(b), 164.312(c)(1));
            # lifecycle expiry is not subject to bucket policies, so retention still works.
            "Sid": "DenyLogDeletion",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
            "Resource": f"{bucket_arn}/*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": break_glass_arn}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@dataclass(frozen=True)
class PhiStorageArgs:
    """Bucket roles, the keys, and the network facts the bucket policies are written from.

    `exempt_role_names` adds IAM roles of this account (by name) that may reach the buckets from outside
    the VPC and the allow-list, such as the AWS Backup role; the break-glass role and service-linked
    roles are always exempt. Every name added widens 164.312(a)(1) access control to wherever that role
    can be used from.
    """

    roles: tuple[str, ...]
    data_key_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    s3_endpoint_id: pulumi.Input[str]
    allowlist_cidrs: tuple[str, ...]
    noncurrent_version_days: int
    log_retention_days: int
    exempt_role_names: tuple[str, ...] = ()


class PhiStorage(pulumi.ComponentResource):
    """One hardened, versioned, CMK-encrypted bucket per PHI role, logging to a hardened access-log bucket.

    The access-log bucket is encrypted with SSE-S3 (AES-256), not the logs key: the Amazon S3 User
    Guide ("Enabling Amazon S3 server access logging") states that default encryption of a server
    access log target bucket is supported only with SSE-S3, and that default SSE-KMS is not supported.
    Access logs hold request metadata (requester, IP, object key), not object contents; object keys
    must therefore never carry patient names (use opaque identifiers).
    """

    phi_buckets: dict[str, aws.s3.Bucket]
    access_log_bucket: aws.s3.Bucket
    account_public_access_block: aws.s3.AccountPublicAccessBlock

    def __init__(
        self, name: str, args: PhiStorageArgs, ctx: SpaContext, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medspa:storage:PhiStorage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(ctx.account_id)

        # Account-wide: no bucket of this account, present or future, can be made public (164.312(a)(1)).
        self.account_public_access_block = aws.s3.AccountPublicAccessBlock(
            f"{name}-account-public-access",
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=ctx.keep(pulumi.ResourceOptions(parent=self)),
        )

        exempt = account.apply(
            lambda acct: [
                break_glass_role_arn(ctx.partition, acct, ctx.spa),
                service_linked_roles_arn(ctx.partition, acct),
                *(f"arn:{ctx.partition}:iam::{acct}:role/{role}" for role in args.exempt_role_names),
            ]
        )

        self.access_log_bucket = aws.s3.Bucket(
            f"{name}-access-logs",
            bucket=pulumi.Output.concat(ctx.spa, "-s3-access-logs-", account),
            force_destroy=False,
            tags=ctx.tags(DataClassification.AUDIT, Purpose="s3-server-access-logs"),
            opts=ctx.keep(pulumi.ResourceOptions(parent=self)),
        )
        log_guard = self._harden(f"{name}-access-logs", self.access_log_bucket, None)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-access-logs-lifecycle",
            bucket=self.access_log_bucket.id,
            rules=[
                {
                    "id": "logs-to-cheaper-storage-then-expire",
                    "status": "Enabled",
                    "filter": {},
                    "transitions": [
                        {"days": LOG_TO_IA_DAYS, "storage_class": "STANDARD_IA"},
                        {"days": LOG_TO_GLACIER_IR_DAYS, "storage_class": "GLACIER_IR"},
                    ],
                    # Kept at least as long as every other audit log (164.312(b)).
                    "expiration": {"days": args.log_retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": args.log_retention_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
                }
            ],
            opts=child,
        )

        self.phi_buckets = {}
        for role in args.roles:
            bucket = aws.s3.Bucket(
                f"{name}-{role}",
                bucket=pulumi.Output.concat(ctx.spa, "-phi-", role, "-", account),
                force_destroy=False,
                tags=ctx.tags(DataClassification.PHI, Purpose=f"phi-{role}"),
                opts=ctx.keep(pulumi.ResourceOptions(parent=self)),
            )
            guard = self._harden(f"{name}-{role}", bucket, args.data_key_arn)
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-{role}-lifecycle",
                bucket=bucket.id,
                rules=[
                    {
                        # Current objects never expire (the spa's records policy decides); old versions
                        # stay recoverable for noncurrent_version_days (164.312(c)(1)).
                        "id": "noncurrent-versions-and-abandoned-uploads",
                        "status": "Enabled",
                        "filter": {},
                        "noncurrent_version_transitions": [
                            {"noncurrent_days": NONCURRENT_TO_IA_DAYS, "storage_class": "STANDARD_IA"}
                        ],
                        "noncurrent_version_expiration": {"noncurrent_days": args.noncurrent_version_days},
                        "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
                    }
                ],
                opts=child,
            )
            policy = pulumi.Output.all(
                bucket.arn, args.data_key_arn, args.s3_endpoint_id, args.vpc_id, exempt
            ).apply(
                lambda values: phi_bucket_policy(
                    values[0], values[1], values[2], values[3], args.allowlist_cidrs, values[4]
                )
            )
            self._policy(f"{name}-{role}", bucket, policy, guard)
            self.phi_buckets[role] = bucket

        log_policy = pulumi.Output.all(
            self.access_log_bucket.arn,
            account,
            pulumi.Output.all(*[b.arn for b in self.phi_buckets.values()]),
            args.s3_endpoint_id,
            args.vpc_id,
            exempt,
        ).apply(
            lambda v: access_log_bucket_policy(
                v[0],
                v[1],
                # The log archive's own reads are logged here too, so reading audit logs leaves a trace.
                [*v[2], f"arn:{ctx.partition}:s3:::{log_archive_bucket_name(ctx.spa, v[1])}"],
                v[3],
                v[4],
                args.allowlist_cidrs,
                v[5],
                break_glass_role_arn(ctx.partition, v[1], ctx.spa),
            )
        )
        log_policy_resource = self._policy(
            f"{name}-access-logs", self.access_log_bucket, log_policy, log_guard
        )

        # Server access logs of every PHI bucket (164.312(b)), delivered once the log bucket admits them.
        for role, bucket in self.phi_buckets.items():
            aws.s3.BucketLogging(
                f"{name}-{role}-logging",
                bucket=bucket.id,
                target_bucket=self.access_log_bucket.id,
                target_prefix=f"{role}/",
                target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[log_policy_resource, *log_guard]),
            )

        self.register_outputs(
            {
                "phiBucketNames": {role: b.bucket for role, b in self.phi_buckets.items()},
                "accessLogBucketName": self.access_log_bucket.bucket,
            }
        )

    def _harden(
        self, prefix: str, bucket: aws.s3.Bucket, kms_key_arn: pulumi.Input[str] | None
    ) -> list[pulumi.Resource]:
        """Encryption, versioning, public access block and owner-enforced ownership for one bucket."""
        child = pulumi.ResourceOptions(parent=self)
        if kms_key_arn is not None:
            default: aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgsDict = {
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": kms_key_arn,
            }
        else:
            # Server access log targets support only SSE-S3 default encryption (see the class docstring).
            default = {"sse_algorithm": "AES256"}
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{prefix}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": default,
                    "bucket_key_enabled": kms_key_arn is not None,
                    # Customer-provided keys would put PHI under a key nobody here controls or audits.
                    "blocked_encryption_types": ["SSE-C"],
                }
            ],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{prefix}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{prefix}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        ownership = aws.s3.BucketOwnershipControls(
            f"{prefix}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        return [encryption, versioning, public_access, ownership]

    def _policy(
        self,
        prefix: str,
        bucket: aws.s3.Bucket,
        policy: pulumi.Output[str],
        guard: list[pulumi.Resource],
    ) -> aws.s3.BucketPolicy:
        """The bucket policy, applied after the bucket's hardening so the two never race."""
        return aws.s3.BucketPolicy(
            f"{prefix}-policy",
            bucket=bucket.id,
            policy=policy,
            opts=pulumi.ResourceOptions(parent=self, depends_on=guard),
        )
