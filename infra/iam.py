"""Workforce access: role-based IAM roles assumed with MFA from the allow-list, under a tamper-proof boundary.

164.308(a)(3) workforce security and 164.308(a)(4) information access management: one role per job,
each with the minimum it needs (the clinician reaches PHI, the front desk only documents, the auditor
no PHI at all). 164.312(a)(1) access control: roles are assumed only by this account's principals,
with MFA, from the office and admin networks. 164.312(a)(2)(i) unique user identification: no shared
IAM users or access keys are created; each person assumes a role under their own identity, which
CloudTrail records. 164.312(a)(2)(ii) emergency access: the break-glass role, whose every use raises an
alarm (infra/alarms.py). 164.312(d) and 164.308(a)(5)(ii)(D): MFA, and the account password policy.

Every workforce role carries the same permissions boundary: whatever its policies grant, it cannot stop
or weaken the controls that make the environment auditable (CloudTrail, GuardDuty, Config, Security
Hub, the keys, the vault locks, the public access blocks, flow logs, log groups) nor edit the workforce
roles themselves. The kit is deployed by the contractor's deploy principal, not by these roles.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.context import DataClassification, SpaContext
from infra.detection import PASSWORD_MAX_AGE_DAYS, PASSWORD_MIN_LENGTH, PASSWORD_REUSE_PREVENTION
from infra.storage import BACKUP_ROLE_NAME

WORKFORCE_ROLES = ("admin", "clinician", "front-desk", "auditor", "backup-operator", "break-glass")
# Roles whose MFA must be recent (at most an hour old) when assumed: they can change the environment.
ELEVATED_ROLES = frozenset({"admin", "break-glass"})
MAX_SESSION_SECONDS = 3600
MFA_MAX_AGE_SECONDS = 3600
BOUNDARY_NAME = "{spa}-workforce-boundary"

ROLE_DESCRIPTIONS = {
    "admin": "Spa administrator: PowerUser plus IAM read, under the workforce boundary",
    "clinician": "Clinician: read and write PHI in the spa's PHI buckets",
    "front-desk": "Front desk: read and upload documents, never delete",
    "auditor": "Auditor: security configuration and audit logs, no PHI content",
    "backup-operator": "Backup operator: start and follow restores from AWS Backup, nothing else",
    "break-glass": "Emergency access (164.312(a)(2)(ii)); every use raises an alarm",
}

# AWS managed policies per role. The admin gets PowerUserAccess, not AdministratorAccess: PowerUser
# cannot create IAM principals or policies, so the admin cannot mint a role outside the boundary; the
# break-glass role gets AdministratorAccess, bounded (no tampering, no roles without the boundary).
MANAGED_POLICIES: dict[str, tuple[str, ...]] = {
    "admin": ("PowerUserAccess",),
    "clinician": (),
    "front-desk": (),
    "auditor": ("SecurityAudit",),
    "backup-operator": (),
    "break-glass": ("AdministratorAccess",),
}

# What no workforce role may do, whatever its policies say (164.312(b), 164.312(c)(1), 164.308(a)(1)).
TAMPERING_ACTIONS: tuple[str, ...] = (
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
    "guardduty:DeleteDetector",
    "guardduty:UpdateDetector",
    "guardduty:DisassociateFromMasterAccount",
    "guardduty:DisassociateFromAdministratorAccount",
    "config:StopConfigurationRecorder",
    "config:DeleteConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "config:DeleteConfigRule",
    "securityhub:DisableSecurityHub",
    "securityhub:BatchDisableStandards",
    "kms:DisableKey",
    "kms:ScheduleKeyDeletion",
    "kms:PutKeyPolicy",
    "backup:DeleteBackupVaultLockConfiguration",
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:DeleteBackupVault",
    "backup:PutBackupVaultAccessPolicy",
    # S3 authorizes the account-level (s3control) DeletePublicAccessBlock with PutAccountPublicAccessBlock
    # and the bucket-level one with PutBucketPublicAccessBlock, so these two cover removal as well.
    "s3:PutAccountPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
    "s3:DeleteBucketPolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    "ec2:DeleteFlowLogs",
    "logs:DeleteLogGroup",
    "logs:DeleteMetricFilter",
)
# Silencing the spa's alerts: its EventBridge rules, its alert topic, its CloudWatch alarms (164.308(a)(6)(ii)).
ALERT_SILENCING_ACTIONS = (
    "events:DisableRule",
    "events:DeleteRule",
    "events:PutRule",
    "events:RemoveTargets",
    "events:PutTargets",
    "sns:DeleteTopic",
    "sns:SetTopicAttributes",
    "sns:AddPermission",
    "sns:RemovePermission",
    "cloudwatch:DeleteAlarms",
    "cloudwatch:DisableAlarmActions",
    "cloudwatch:PutMetricAlarm",
)
# No long-lived credentials, by anyone working under the boundary (164.312(a)(2)(i), 164.312(d)).
LONG_LIVED_CREDENTIAL_ACTIONS = ("iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile")
# The spa's roles and policies are changed by deploys only, so a session cannot loosen its own trust.
ACCESS_EDIT_ROLE_ACTIONS = (
    "iam:UpdateAssumeRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:UpdateRole",
    "iam:DeleteRole",
)
ACCESS_EDIT_POLICY_ACTIONS = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:DeletePolicy",
)

PHI_OBJECT_READ = ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes", "s3:GetObjectTagging")
PHI_OBJECT_WRITE = (
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
PHI_BUCKET_READ = ("s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation")


def _policy(statements: Sequence[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def boundary_arn(partition: str, account_id: str, spa: str) -> str:
    return f"arn:{partition}:iam::{account_id}:policy/{BOUNDARY_NAME.format(spa=spa)}"


def boundary_policy(partition: str, account_id: str, spa: str) -> str:
    """Allow what the role's own policies allow, except tampering with the controls or with access."""
    return _policy(
        [
            {"Sid": "AllowWhatTheRoleGrants", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Sid": "DenyTamperingWithControls",
                "Effect": "Deny",
                "Action": list(TAMPERING_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "DenyLongLivedCredentials",
                "Effect": "Deny",
                "Action": list(LONG_LIVED_CREDENTIAL_ACTIONS),
                "Resource": "*",
            },
            {
                # The signals that tell people something happened: findings and alarm rules, the topic.
                "Sid": "DenySilencingSpaAlerts",
                "Effect": "Deny",
                "Action": list(ALERT_SILENCING_ACTIONS),
                "Resource": [
                    f"arn:{partition}:events:*:{account_id}:rule/{spa}-*",
                    f"arn:{partition}:sns:*:{account_id}:{spa}-*",
                    f"arn:{partition}:cloudwatch:*:{account_id}:alarm:{spa}-*",
                ],
            },
            {
                "Sid": "DenyEditingSpaRoles",
                "Effect": "Deny",
                "Action": list(ACCESS_EDIT_ROLE_ACTIONS),
                "Resource": f"arn:{partition}:iam::{account_id}:role/{spa}-*",
            },
            {
                "Sid": "DenyEditingSpaPolicies",
                "Effect": "Deny",
                "Action": list(ACCESS_EDIT_POLICY_ACTIONS),
                "Resource": f"arn:{partition}:iam::{account_id}:policy/{spa}-*",
            },
            {
                "Sid": "DenyRolesWithoutThisBoundary",
                "Effect": "Deny",
                "Action": "iam:CreateRole",
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"iam:PermissionsBoundary": boundary_arn(partition, account_id, spa)}
                },
            },
        ]
    )


