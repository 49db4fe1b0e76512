"""Encrypted, locked backups of every PHI store, copied to a second region and restored on a schedule.

164.308(a)(7)(ii)(A) data backup plan: daily, monthly and continuous (point-in-time) backups of every
resource tagged `medspa:backup` = `phi`. 164.308(a)(7)(ii)(B) disaster recovery plan: every recovery
point is copied to a vault in the DR region under that region's own key. 164.310(d)(2)(iv) data backup
and storage: Vault Lock and a vault access policy keep recovery points from being deleted or shortened.
164.312(a)(2)(iv) encryption: both vaults and every test restore use customer-managed keys.
164.308(a)(7)(ii)(D) testing and revision: an AWS Backup restore testing plan restores the latest
recovery points every month, inside the isolated subnets and under the data key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.context import BACKUP_TAG_KEY, BACKUP_TAG_VALUE, DataClassification, SpaContext
from infra.keys import DELETION_WINDOW_DAYS, backup_key_policy
from infra.storage import BACKUP_ROLE_NAME

# AWS Backup keeps continuous (point-in-time) recovery points at most 35 days.
CONTINUOUS_BACKUP_MAX_RETENTION_DAYS = 35

DAILY_SCHEDULE = "cron(0 5 ? * * *)"  # 05:00 UTC every day, outside a US clinic's hours
MONTHLY_SCHEDULE = "cron(0 5 1 * ? *)"  # 05:00 UTC on the 1st of every month
# The continuous rule's own daily snapshot, offset from the daily rule's.
CONTINUOUS_SCHEDULE = "cron(0 17 ? * * *)"
START_WINDOW_MINUTES = 60  # AWS Backup's minimum: a job that cannot start within an hour fails loudly
COMPLETION_WINDOW_MINUTES = 720  # twelve hours to finish before the job is marked EXPIRED

RESTORE_TEST_SCHEDULE = "cron(0 9 2 * ? *)"  # 09:00 UTC on the 2nd: the day after the monthly backup
RESTORE_TEST_START_WINDOW_HOURS = 8
RESTORE_TEST_SELECTION_WINDOW_DAYS = 7  # only a recovery point from the last week counts as "latest"
# How long a restored copy stays up for checks; then AWS Backup deletes it.
RESTORE_TEST_VALIDATION_WINDOW_HOURS = 4

# Only these vault events are still delivered by AWS Backup; BACKUP_JOB_FAILED and RESTORE_JOB_FAILED
# are accepted by the API but deprecated and never sent. Failed backup, copy and restore jobs are
# reported by the EventBridge rules below instead (BACKUP_JOB_COMPLETED would also mail every success).
VAULT_NOTIFICATION_EVENTS: tuple[str, ...] = (
    "COPY_JOB_FAILED",
    "S3_BACKUP_OBJECT_FAILED",
    "S3_RESTORE_OBJECT_FAILED",
    "CONTINUOUS_BACKUP_INTERRUPTED",
    "RECOVERY_POINT_MODIFIED",
)
FAILED_JOB_STATES: tuple[str, ...] = ("FAILED", "ABORTED", "EXPIRED", "PARTIAL")
FAILED_RESTORE_STATUSES: tuple[str, ...] = ("FAILED", "ABORTED")
# The role part of the restore testing plan's name (restore_testing_name); the drill reads it back.
RESTORE_TESTING_PLAN_ROLE = "restore_tests"

# Nobody, not even the account root user, may delete or shorten a recovery point, or detach a
# continuous backup from its resource; AWS Backup's own lifecycle still expires them on schedule.
RECOVERY_POINT_DENIED_ACTIONS: tuple[str, ...] = (
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:DisassociateRecoveryPoint",
    "backup:DisassociateRecoveryPointFromParent",
    "backup:DeleteBackupVault",
)
# The vault's own guards change only when the root user (MFA, alarmed on every use) does it.
VAULT_GUARD_ACTIONS: tuple[str, ...] = (
    "backup:PutBackupVaultAccessPolicy",
    "backup:DeleteBackupVaultAccessPolicy",
    "backup:PutBackupVaultLockConfiguration",
    "backup:DeleteBackupVaultLockConfiguration",
)

BACKUP_SERVICE_POLICIES: tuple[str, ...] = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)


def vault_access_policy(partition: str, account_id: str) -> str:
    """Deny recovery point deletion to every principal; the account may still copy recovery points in."""
    root = f"arn:{partition}:iam::{account_id}:root"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyRecoveryPointDeletion",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(RECOVERY_POINT_DENIED_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "DenyGuardChangesExceptRoot",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(VAULT_GUARD_ACTIONS),
            "Resource": "*",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": root}},
        },
        {
            "Sid": "AccountCopiesRecoveryPointsIn",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "backup:CopyIntoBackupVault",
            "Resource": "*",
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def backup_role_trust_policy(account_id: str) -> str:
    """Only AWS Backup acting for this account may assume the role (confused-deputy guard)."""
    statement = {
        "Sid": "AwsBackupForThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": "backup.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def failed_jobs_pattern() -> str:
    """Backup and copy jobs report `state`; any end other than success goes to the alert topic."""
    return json.dumps(
        {
            "source": ["aws.backup"],
            "detail-type": ["Backup Job State Change", "Copy Job State Change"],
            "detail": {"state": list(FAILED_JOB_STATES)},
        }
    )


def failed_restores_pattern() -> str:
    """Restore jobs (including the scheduled restore tests) report `status`, not `state`."""
    return json.dumps(
        {
            "source": ["aws.backup"],
            "detail-type": ["Restore Job State Change"],
            "detail": {"status": list(FAILED_RESTORE_STATUSES)},
        }
    )


def restore_testing_name(spa: str, role: str) -> str:
    """Restore testing names allow only letters, digits and underscores."""
    return f"{spa}_{role}".replace("-", "_")


@dataclass(frozen=True)
class BackupsArgs:
    """What the backups need from config, the keys, the alert topic, the network and the database.

    `allow_vault_lock_removal` weakens 164.310(d)(2)(iv) and 164.308(a)(7)(ii)(A): the vaults are
    locked in governance mode instead of compliance mode, so anyone allowed
    backup:DeleteBackupVaultLockConfiguration (here: the root user) can remove the lock and then
    shorten retention or delete recovery points. Leave it False unless the spa's counsel accepts that.
    """

    backup_key_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    dr_region: str
    daily_retention_days: int
    long_retention_days: int
    cold_storage_after_days: int
    vault_lock_changeable_days: int
    restore_vpc_id: pulumi.Input[str]
    restore_db_subnet_group_name: pulumi.Input[str]
    restore_kms_key_arn: pulumi.Input[str]
    allow_vault_lock_removal: bool = False


class Backups(pulumi.ComponentResource):
    """Primary and DR vaults under Vault Lock, a tag-selected backup plan, alerts and restore tests."""

    dr_provider: aws.Provider
    dr_key: aws.kms.Key
    vault: aws.backup.Vault
    dr_vault: aws.backup.Vault
    vault_locks: dict[str, aws.backup.VaultLockConfiguration]
    vault_policies: dict[str, aws.backup.VaultPolicy]
    role: aws.iam.Role
    plan: aws.backup.Plan
    selection: aws.backup.Selection
    notifications: aws.backup.VaultNotifications
    failure_rules: dict[str, aws.cloudwatch.EventRule]
    restore_security_group: aws.ec2.SecurityGroup
    restore_testing_plan: aws.backup.RestoreTestingPlan
    restore_testing_selections: dict[str, aws.backup.RestoreTestingSelection]

    def __init__(
        self, name: str, args: BackupsArgs, ctx: SpaContext, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medspa:backups:Backups", name, None, opts)
        account = pulumi.Output.from_input(ctx.account_id)
        self.dr_provider = aws.Provider(
            f"{name}-dr-provider", region=args.dr_region, opts=pulumi.ResourceOptions(parent=self)
        )
        dr_opts = pulumi.ResourceOptions(parent=self, provider=self.dr_provider)

        self.dr_key = aws.kms.Key(
            f"{name}-dr-key",
            description=f"{ctx.spa} backup key in {args.dr_region}: AWS Backup DR copies",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            multi_region=False,
            policy=account.apply(lambda acct: backup_key_policy(ctx.partition, acct, args.dr_region)),
            region=args.dr_region,
            tags=ctx.tags(DataClassification.BACKUP, Purpose="backup-dr"),
            opts=ctx.keep(dr_opts),
        )
        aws.kms.Alias(
            f"{name}-dr-key-alias",
            name=f"alias/{ctx.spa}/backup-dr",
            target_key_id=self.dr_key.key_id,
            region=args.dr_region,
            opts=dr_opts,
        )

        self.vault = aws.backup.Vault(
            f"{name}-vault",
            name=ctx.name("vault"),
            kms_key_arn=args.backup_key_arn,
            force_destroy=False,
            tags=ctx.tags(DataClassification.BACKUP),
            opts=ctx.keep(pulumi.ResourceOptions(parent=self)),
        )
        self.dr_vault = aws.backup.Vault(
            f"{name}-dr-vault",
            name=ctx.name("dr-vault"),
            kms_key_arn=self.dr_key.arn,
            force_destroy=False,
            region=args.dr_region,
            tags=ctx.tags(DataClassification.BACKUP, Purpose="dr-copies"),
            opts=ctx.keep(dr_opts),
        )

        self.vault_locks = {}
        self.vault_policies = {}
        shortest_retention = min(args.daily_retention_days, CONTINUOUS_BACKUP_MAX_RETENTION_DAYS)
        if args.allow_vault_lock_removal:
            pulumi.log.warn(
                f"{ctx.spa}: backup vaults are locked in GOVERNANCE mode (medspa:vaultLockMode); the lock "
                "can be removed and recovery points deleted (164.310(d)(2)(iv))",
                resource=self,
            )
        # Set: compliance mode, immutable once the window passes. Omitted: governance mode.
        changeable_days = None if args.allow_vault_lock_removal else args.vault_lock_changeable_days
        for role, vault, vault_opts, region in (
            ("vault", self.vault, pulumi.ResourceOptions(parent=self), None),
            ("dr-vault", self.dr_vault, dr_opts, args.dr_region),
        ):
            lock = aws.backup.VaultLockConfiguration(
                f"{name}-{role}-lock",
                backup_vault_name=vault.name,
                min_retention_days=shortest_retention,
                max_retention_days=args.long_retention_days,
                changeable_for_days=changeable_days,
                region=region,
                opts=ctx.keep(vault_opts),
            )
            self.vault_locks[role] = lock
            # After the lock: the policy denies lock changes to everyone but root, the deployer included.
            after_lock = pulumi.ResourceOptions(depends_on=[lock])
            self.vault_policies[role] = aws.backup.VaultPolicy(
                f"{name}-{role}-policy",
                backup_vault_name=vault.name,
                policy=account.apply(lambda acct: vault_access_policy(ctx.partition, acct)),
                region=region,
                opts=ctx.keep(pulumi.ResourceOptions.merge(vault_opts, after_lock)),
            )

        self.role = aws.iam.Role(
            f"{name}-role",
            name=BACKUP_ROLE_NAME.format(spa=ctx.spa),  # the name PHI bucket policies exempt
            description="AWS Backup: back up and restore the spa's PHI stores (RDS, S3)",
            assume_role_policy=account.apply(backup_role_trust_policy),
            tags=ctx.tags(DataClassification.INTERNAL),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # AWS's managed Backup/Restore policies (S3 included) rather than an inline copy: AWS keeps them
        # in step with what each service's backup and restore calls need, so a restore never fails in a
        # disaster for a permission nobody tested. The trust policy limits them to AWS Backup for this
        # account, and the key policies limit the keys to this account's services.
        for policy in BACKUP_SERVICE_POLICIES:
            aws.iam.RolePolicyAttachment(
                f"{name}-role-{policy.rsplit('/', 1)[-1]}",
                role=self.role.name,
                policy_arn=f"arn:{ctx.partition}:iam::aws:policy/{policy}",
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.plan = self._plan(name, args, ctx, shortest_retention)
        self.selection = aws.backup.Selection(
            f"{name}-phi-selection",
            name=ctx.name("phi"),
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            selection_tags=[
                aws.backup.SelectionSelectionTagArgs(
                    type="STRINGEQUALS", key=BACKUP_TAG_KEY, value=BACKUP_TAG_VALUE
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.notifications = aws.backup.VaultNotifications(
            f"{name}-vault-notifications",
            backup_vault_name=self.vault.name,
            sns_topic_arn=args.alert_topic_arn,
            backup_vault_events=list(VAULT_NOTIFICATION_EVENTS),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.failure_rules = {}
        rules = {
            "job-failures": (
                "AWS Backup or copy job failed, aborted, expired or partial",
                failed_jobs_pattern(),
            ),
            "restore-failures": (
                "AWS Backup restore job (or restore test) failed",
                failed_restores_pattern(),
            ),
        }
        for slug, (description, pattern) in rules.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{slug}",
                name=ctx.name(f"backup-{slug}"),
                description=description,
                event_pattern=pattern,
                tags=ctx.tags(DataClassification.AUDIT),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{slug}-to-alerts",
                rule=rule.name,
                target_id="alert-topic",
                arn=args.alert_topic_arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.failure_rules[slug] = rule

        self._restore_testing(name, args, ctx)
        self.register_outputs(
            {
                "vaultArn": self.vault.arn,
                "drVaultArn": self.dr_vault.arn,
                "drKeyArn": self.dr_key.arn,
                "planId": self.plan.id,
                "roleArn": self.role.arn,
                "restoreTestingPlanArn": self.restore_testing_plan.arn,
            }
        )

    def _plan(self, name: str, args: BackupsArgs, ctx: SpaContext, continuous_days: int) -> aws.backup.Plan:
        """Daily, monthly and continuous rules; each copies its recovery points to the DR vault."""

        def rule(
            rule_name: str, schedule: str, delete_after: int, cold_after: int | None, continuous: bool
        ) -> aws.backup.PlanRuleArgs:
            return aws.backup.PlanRuleArgs(
                rule_name=rule_name,
                target_vault_name=self.vault.name,
                schedule=schedule,
                start_window=START_WINDOW_MINUTES,
                completion_window=COMPLETION_WINDOW_MINUTES,
                enable_continuous_backup=continuous,
                lifecycle=aws.backup.PlanRuleLifecycleArgs(
                    delete_after=delete_after, cold_storage_after=cold_after
                ),
                copy_actions=[
                    aws.backup.PlanRuleCopyActionArgs(
                        destination_vault_arn=self.dr_vault.arn,
                        lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                            delete_after=delete_after, cold_storage_after=cold_after
                        ),
                    )
                ],
                recovery_point_tags=ctx.tags(DataClassification.BACKUP, BackupRule=rule_name),
            )

        # Cold storage applies to the resource types that support it; AWS ignores it for the rest.
        return aws.backup.Plan(
            f"{name}-plan",
            name=ctx.name("phi-backups"),
            rules=[
                rule("daily", DAILY_SCHEDULE, args.daily_retention_days, None, False),
                rule(
                    "monthly",
                    MONTHLY_SCHEDULE,
                    args.long_retention_days,
                    args.cold_storage_after_days,
                    False,
                ),
                rule("continuous", CONTINUOUS_SCHEDULE, continuous_days, None, True),
            ],
            tags=ctx.tags(DataClassification.BACKUP),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _restore_testing(self, name: str, args: BackupsArgs, ctx: SpaContext) -> None:
        """Monthly restore tests of the database and the PHI buckets, kept private and under our key.

        Without the overrides AWS Backup restores S3 recovery points with SSE-S3 (AWS's key, not ours)
        and RDS recovery points into the default VPC; both would put a copy of PHI outside the controls.
        """
        self.restore_security_group = aws.ec2.SecurityGroup(
            f"{name}-restore-test-sg",
            name=ctx.name("restore-test"),
            description="Restore tests: no ingress and no egress; nothing may reach a restored copy",
            vpc_id=args.restore_vpc_id,
            ingress=[],
            egress=[],
            tags=ctx.tags(DataClassification.CONFIDENTIAL, Name=ctx.name("restore-test")),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.restore_testing_plan = aws.backup.RestoreTestingPlan(
            f"{name}-restore-testing-plan",
            name=restore_testing_name(ctx.spa, RESTORE_TESTING_PLAN_ROLE),
            schedule_expression=RESTORE_TEST_SCHEDULE,
            schedule_expression_timezone="Etc/UTC",
            start_window_hours=RESTORE_TEST_START_WINDOW_HOURS,
            recovery_point_selection=aws.backup.RestoreTestingPlanRecoveryPointSelectionArgs(
                algorithm="LATEST_WITHIN_WINDOW",
                include_vaults=[self.vault.arn],
                recovery_point_types=["CONTINUOUS", "SNAPSHOT"],
                selection_window_days=RESTORE_TEST_SELECTION_WINDOW_DAYS,
            ),
            tags=ctx.tags(DataClassification.BACKUP),
            opts=pulumi.ResourceOptions(parent=self),
        )
        phi_only = aws.backup.RestoreTestingSelectionProtectedResourceConditionsArgs(
            string_equals=[
                aws.backup.RestoreTestingSelectionProtectedResourceConditionsStringEqualArgs(
                    key=f"aws:ResourceTag/{BACKUP_TAG_KEY}", value=BACKUP_TAG_VALUE
                )
            ]
        )
        overrides: dict[str, dict[str, pulumi.Input[str]]] = {
            "RDS": {
                "dbSubnetGroupName": args.restore_db_subnet_group_name,
                "vpcSecurityGroupIds": self.restore_security_group.id.apply(lambda sg: json.dumps([sg])),
                "kmsKeyId": args.restore_kms_key_arn,
                "publiclyAccessible": "false",
            },
            "S3": {"encryptionType": "SSE_KMS", "kmsKey": args.restore_kms_key_arn},
        }
        self.restore_testing_selections = {}
        for resource_type, metadata in overrides.items():
            self.restore_testing_selections[resource_type] = aws.backup.RestoreTestingSelection(
                f"{name}-restore-test-{resource_type.lower()}",
                name=restore_testing_name(ctx.spa, resource_type.lower()),
                restore_testing_plan_name=self.restore_testing_plan.name,
                protected_resource_type=resource_type,
                protected_resource_arns=["*"],
                protected_resource_conditions=phi_only,
                iam_role_arn=self.role.arn,
                restore_metadata_overrides=metadata,
                validation_window_hours=RESTORE_TEST_VALIDATION_WINDOW_HOURS,
                opts=pulumi.ResourceOptions(parent=self),
            )
