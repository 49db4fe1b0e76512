"""Detection: GuardDuty, Security Hub, AWS Config with managed rules, IAM Access Analyzer, EBS encryption.

164.308(a)(1)(ii)(D) information system activity review: Config records every resource change and its
managed rules keep proving after deploy what the policy gate proves before it. 164.308(a)(5)(ii)(B)
protection from malicious software: GuardDuty with S3, RDS login and malware protection.
164.308(a)(5)(ii)(C) log-in monitoring: GuardDuty RDS login events, Security Hub. 164.308(a)(6)
security incident procedures: high-severity findings reach the alert topic. 164.312(a)(2)(iv): EBS
volumes encrypted by default with the PHI data key.

GuardDuty, Security Hub and the Config recorder are singletons per account and region. A stack may
adopt an existing one (`adopt_existing_*`): the singleton is then not created, and what can work with
the existing one (the findings rule, the standards subscriptions, the Config rules) still is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.config import BACKUP_RETENTION_FLOOR_DAYS
from infra.context import DataClassification, SpaContext
from infra.log_archive import CONFIG_PREFIX

# GuardDuty protections this kit depends on (valid names: pulumi_aws.guardduty.DetectorFeature).
GUARDDUTY_FEATURES: dict[str, str] = {
    "S3_DATA_EVENTS": "S3 protection: suspicious access to the PHI buckets (164.308(a)(5)(ii)(B))",
    "RDS_LOGIN_EVENTS": "RDS protection: anomalous database logins (164.308(a)(5)(ii)(C))",
    "EBS_MALWARE_PROTECTION": "Malware scans of EBS volumes (164.308(a)(5)(ii)(B))",
}
GUARDDUTY_PUBLISHING_FREQUENCY = "FIFTEEN_MINUTES"  # the shortest: findings reach people sooner
HIGH_SEVERITY = 7  # GuardDuty's "High" band starts at 7.0

CONFIG_MANAGED_POLICY = "service-role/AWS_ConfigRole"
CONFIG_SNAPSHOT_FREQUENCY = "TwentyFour_Hours"

# Password policy the IAM_PASSWORD_POLICY rule checks (the same values infra/iam.py sets).
PASSWORD_MIN_LENGTH = 14
PASSWORD_REUSE_PREVENTION = 24
PASSWORD_MAX_AGE_DAYS = 90
MIN_BACKUP_RETENTION_DAYS = BACKUP_RETENTION_FLOOR_DAYS  # 164.308(a)(7)(ii)(A)
UNUSED_CREDENTIAL_MAX_AGE_DAYS = 45  # 164.308(a)(3)(ii)(C): credentials nobody uses are revoked


def security_hub_standards(partition: str, region: str) -> dict[str, str]:
    """Standards ARNs are regional: arn:<partition>:securityhub:<region>::standards/<name>/v/<version>."""
    base = f"arn:{partition}:securityhub:{region}::standards"
    return {
        "fsbp": f"{base}/aws-foundational-security-best-practices/v/1.0.0",
        "cis": f"{base}/cis-aws-foundations-benchmark/v/3.0.0",
    }


def high_severity_findings_pattern() -> str:
    """GuardDuty findings of severity 7 or more (High and Critical), by numeric matching."""
    return json.dumps(
        {
            "source": ["aws.guardduty"],
            "detail-type": ["GuardDuty Finding"],
            "detail": {"severity": [{"numeric": [">=", HIGH_SEVERITY]}]},
        }
    )


@dataclass(frozen=True)
class ConfigRuleSpec:
    """One AWS managed Config rule, the HIPAA sections it evidences, and its parameters."""

    identifier: str
    hipaa: tuple[str, ...]
    parameters: Mapping[str, str] = field(default_factory=dict)


# Managed rules covering what this kit deploys; each row names the HIPAA section it evidences.
CONFIG_RULES: tuple[ConfigRuleSpec, ...] = (
    # Encryption at rest: 164.312(a)(2)(iv)
    ConfigRuleSpec("ENCRYPTED_VOLUMES", ("164.312(a)(2)(iv)",)),
    ConfigRuleSpec("RDS_STORAGE_ENCRYPTED", ("164.312(a)(2)(iv)",)),
    ConfigRuleSpec("S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", ("164.312(a)(2)(iv)",)),
    ConfigRuleSpec("CLOUDWATCH_LOG_GROUP_ENCRYPTED", ("164.312(a)(2)(iv)", "164.312(b)")),
    ConfigRuleSpec("CMK_BACKING_KEY_ROTATION_ENABLED", ("164.312(a)(2)(iv)",)),
    ConfigRuleSpec("KMS_CMK_NOT_SCHEDULED_FOR_DELETION", ("164.312(a)(2)(iv)", "164.312(c)(1)")),
    ConfigRuleSpec("BACKUP_RECOVERY_POINT_ENCRYPTED", ("164.312(a)(2)(iv)", "164.308(a)(7)(ii)(A)")),
    ConfigRuleSpec("EC2_EBS_ENCRYPTION_BY_DEFAULT", ("164.312(a)(2)(iv)",)),
    # Access control: 164.312(a)(1)
    ConfigRuleSpec("RDS_INSTANCE_PUBLIC_ACCESS_CHECK", ("164.312(a)(1)",)),
    ConfigRuleSpec("S3_BUCKET_PUBLIC_READ_PROHIBITED", ("164.312(a)(1)",)),
    ConfigRuleSpec("S3_BUCKET_PUBLIC_WRITE_PROHIBITED", ("164.312(a)(1)", "164.312(c)(1)")),
    ConfigRuleSpec("S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC", ("164.312(a)(1)",)),
    ConfigRuleSpec("S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", ("164.312(a)(1)",)),
    ConfigRuleSpec("RDS_SNAPSHOTS_PUBLIC_PROHIBITED", ("164.312(a)(1)",)),
    ConfigRuleSpec("VPC_DEFAULT_SECURITY_GROUP_CLOSED", ("164.312(a)(1)", "164.312(e)(1)")),
    ConfigRuleSpec(
        "RESTRICTED_INCOMING_TRAFFIC",
        ("164.312(a)(1)", "164.312(e)(1)"),
        # FTP, RDP and this kit's database ports must never be open to the internet.
        {
            "blockedPort1": "20",
            "blockedPort2": "21",
            "blockedPort3": "3389",
            "blockedPort4": "3306",
            "blockedPort5": "5432",
        },
    ),
    ConfigRuleSpec("INCOMING_SSH_DISABLED", ("164.312(a)(1)", "164.312(e)(1)")),
    ConfigRuleSpec("IAM_USER_NO_POLICIES_CHECK", ("164.308(a)(4)", "164.312(a)(1)")),
    # No long-lived credentials: the kit creates no IAM users or access keys (164.312(a)(2)(i)).
    ConfigRuleSpec("IAM_ROOT_ACCESS_KEY_CHECK", ("164.312(a)(2)(i)", "164.312(d)")),
    ConfigRuleSpec(
        "IAM_USER_UNUSED_CREDENTIALS_CHECK",
        ("164.308(a)(3)(ii)(C)", "164.312(a)(2)(i)"),
        {"maxCredentialUsageAge": str(UNUSED_CREDENTIAL_MAX_AGE_DAYS)},
    ),
    ConfigRuleSpec("ACCESS_KEYS_ROTATED", ("164.312(d)",), {"maxAccessKeyAge": str(PASSWORD_MAX_AGE_DAYS)}),
    # Transmission security: 164.312(e)(1)
    ConfigRuleSpec("S3_BUCKET_SSL_REQUESTS_ONLY", ("164.312(e)(1)",)),
    # Person or entity authentication and password management: 164.312(d), 164.308(a)(5)(ii)(D)
    ConfigRuleSpec("ROOT_ACCOUNT_MFA_ENABLED", ("164.312(d)",)),
    ConfigRuleSpec("MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS", ("164.312(d)",)),
    ConfigRuleSpec(
        "IAM_PASSWORD_POLICY",
        ("164.308(a)(5)(ii)(D)", "164.312(d)"),
        {
            "RequireUppercaseCharacters": "true",
            "RequireLowercaseCharacters": "true",
            "RequireSymbols": "true",
            "RequireNumbers": "true",
            "MinimumPasswordLength": str(PASSWORD_MIN_LENGTH),
            "PasswordReusePrevention": str(PASSWORD_REUSE_PREVENTION),
            "MaxPasswordAge": str(PASSWORD_MAX_AGE_DAYS),
        },
    ),
    # Audit controls and integrity: 164.312(b), 164.312(c)(1)
    ConfigRuleSpec("CLOUD_TRAIL_ENABLED", ("164.312(b)",)),
    ConfigRuleSpec("MULTI_REGION_CLOUD_TRAIL_ENABLED", ("164.312(b)",)),
    ConfigRuleSpec("CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED", ("164.312(c)(1)", "164.312(b)")),
    ConfigRuleSpec("CLOUD_TRAIL_ENCRYPTION_ENABLED", ("164.312(a)(2)(iv)", "164.312(b)")),
    ConfigRuleSpec("S3_BUCKET_LOGGING_ENABLED", ("164.312(b)",)),
    ConfigRuleSpec("VPC_FLOW_LOGS_ENABLED", ("164.312(b)",)),
    ConfigRuleSpec("RDS_LOGGING_ENABLED", ("164.312(b)",)),
    ConfigRuleSpec("S3_BUCKET_VERSIONING_ENABLED", ("164.312(c)(1)",)),
    # Activity review and malicious software: 164.308(a)(1)(ii)(D), 164.308(a)(5)(ii)(B)
    ConfigRuleSpec("GUARDDUTY_ENABLED_CENTRALIZED", ("164.308(a)(1)(ii)(D)", "164.308(a)(5)(ii)(B)")),
    ConfigRuleSpec("SECURITYHUB_ENABLED", ("164.308(a)(1)(ii)(D)", "164.308(a)(8)")),
    # Contingency plan: 164.308(a)(7)(ii)(A), 164.310(d)(2)(iv)
    ConfigRuleSpec("RDS_INSTANCE_DELETION_PROTECTION_ENABLED", ("164.308(a)(7)(ii)(A)", "164.312(c)(1)")),
    ConfigRuleSpec("RDS_MULTI_AZ_SUPPORT", ("164.308(a)(7)(ii)(C)",)),
    ConfigRuleSpec(
        "DB_INSTANCE_BACKUP_ENABLED",
        ("164.308(a)(7)(ii)(A)",),
        {"backupRetentionMinimum": str(MIN_BACKUP_RETENTION_DAYS)},
    ),
    ConfigRuleSpec(
        "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
        ("164.308(a)(7)(ii)(A)",),
        {
            "requiredFrequencyValue": "1",
            "requiredFrequencyUnit": "days",
            "requiredRetentionDays": str(MIN_BACKUP_RETENTION_DAYS),
        },
    ),
    ConfigRuleSpec(
        "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", ("164.308(a)(7)(ii)(A)", "164.310(d)(2)(iv)")
    ),
)


def config_rule_name(spa: str, identifier: str) -> str:
    """Rule names are the spa plus the managed rule identifier, lower-case and hyphenated."""
    return f"{spa}-{identifier.lower().replace('_', '-')}"


def config_trust_policy(account_id: str) -> str:
    """Only AWS Config, acting for this account, may assume the recorder's role."""
    statement = {
        "Sid": "AwsConfigForThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": "config.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def config_delivery_policy(bucket: str, account_id: str, partition: str, logs_key_arn: str | None) -> str:
    """Write snapshots and history under config/ in the log archive, and use the logs key through S3."""
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadArchiveAcl",
            "Effect": "Allow",
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": bucket_arn,
        },
        {
            "Sid": "DeliverToArchive",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{CONFIG_PREFIX}/AWSLogs/{account_id}/*",
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
        },
    ]
    if logs_key_arn:
        statements.append(
            {
                "Sid": "EncryptWithLogsKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": logs_key_arn,
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


ADOPTED_INPUT = "adoptedServices"  # the Detection component's input the plan bridge reads


def adopted_services(
    *, adopt_config_recorder: bool, adopt_guard_duty: bool, adopt_security_hub: bool
) -> tuple[str, ...]:
    """The names the policy gate reads as `pulumi_stack.adopted` (policies/plan_checks/base.py)."""
    flags = (
        ("guardduty", adopt_guard_duty),
        ("securityhub", adopt_security_hub),
        ("config", adopt_config_recorder),
    )
    return tuple(name for name, adopted in flags if adopted)


@dataclass(frozen=True)
class DetectionArgs:
    """Where findings go, what Config delivers to, the EBS key, and which singletons to adopt.

    `log_archive_bucket` (the bucket name) is required unless the recorder is adopted: Config delivers
    snapshots under the `config/` prefix of the audit component's Object Lock archive (164.312(b)).

    The `adopt_existing_*` flags do not weaken a control by themselves: they stop the stack from
    creating a singleton that already exists in the account and region (a second one fails to deploy).
    The consequence: this stack no longer proves that service is on, so the contractor must confirm it
    as docs/configuration.md ("Detection") describes; with `adopt_existing_guard_duty` the stack also
    does not manage the detector's protections (S3, RDS login, malware).
    """

    alert_topic_arn: pulumi.Input[str]
    data_key_arn: pulumi.Input[str]
    log_archive_bucket: pulumi.Input[str] | None = None
    logs_key_arn: pulumi.Input[str] | None = None
    # Resources the archive needs before Config can deliver (its bucket policy, encryption, Object Lock).
    log_archive_ready: Sequence[pulumi.Resource] = ()
    adopt_existing_config_recorder: bool = False
    adopt_existing_guard_duty: bool = False
    adopt_existing_security_hub: bool = False

    def __post_init__(self) -> None:
        if self.log_archive_bucket is None and not self.adopt_existing_config_recorder:
            raise ValueError(
                "log_archive_bucket is required: AWS Config must deliver to the log archive (164.312(b))"
            )


class Detection(pulumi.ComponentResource):
    """Threat detection, posture standards and continuous configuration evidence for the spa's account."""

    detector: aws.guardduty.Detector | None
    detector_features: dict[str, aws.guardduty.DetectorFeature]
    findings_rule: aws.cloudwatch.EventRule
    security_hub: aws.securityhub.Account | None
    standards: dict[str, aws.securityhub.StandardsSubscription]
    config_role: aws.iam.Role | None
    recorder: aws.cfg.Recorder | None
    delivery_channel: aws.cfg.DeliveryChannel | None
    recorder_status: aws.cfg.RecorderStatus | None
    config_rules: dict[str, aws.cfg.Rule]
    access_analyzer: aws.accessanalyzer.Analyzer
    ebs_encryption: aws.ebs.EncryptionByDefault
    ebs_default_key: aws.ebs.DefaultKmsKey

    def __init__(
        self, name: str, args: DetectionArgs, ctx: SpaContext, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        adopted = adopted_services(
            adopt_config_recorder=args.adopt_existing_config_recorder,
            adopt_guard_duty=args.adopt_existing_guard_duty,
            adopt_security_hub=args.adopt_existing_security_hub,
        )
        # Recorded as the component's inputs, so the plan bridge can tell the gate what was adopted.
        super().__init__("medspa:detection:Detection", name, {ADOPTED_INPUT: list(adopted)}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._guard_duty(name, args, ctx)
        self._security_hub(name, args, ctx)
        self._config(name, args, ctx)

        self.access_analyzer = aws.accessanalyzer.Analyzer(
            f"{name}-access-analyzer",
            analyzer_name=ctx.name("access-analyzer"),
            type="ACCOUNT",
            tags=ctx.tags(DataClassification.AUDIT),
            opts=child,
        )
        self.ebs_encryption = aws.ebs.EncryptionByDefault(f"{name}-ebs-encryption", enabled=True, opts=child)
        self.ebs_default_key = aws.ebs.DefaultKmsKey(
            f"{name}-ebs-default-key", key_arn=args.data_key_arn, opts=child
        )

        outputs: dict[str, Any] = {
            "findingsRuleArn": self.findings_rule.arn,
            "accessAnalyzerArn": self.access_analyzer.arn,
            "configRules": sorted(self.config_rules),
        }
        if self.detector is not None:
            outputs["detectorId"] = self.detector.id
        self.register_outputs(outputs)

    def _guard_duty(self, name: str, args: DetectionArgs, ctx: SpaContext) -> None:
        child = pulumi.ResourceOptions(parent=self)
        self.detector = None
        self.detector_features = {}
        if not args.adopt_existing_guard_duty:
            self.detector = aws.guardduty.Detector(
                f"{name}-guardduty",
                enable=True,
                finding_publishing_frequency=GUARDDUTY_PUBLISHING_FREQUENCY,
                tags=ctx.tags(DataClassification.AUDIT),
                opts=child,
            )
            for feature in GUARDDUTY_FEATURES:
                slug = feature.lower().replace("_", "-")
                self.detector_features[feature] = aws.guardduty.DetectorFeature(
                    f"{name}-guardduty-{slug}",
                    detector_id=self.detector.id,
                    name=feature,
                    status="ENABLED",
                    opts=child,
                )
        # Findings are published to this account's default event bus by an adopted detector too.
        self.findings_rule = aws.cloudwatch.EventRule(
            f"{name}-guardduty-findings",
            name=ctx.name("guardduty-high-findings"),
            description=f"GuardDuty findings of severity {HIGH_SEVERITY} or more (164.308(a)(6))",
            event_pattern=high_severity_findings_pattern(),
            tags=ctx.tags(DataClassification.AUDIT),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-guardduty-findings-to-alerts",
            rule=self.findings_rule.name,
            target_id="alert-topic",
            arn=args.alert_topic_arn,
            opts=child,
        )

    def _security_hub(self, name: str, args: DetectionArgs, ctx: SpaContext) -> None:
        self.security_hub = None
        after_hub = pulumi.ResourceOptions(parent=self)
        if not args.adopt_existing_security_hub:
            self.security_hub = aws.securityhub.Account(
                f"{name}-security-hub",
                enable_default_standards=False,  # the standards below, chosen, not whatever is default
                control_finding_generator="SECURITY_CONTROL",
                auto_enable_controls=True,
                opts=pulumi.ResourceOptions(parent=self),
            )
            after_hub = pulumi.ResourceOptions(parent=self, depends_on=[self.security_hub])
        self.standards = {}
        for slug, arn in security_hub_standards(ctx.partition, ctx.region).items():
            self.standards[slug] = aws.securityhub.StandardsSubscription(
                f"{name}-standard-{slug}", standards_arn=arn, opts=after_hub
            )

    def _config(self, name: str, args: DetectionArgs, ctx: SpaContext) -> None:
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(ctx.account_id)
        self.config_role = None
        self.recorder = None
        self.delivery_channel = None
        self.recorder_status = None
        rules_after: list[pulumi.Resource] = []
        bucket = args.log_archive_bucket
        if not args.adopt_existing_config_recorder and bucket is not None:  # DetectionArgs checks both
            self.config_role = aws.iam.Role(
                f"{name}-config-role",
                name=ctx.name("config"),
                description="AWS Config: record the spa's resources and deliver to the log archive",
                assume_role_policy=account.apply(config_trust_policy),
                max_session_duration=3600,
                tags=ctx.tags(DataClassification.INTERNAL),
                opts=child,
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-config-role-managed",
                role=self.config_role.name,
                policy_arn=f"arn:{ctx.partition}:iam::aws:policy/{CONFIG_MANAGED_POLICY}",
                opts=child,
            )
            logs_key = pulumi.Output.from_input(args.logs_key_arn or "")
            delivery = aws.iam.RolePolicy(
                f"{name}-config-delivery",
                role=self.config_role.id,
                policy=pulumi.Output.all(bucket, account, logs_key).apply(
                    lambda v: config_delivery_policy(str(v[0]), str(v[1]), ctx.partition, str(v[2]) or None)
                ),
                opts=child,
            )
            self.recorder = aws.cfg.Recorder(
                f"{name}-config-recorder",
                name=ctx.name("config-recorder"),
                role_arn=self.config_role.arn,
                recording_group=aws.cfg.RecorderRecordingGroupArgs(
                    all_supported=True, include_global_resource_types=True
                ),
                opts=child,
            )
            self.delivery_channel = aws.cfg.DeliveryChannel(
                f"{name}-config-delivery-channel",
                name=ctx.name("config-delivery"),
                s3_bucket_name=bucket,
                s3_key_prefix=CONFIG_PREFIX,
                s3_kms_key_arn=args.logs_key_arn,
                snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                    delivery_frequency=CONFIG_SNAPSHOT_FREQUENCY
                ),
                # AWS needs the recorder first; the role needs its write permissions before delivering.
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[self.recorder, delivery, *args.log_archive_ready]
                ),
            )
            self.recorder_status = aws.cfg.RecorderStatus(
                f"{name}-config-recorder-status",
                name=self.recorder.name,
                is_enabled=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.delivery_channel]),
            )
            rules_after = [self.recorder, self.recorder_status]
        self.config_rules = {}
        for spec in CONFIG_RULES:
            self.config_rules[spec.identifier] = aws.cfg.Rule(
                f"{name}-rule-{spec.identifier.lower().replace('_', '-')}",
                name=config_rule_name(ctx.spa, spec.identifier),
                description=f"AWS managed rule {spec.identifier}; evidences {', '.join(spec.hipaa)}",
                source=aws.cfg.RuleSourceArgs(owner="AWS", source_identifier=spec.identifier),
                input_parameters=json.dumps(dict(spec.parameters)) if spec.parameters else None,
                tags=ctx.tags(DataClassification.AUDIT),
                opts=pulumi.ResourceOptions(parent=self, depends_on=rules_after),
            )
