"""The spa environment as one Pulumi program: validated config in, secure components out.

Both `pulumi up` (through infra/__main__.py) and the offline synth call `build`, so what CI checks
is exactly what deploys. Components are created in dependency order; each takes what it needs from
the earlier ones through its Args.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.alerts import Alerts, AlertsArgs
from infra.allowlist import Allowlist, AllowlistArgs
from infra.audit import AuditTrail, AuditTrailArgs
from infra.backups import Backups, BackupsArgs
from infra.config import SpaConfig, VaultLockMode
from infra.context import SpaContext
from infra.database import Database, DatabaseArgs
from infra.detection import Detection, DetectionArgs
from infra.iam import WorkforceAccess, WorkforceAccessArgs
from infra.keys import Keys, KeysArgs
from infra.network import Network, NetworkArgs, db_port
from infra.storage import BACKUP_ROLE_NAME, PhiStorage, PhiStorageArgs


@dataclass
class SpaEnvironment:
    """Handles on the components, for tests and for components that build on earlier ones."""

    ctx: SpaContext
    keys: Keys
    alerts: Alerts
    components: dict[str, Any] = field(default_factory=dict)


def build(config: SpaConfig) -> SpaEnvironment:
    """Create every resource of the spa; config was validated before this is called."""
    identity = aws.get_caller_identity_output()
    ctx = SpaContext(config=config, account_id=identity.account_id)
    keys = Keys("keys", KeysArgs(region=config.region), ctx)
    alerts = Alerts(
        "alerts", AlertsArgs(kms_key_arn=keys.logs_key.arn, emails=tuple(map(str, config.alert_emails))), ctx
    )
    env = SpaEnvironment(ctx=ctx, keys=keys, alerts=alerts)

    network = Network(
        "network",
        NetworkArgs(
            vpc_cidr=config.vpc_cidr,
            region=config.region,
            flow_log_key_arn=keys.logs_key.arn,
            flow_log_retention_days=config.log_retention_days,
            db_port=db_port(config.db_engine.value),
            skip_interface_endpoints=config.skip_interface_endpoints,
        ),
        ctx,
    )
    env.components["network"] = network
    env.components["allowlist"] = Allowlist(
        "allowlist",
        AllowlistArgs(
            office_cidrs=config.office_cidrs,
            admin_cidrs=config.admin_cidrs,
            vpc_id=network.vpc.id,
            enable_staff_portal_waf=config.enable_staff_portal_waf,
            waf_log_key_arn=keys.logs_key.arn,
            waf_log_retention_days=config.log_retention_days,
        ),
        ctx,
    )
    allowlist = env.components["allowlist"]
    env.components["storage"] = PhiStorage(
        "storage",
        PhiStorageArgs(
            roles=config.phi_buckets,
            data_key_arn=keys.data_key.arn,
            vpc_id=network.vpc.id,
            s3_endpoint_id=network.s3_endpoint.id,
            allowlist_cidrs=allowlist.cidrs,
            noncurrent_version_days=config.noncurrent_version_days,
            log_retention_days=config.log_retention_days,
            # AWS Backup reaches the buckets with this role from AWS's network (164.308(a)(7)(ii)(A)).
            exempt_role_names=(BACKUP_ROLE_NAME.format(spa=config.spa),),
        ),
        ctx,
    )
    admin_lists = [allowlist.admin_prefix_list, allowlist.admin_prefix_list_v6]
    env.components["database"] = Database(
        "database",
        DatabaseArgs(
            engine=config.db_engine.value,
            engine_version=config.db_engine_version,
            parameter_family=config.db_parameter_family,
            instance_class=config.db_instance_class,
            multi_az=config.db_multi_az,
            allocated_storage_gb=config.db_allocated_storage_gb,
            db_name=config.db_name,
            port=db_port(config.db_engine.value),
            subnet_ids=[subnet.id for subnet in network.data_subnets],
            vpc_id=network.vpc.id,
            app_security_group_id=network.app_security_group.id,
            admin_prefix_list_ids=[pl.id for pl in admin_lists if pl is not None],
            data_key_arn=keys.data_key.arn,
            logs_key_arn=keys.logs_key.arn,
            log_retention_days=config.log_retention_days,
        ),
        ctx,
    )
    # CloudTrail of every region into the Object Lock archive and CloudWatch Logs, S3 data events on
    # every PHI bucket, and the security alarms (164.312(b), 164.312(c)(1), 164.316(b)(2)(i)).
    env.components["audit"] = AuditTrail(
        "audit",
        AuditTrailArgs(
            logs_key_arn=keys.logs_key.arn,
            alert_topic_arn=alerts.topic.arn,
            phi_bucket_arns=[bucket.arn for bucket in env.components["storage"].phi_buckets.values()],
            audit_log_retention_days=config.audit_log_retention_days,
            access_log_bucket=env.components["storage"].access_log_bucket.id,
        ),
        ctx,
    )
    # Locked vaults in two regions, the PHI-tag backup plan and monthly restore tests
    # (164.308(a)(7)(ii)(A), (B) and (D), 164.310(d)(2)(iv)).
    env.components["backups"] = Backups(
        "backups",
        BackupsArgs(
            backup_key_arn=keys.backup_key.arn,
            alert_topic_arn=alerts.topic.arn,
            dr_region=config.dr_region,
            daily_retention_days=config.backup_retention_days,
            long_retention_days=config.long_backup_retention_days,
            cold_storage_after_days=config.cold_storage_after_days,
            vault_lock_changeable_days=config.vault_lock_changeable_days,
            restore_vpc_id=network.vpc.id,
            restore_db_subnet_group_name=env.components["database"].subnet_group.name,
            restore_kms_key_arn=keys.data_key.arn,
            allow_vault_lock_removal=config.vault_lock_mode is VaultLockMode.GOVERNANCE,
        ),
        ctx,
    )
    # GuardDuty, Security Hub, AWS Config delivering into the log archive with managed rules, Access
    # Analyzer and EBS encryption by default (164.308(a)(1)(ii)(D), 164.308(a)(5)(ii)(B),
    # 164.308(a)(6)(ii), 164.312(a)(2)(iv)); adopted singletons are not created.
    audit = env.components["audit"]
    env.components["detection"] = Detection(
        "detection",
        DetectionArgs(
            alert_topic_arn=alerts.topic.arn,
            data_key_arn=keys.data_key.arn,
            log_archive_bucket=audit.log_archive_bucket.id,
            logs_key_arn=keys.logs_key.arn,
            log_archive_ready=(audit.log_archive.policy,),
            adopt_existing_config_recorder=config.adopt_existing_config_recorder,
            adopt_existing_guard_duty=config.adopt_existing_guard_duty,
            adopt_existing_security_hub=config.adopt_existing_security_hub,
        ),
        ctx,
    )
    # Workforce roles assumed with MFA from the allow-list, under one boundary, and the password policy
    # (164.308(a)(3), 164.308(a)(4), 164.312(a)(1), 164.312(a)(2)(i)-(ii), 164.312(d)).
    backups = env.components["backups"]
    env.components["iam"] = WorkforceAccess(
        "iam",
        WorkforceAccessArgs(
            allowlist_cidrs=allowlist.cidrs,
            data_key_arn=keys.data_key.arn,
            workforce_ip_policy_arn=allowlist.workforce_ip_policy.arn,
            phi_bucket_arns={role: b.arn for role, b in env.components["storage"].phi_buckets.items()},
            backup_role_arn=backups.role.arn,
            backup_vault_arns=(backups.vault.arn, backups.dr_vault.arn),
        ),
        ctx,
    )

    pulumi.export("spa", config.spa)
    pulumi.export("region", config.region)
    pulumi.export("drRegion", config.dr_region)
    pulumi.export("dataKeyArn", keys.data_key.arn)
    pulumi.export("alertTopicArn", alerts.topic.arn)
    return env