def workforce_trust_policy(partition: str, account_id: str, cidrs: Sequence[str], *, elevated: bool) -> str:
    """This account's principals, signed in with MFA, from an allow-listed address (164.312(d), (a)(1))."""
    condition: dict[str, Any] = {
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
        "IpAddress": {"aws:SourceIp": list(cidrs)},
    }
    if elevated:
        condition["NumericLessThanEquals"] = {"aws:MultiFactorAuthAge": str(MFA_MAX_AGE_SECONDS)}
    statement = {
        "Sid": "ThisAccountWithMfaFromAllowList",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }
    return _policy([statement])


def _trust_policy_output(
    account: pulumi.Output[str], partition: str, cidrs: Sequence[str], *, elevated: bool
) -> pulumi.Output[str]:
    """Bind each role's values now: a closure over loop variables would see only the last role's."""
    allowed = tuple(cidrs)
    return account.apply(lambda acct: workforce_trust_policy(partition, acct, allowed, elevated=elevated))


def _objects(bucket_arns: Sequence[str]) -> list[str]:
    return [f"{arn}/*" for arn in bucket_arns]


def _data_key_through_s3(data_key_arn: str, region: str) -> dict[str, Any]:
    return {
        "Sid": "DataKeyThroughS3Only",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
        "Resource": data_key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
    }


