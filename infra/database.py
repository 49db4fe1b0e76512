"""The spa's PHI database: RDS in the isolated subnets, encrypted, TLS-only, audited and hard to lose.

164.312(a)(2)(iv) encryption: storage, Performance Insights and the managed master secret under the data key.
164.312(e)(1) transmission security: the parameter group refuses connections without TLS.
164.312(a)(1) access control: not public; ingress only from the app tier and the admin prefix list;
IAM database authentication; the master password lives only in Secrets Manager.
164.312(b) audit controls: connection and engine logs exported to CMK-encrypted, retained log groups.
164.308(a)(7)(ii)(A) and 164.312(c)(1): 35 days of automated backups, a final snapshot, deletion protection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.context import DataClassification, SpaContext

BACKUP_RETENTION_DAYS = 35  # the most RDS automated backups allow; AWS Backup keeps the long-term copies
CA_CERT_IDENTIFIER = "rds-ca-rsa2048-g1"
MASTER_USERNAME = "spa_admin"
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7  # the free tier; metrics, not PHI
BACKUP_WINDOW = "07:00-08:00"  # UTC: small hours in US time zones
MAINTENANCE_WINDOW = "sun:08:30-sun:09:30"

# Engine logs exported to CloudWatch Logs (only what each engine supports).
LOG_EXPORTS: dict[str, tuple[str, ...]] = {
    "postgres": ("postgresql", "upgrade"),
    "mysql": ("audit", "error", "general", "slowquery"),
    "mariadb": ("audit", "error", "general", "slowquery"),
}
# Audit plugin events: connections and schema/privilege changes, never query text (it would hold PHI).
MYSQL_AUDIT_EVENTS = "CONNECT,QUERY_DDL,QUERY_DCL"


def tls_parameters(engine: str, engine_version: str) -> list[dict[str, str]]:
    """Parameters that refuse unencrypted connections (164.312(e)(1)) and log sessions (164.312(b))."""
    if engine == "postgres":
        parameters = [
            {"name": "rds.force_ssl", "value": "1"},
            {"name": "log_connections", "value": "1"},
            {"name": "log_disconnections", "value": "1"},
            {"name": "log_statement", "value": "ddl"},
        ]
        if int(engine_version.split(".")[0]) >= 12:
            parameters.append({"name": "ssl_min_protocol_version", "value": "TLSv1.2"})
        return parameters
    return [{"name": "require_secure_transport", "value": "ON"}]


def log_group_names(identifier: str, engine: str) -> dict[str, str]:
    """The log groups RDS writes each exported log to; created ahead so they are CMK-encrypted from line one."""
    return {log: f"/aws/rds/instance/{identifier}/{log}" for log in LOG_EXPORTS[engine]}


def major_version(engine: str, engine_version: str) -> str:
    """The option-group version: "8.0" for MySQL 8.0.x, "10.11" for MariaDB 10.11.x."""
    parts = engine_version.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else f"{parts[0]}.0"


@dataclass(frozen=True)
class DatabaseArgs:
    """Engine choices from config; network, allow-list and keys from the earlier components.

    `admin_prefix_list_ids` are managed prefix lists of admin addresses allowed to the database port
    (with the app security group, the only ingress).
    """

    engine: str
    engine_version: str
    parameter_family: str
    instance_class: str
    multi_az: bool
    allocated_storage_gb: int
    db_name: str
    port: int
    subnet_ids: Sequence[pulumi.Input[str]]
    vpc_id: pulumi.Input[str]
    app_security_group_id: pulumi.Input[str]
    admin_prefix_list_ids: Sequence[pulumi.Input[str]]
    data_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int


class Database(pulumi.ComponentResource):
    """A private, encrypted, TLS-only RDS instance with managed credentials and protected backups."""

    instance: aws.rds.Instance
    security_group: aws.ec2.SecurityGroup
    subnet_group: aws.rds.SubnetGroup
    parameter_group: aws.rds.ParameterGroup
    option_group: aws.rds.OptionGroup | None
    log_groups: dict[str, aws.cloudwatch.LogGroup]

    def __init__(
        self, name: str, args: DatabaseArgs, ctx: SpaContext, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medspa:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identifier = ctx.name("phi-db")

        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=ctx.name("phi-db-isolated"),
            description="Isolated data subnets: no route to the internet",
            subnet_ids=list(args.subnet_ids),
            tags=ctx.tags(DataClassification.INTERNAL),
            opts=child,
        )

        ingress: list[aws.ec2.SecurityGroupIngressArgsDict] = [
            {
                "description": "Database from the spa's application tier",
                "protocol": "tcp",
                "from_port": args.port,
                "to_port": args.port,
                "security_groups": [args.app_security_group_id],
            }
        ]
        if args.admin_prefix_list_ids:
            ingress.append(
                {
                    "description": "Database from the contractor's allow-listed admin addresses",
                    "protocol": "tcp",
                    "from_port": args.port,
                    "to_port": args.port,
                    "prefix_list_ids": list(args.admin_prefix_list_ids),
                }
            )
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=ctx.name("phi-db"),
            description="PHI database: the app tier and admin allow-list only, on the database port",
            vpc_id=args.vpc_id,
            ingress=ingress,
            egress=[],  # the database never initiates connections
            revoke_rules_on_delete=True,
            tags=ctx.tags(DataClassification.INTERNAL, Name=ctx.name("phi-db")),
            opts=child,
        )

        self.parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            name_prefix=ctx.name("phi-db-"),
            family=args.parameter_family,
            description="Forces TLS on every connection and logs sessions",
            parameters=[
                {"name": p["name"], "value": p["value"], "apply_method": "immediate"}
                for p in tls_parameters(args.engine, args.engine_version)
            ],
            tags=ctx.tags(DataClassification.INTERNAL),
            opts=child,
        )

        self.option_group = None
        if args.engine in ("mysql", "mariadb"):
            # The audit log export is empty without the audit plugin (164.312(b)).
            self.option_group = aws.rds.OptionGroup(
                f"{name}-options",
                name_prefix=ctx.name("phi-db-"),
                option_group_description="Audit plugin: connections and schema changes",
                engine_name=args.engine,
                major_engine_version=major_version(args.engine, args.engine_version),
                options=[
                    {
                        "option_name": "MARIADB_AUDIT_PLUGIN",
                        "option_settings": [{"name": "SERVER_AUDIT_EVENTS", "value": MYSQL_AUDIT_EVENTS}],
                    }
                ],
                tags=ctx.tags(DataClassification.INTERNAL),
                opts=child,
            )

        # Created before the instance: otherwise RDS creates them unencrypted and kept forever.
        self.log_groups = {
            log: aws.cloudwatch.LogGroup(
                f"{name}-log-{log}",
                name=group_name,
                kms_key_id=args.logs_key_arn,
                retention_in_days=args.log_retention_days,
                tags=ctx.tags(DataClassification.AUDIT),
                opts=ctx.keep(pulumi.ResourceOptions(parent=self)),
            )
            for log, group_name in log_group_names(identifier, args.engine).items()
        }

        self.instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=identifier,
            engine=args.engine,
            engine_version=args.engine_version,
            instance_class=args.instance_class,
            multi_az=args.multi_az,
            db_name=args.db_name,
            port=args.port,
            username=MASTER_USERNAME,
            # The password is generated and rotated by RDS in Secrets Manager, under the data key;
            # it never appears in config, state or outputs (164.312(a)(1), 164.312(a)(2)(iv)).
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.data_key_arn,
            iam_database_authentication_enabled=True,
            storage_type="gp3",
            allocated_storage=args.allocated_storage_gb,
            storage_encrypted=True,
            kms_key_id=args.data_key_arn,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[self.security_group.id],
            publicly_accessible=False,
            network_type="IPV4",
            parameter_group_name=self.parameter_group.name,
            option_group_name=self.option_group.name if self.option_group is not None else None,
            ca_cert_identifier=CA_CERT_IDENTIFIER,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS[args.engine]),
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.data_key_arn,
            performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION_DAYS,
            backup_retention_period=BACKUP_RETENTION_DAYS,
            backup_window=BACKUP_WINDOW,
            maintenance_window=MAINTENANCE_WINDOW,
            copy_tags_to_snapshot=True,
            delete_automated_backups=False,
            deletion_protection=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{identifier}-final",
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            apply_immediately=False,
            tags=ctx.tags(DataClassification.PHI),
            opts=ctx.keep(pulumi.ResourceOptions(parent=self, depends_on=list(self.log_groups.values()))),
        )

        self.register_outputs(
            {
                "endpoint": self.instance.endpoint,
                "securityGroupId": self.security_group.id,
                "masterUserSecretArn": self.instance.master_user_secrets.apply(
                    lambda secrets: secrets[0].secret_arn if secrets else None
                ),
            }
        )