_FIND_BUCKETS = {
    "Sid": "FindBuckets",
    "Effect": "Allow",
    "Action": ["s3:ListAllMyBuckets"],
    "Resource": "*",
}


def clinician_policy(bucket_arns: Sequence[str], data_key_arn: str, region: str) -> str:
    """Read and write PHI objects in the PHI buckets only (164.308(a)(4)); deleting leaves old versions."""
    if not bucket_arns:
        return _policy([_FIND_BUCKETS])
    return _policy(
        [
            _FIND_BUCKETS,
            {
                "Sid": "ListPhiBuckets",
                "Effect": "Allow",
                "Action": list(PHI_BUCKET_READ),
                "Resource": list(bucket_arns),
            },
            {
                "Sid": "ReadWritePhiObjects",
                "Effect": "Allow",
                # Versioning keeps every overwritten or deleted version (164.312(c)(1)).
                "Action": [*PHI_OBJECT_READ, *PHI_OBJECT_WRITE, "s3:DeleteObject"],
                "Resource": _objects(bucket_arns),
            },
            {
                "Sid": "NeverDeleteVersions",
                "Effect": "Deny",
                "Action": [
                    "s3:DeleteObjectVersion",
                    "s3:PutLifecycleConfiguration",
                    "s3:PutBucketVersioning",
                ],
                "Resource": [*bucket_arns, *_objects(bucket_arns)],
            },
            _data_key_through_s3(data_key_arn, region),
        ]
    )


def front_desk_policy(
    document_bucket_arns: Sequence[str], all_phi_bucket_arns: Sequence[str], data_key_arn: str, region: str
) -> str:
    """Read and upload in the documents bucket only, never delete (164.308(a)(4) minimum necessary)."""
    statements: list[dict[str, Any]] = [_FIND_BUCKETS]
    if document_bucket_arns:
        statements += [
            {
                "Sid": "ListDocumentBuckets",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": list(document_bucket_arns),
            },
            {
                "Sid": "ReadUploadDocuments",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                "Resource": _objects(document_bucket_arns),
            },
            _data_key_through_s3(data_key_arn, region),
        ]
    if all_phi_bucket_arns:
        statements.append(
            {
                "Sid": "NeverDelete",
                "Effect": "Deny",
                "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket"],
                "Resource": [*all_phi_bucket_arns, *_objects(all_phi_bucket_arns)],
            }
        )
    return _policy(statements)


def _in_account(partition: str, account_id: str, services: Sequence[str]) -> list[str]:
    """Every resource of these services in this account (any region), so reads never reach other accounts."""
    return [f"arn:{partition}:{service}:*:{account_id}:*" for service in services]


# Reads of audit content that the SecurityAudit managed policy (configuration metadata only) leaves out.
# Split by what IAM allows: actions with resource types are scoped to this account's resources;
# actions that support only "*" (per the AWS Service Authorization Reference) are listed by name.
AUDIT_CONTENT_SCOPED = (
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:StartQuery",
    "logs:GetQueryResults",
    "logs:GetLogRecord",
    "logs:DescribeLogStreams",
    "securityhub:GetFindings",
    "securityhub:GetInsightResults",
    "access-analyzer:GetFinding",
    "access-analyzer:ListFindings",
)
AUDIT_CONTENT_SCOPED_SERVICES = ("logs", "securityhub", "access-analyzer")
AUDIT_CONTENT_WILDCARD_ONLY = (
    "cloudtrail:LookupEvents",
    "guardduty:ListDetectors",
    "guardduty:ListFindings",
    "guardduty:GetFindings",
    "guardduty:GetFindingsStatistics",
    "config:SelectResourceConfig",
    "config:GetResourceConfigHistory",
    "logs:DescribeLogGroups",
    "logs:DescribeQueries",
    "logs:StopQuery",
)


def auditor_policy(partition: str, account_id: str, phi_bucket_arns: Sequence[str], data_key_arn: str) -> str:
    """Read the audit trail, logs and findings of this account; never PHI content (164.312(b), 164.308(a)(4))."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadAuditContentInThisAccount",
            "Effect": "Allow",
            "Action": list(AUDIT_CONTENT_SCOPED),
            "Resource": _in_account(partition, account_id, AUDIT_CONTENT_SCOPED_SERVICES),
        },
        {
            "Sid": "ReadAuditContentWildcardOnly",
            "Effect": "Allow",
            "Action": list(AUDIT_CONTENT_WILDCARD_ONLY),
            "Resource": "*",
        },
        {"Sid": "NeverDecryptPhi", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": data_key_arn},
    ]
    if phi_bucket_arns:
        statements.append(
            {
                "Sid": "NeverReadPhiObjects",
                "Effect": "Deny",
                "Action": ["s3:GetObject*"],
                "Resource": _objects(phi_bucket_arns),
            }
        )
    return _policy(statements)


def backup_operator_policy(
    partition: str, account_id: str, backup_role_arn: str, vault_arns: Sequence[str]
) -> str:
    """Start and follow restores, pass only the AWS Backup role, never delete (164.308(a)(7)(ii)(B))."""
    return _policy(
        [
            {
                # Recovery points are AWS Backup ARNs, or RDS snapshot ARNs for database backups.
                "Sid": "RestoreRecoveryPointsOfThisAccount",
                "Effect": "Allow",
                "Action": [
                    "backup:StartRestoreJob",
                    "backup:DescribeRecoveryPoint",
                    "backup:GetRecoveryPointRestoreMetadata",
                ],
                "Resource": [
                    f"arn:{partition}:backup:*:{account_id}:recovery-point:*",
                    f"arn:{partition}:rds:*:{account_id}:snapshot:*",
                    f"arn:{partition}:rds:*:{account_id}:cluster-snapshot:*",
                ],
            },
            {
                "Sid": "ReadSpaVaults",
                "Effect": "Allow",
                "Action": ["backup:DescribeBackupVault", "backup:ListRecoveryPointsByBackupVault"],
                "Resource": list(vault_arns) or [f"arn:{partition}:backup:*:{account_id}:backup-vault:*"],
            },
            {
                "Sid": "FollowJobs",
                "Effect": "Allow",
                "Action": [
                    "backup:ListBackupVaults",
                    "backup:ListRecoveryPointsByResource",
                    "backup:ListProtectedResources",
                    "backup:ListBackupJobs",
                    "backup:ListCopyJobs",
                    "backup:ListRestoreJobs",
                    "backup:ListRestoreJobsByProtectedResource",
                    "backup:DescribeBackupJob",
                    "backup:DescribeCopyJob",
                    "backup:DescribeRestoreJob",
                    "backup:DescribeProtectedResource",
                    "backup:GetRestoreJobMetadata",
                    "backup:GetSupportedResourceTypes",
                ],
                "Resource": "*",
            },
            {
                "Sid": "PassOnlyTheBackupRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": backup_role_arn,
                "Condition": {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
            },
            {
                "Sid": "SeeRestoreTargetsInThisAccount",
                "Effect": "Allow",
                "Action": [
                    "rds:DescribeDBInstances",
                    "rds:DescribeDBSubnetGroups",
                    "rds:DescribeDBParameterGroups",
                    "kms:DescribeKey",
                ],
                "Resource": _in_account(partition, account_id, ("rds", "kms")),
            },
            {
                "Sid": "SeeRestoreTargetsWildcardOnly",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeVpcs",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeAvailabilityZones",
                    "s3:ListAllMyBuckets",
                    "kms:ListAliases",
                ],
                "Resource": "*",
            },
            {
                "Sid": "NeverChangeOrDeleteBackups",
                "Effect": "Deny",
                "Action": [
                    "backup:Delete*",
                    "backup:Update*",
                    "backup:Put*",
                    "backup:Create*",
                    "backup:Disassociate*",
                    "backup:StartBackupJob",
                    "backup:StartCopyJob",
                ],
                "Resource": "*",
            },
        ]
    )


# IAM reads that support only "*" as their resource (AWS Service Authorization Reference).
IAM_READ_WILDCARD_ONLY = (
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:GetAccountAuthorizationDetails",
    "iam:GetAccountPasswordPolicy",
    "iam:GetAccountSummary",
    "iam:GetServiceLastAccessedDetails",
    "iam:GetServiceLastAccessedDetailsWithEntities",
    "iam:ListAccountAliases",
    "iam:ListGroups",
    "iam:ListInstanceProfiles",
    "iam:ListOpenIDConnectProviders",
    "iam:ListPolicies",
    "iam:ListRoles",
    "iam:ListSAMLProviders",
    "iam:ListServerCertificates",
    "iam:ListUsers",
    "iam:ListVirtualMFADevices",
    "iam:GetContextKeysForCustomPolicy",
    "iam:SimulateCustomPolicy",
)


def admin_policy(partition: str, account_id: str, backup_role_arn: str) -> str:
    """What PowerUserAccess leaves out and an administrator needs: reading IAM, running backups."""
    return _policy(
        [
            {
                "Sid": "ReadIamInThisAccount",
                "Effect": "Allow",
                "Action": [
                    "iam:Get*",
                    "iam:List*",
                    "iam:GenerateServiceLastAccessedDetails",
                    "iam:SimulatePrincipalPolicy",
                ],
                "Resource": f"arn:{partition}:iam::{account_id}:*",
            },
            {
                "Sid": "ReadIamWildcardOnly",
                "Effect": "Allow",
                "Action": list(IAM_READ_WILDCARD_ONLY),
                "Resource": "*",
            },
            {
                "Sid": "PassOnlyTheBackupRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": backup_role_arn,
                "Condition": {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
            },
        ]
    )


@dataclass(frozen=True)
class WorkforceAccessArgs:
    """The allow-list, the PHI buckets and key, and the optional pieces other components provide.

    `phi_bucket_arns` maps each PHI bucket's role (config `phiBuckets`) to its ARN: the clinician gets
    all of them, the front desk only those named in `front_desk_buckets`. `workforce_ip_policy_arn` is
    the allow-list's deny-from-elsewhere policy (infra/allowlist.py), attached to every role, so a
    session stolen from the office still cannot be used elsewhere (164.312(a)(1)). `backup_role_arn`
    defaults to the AWS Backup role's known name; `backup_vault_arns` scope the operator's vault reads.
    """

    allowlist_cidrs: tuple[str, ...]
    data_key_arn: pulumi.Input[str]
    workforce_ip_policy_arn: pulumi.Input[str]
    phi_bucket_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    front_desk_buckets: tuple[str, ...] = ("documents",)
    backup_role_arn: pulumi.Input[str] | None = None
    backup_vault_arns: Sequence[pulumi.Input[str]] = ()

    def __post_init__(self) -> None:
        if not self.allowlist_cidrs:
            raise ValueError("allowlist_cidrs is empty: no workforce role could be assumed (164.312(a)(1))")


class WorkforceAccess(pulumi.ComponentResource):
    """The password policy, the permissions boundary and one MFA-only role per workforce job."""

    password_policy: aws.iam.AccountPasswordPolicy
    boundary: aws.iam.Policy
    roles: dict[str, aws.iam.Role]

    def __init__(
        self,
        name: str,
        args: WorkforceAccessArgs,
        ctx: SpaContext,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("medspa:iam:WorkforceAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(ctx.account_id)
        partition, region = ctx.partition, ctx.region

        # 164.308(a)(5)(ii)(D) password management, for any console password in the account.
        self.password_policy = aws.iam.AccountPasswordPolicy(
            f"{name}-password-policy",
            minimum_password_length=PASSWORD_MIN_LENGTH,
            require_lowercase_characters=True,
            require_uppercase_characters=True,
            require_numbers=True,
            require_symbols=True,
            password_reuse_prevention=PASSWORD_REUSE_PREVENTION,
            max_password_age=PASSWORD_MAX_AGE_DAYS,
            allow_users_to_change_password=True,
            hard_expiry=False,
            opts=child,
        )
        self.boundary = aws.iam.Policy(
            f"{name}-boundary",
            name=BOUNDARY_NAME.format(spa=ctx.spa),
            description="Workforce boundary: no tampering with audit, detection, keys, backups or access",
            policy=account.apply(lambda acct: boundary_policy(partition, acct, ctx.spa)),
            tags=ctx.tags(DataClassification.INTERNAL),
            opts=child,
        )

        backup_role_arn = (
            pulumi.Output.from_input(args.backup_role_arn)
            if args.backup_role_arn is not None
            else account.apply(
                lambda acct: f"arn:{partition}:iam::{acct}:role/{BACKUP_ROLE_NAME.format(spa=ctx.spa)}"
            )
        )
        buckets = pulumi.Output.all(*args.phi_bucket_arns.values()).apply(
            lambda arns: dict(zip(args.phi_bucket_arns.keys(), [str(a) for a in arns], strict=True))
        )
        data_key = pulumi.Output.from_input(args.data_key_arn)
        vaults = pulumi.Output.all(*args.backup_vault_arns).apply(lambda arns: [str(a) for a in arns])
        front_desk = set(args.front_desk_buckets)
        inline: dict[str, pulumi.Output[str]] = {
            "admin": pulumi.Output.all(account, backup_role_arn).apply(
                lambda v: admin_policy(partition, v[0], v[1])
            ),
            "clinician": pulumi.Output.all(buckets, data_key).apply(
                lambda v: clinician_policy(list(v[0].values()), v[1], region)
            ),
            "front-desk": pulumi.Output.all(buckets, data_key).apply(
                lambda v: front_desk_policy(
                    [arn for role, arn in v[0].items() if role in front_desk],
                    list(v[0].values()),
                    v[1],
                    region,
                )
            ),
            "auditor": pulumi.Output.all(account, buckets, data_key).apply(
                lambda v: auditor_policy(partition, v[0], list(v[1].values()), v[2])
            ),
            "backup-operator": pulumi.Output.all(account, backup_role_arn, vaults).apply(
                lambda v: backup_operator_policy(partition, v[0], v[1], v[2])
            ),
        }

        self.roles = {}
        for role in WORKFORCE_ROLES:
            created = aws.iam.Role(
                f"{name}-{role}",
                name=ctx.name(role),  # break-glass: exactly f"{spa}-break-glass", the alarm matches it
                description=ROLE_DESCRIPTIONS[role],
                assume_role_policy=_trust_policy_output(
                    account, partition, args.allowlist_cidrs, elevated=role in ELEVATED_ROLES
                ),
                max_session_duration=MAX_SESSION_SECONDS,
                permissions_boundary=self.boundary.arn,
                tags=ctx.tags(DataClassification.INTERNAL, WorkforceRole=role),
                opts=child,
            )
            for managed in MANAGED_POLICIES[role]:
                aws.iam.RolePolicyAttachment(
                    f"{name}-{role}-{managed.lower()}",
                    role=created.name,
                    policy_arn=f"arn:{partition}:iam::aws:policy/{managed}",
                    opts=child,
                )
            if role in inline:
                aws.iam.RolePolicy(
                    f"{name}-{role}-access",
                    name=f"{role}-access",
                    role=created.id,
                    policy=inline[role],
                    opts=child,
                )
            aws.iam.RolePolicyAttachment(
                f"{name}-{role}-ip-allowlist",
                role=created.name,
                policy_arn=args.workforce_ip_policy_arn,
                opts=child,
            )
            self.roles[role] = created

        self.register_outputs(
            {
                "boundaryArn": self.boundary.arn,
                "roleArns": {role: r.arn for role, r in self.roles.items()},
            }
        )
