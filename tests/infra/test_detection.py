"""Detection invariants for every bundled stack.

164.308(a)(1)(ii)(D) information system activity review (Config, Security Hub), 164.308(a)(5)(ii)(B)
protection from malicious software (GuardDuty), 164.308(a)(6)(ii) response and reporting (findings to
the alert topic), 164.312(b) audit controls (Config history in the log archive), 164.312(a)(2)(iv)
encryption (EBS by default with the data key).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import pytest

from infra.config import SpaConfig, load_stack
from infra.detection import CONFIG_RULES, HIGH_SEVERITY, DetectionArgs, high_severity_findings_pattern
from infra.log_archive import CONFIG_PREFIX
from scripts import paths
from scripts.plan_bridge import to_plan
from scripts.synth import MOCK_ACCOUNT_ID, ResourceRecord, Synthesis, synthesize
from tests.conftest import STACKS, synth_stack
from tests.support import as_list, depends_on, policy_document, statements

DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
HUB = "aws:securityhub/account:Account"
STANDARD = "aws:securityhub/standardsSubscription:StandardsSubscription"
RECORDER = "aws:cfg/recorder:Recorder"
CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
STATUS = "aws:cfg/recorderStatus:RecorderStatus"
RULE = "aws:cfg/rule:Rule"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ANALYZER = "aws:accessanalyzer/analyzer:Analyzer"
EBS_DEFAULT = "aws:ebs/encryptionByDefault:EncryptionByDefault"
EBS_KEY = "aws:ebs/defaultKmsKey:DefaultKmsKey"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"

REQUIRED_FEATURES = {"S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "EBS_MALWARE_PROTECTION"}
# The HIPAA-relevant controls of what the kit deploys; each must have its AWS managed Config rule.
REQUIRED_RULES = {
    "ENCRYPTED_VOLUMES",
    "EC2_EBS_ENCRYPTION_BY_DEFAULT",
    "RDS_STORAGE_ENCRYPTED",
    "RDS_INSTANCE_PUBLIC_ACCESS_CHECK",
    "RDS_MULTI_AZ_SUPPORT",
    "DB_INSTANCE_BACKUP_ENABLED",
    "S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC",
    "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
    "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
    "S3_BUCKET_SSL_REQUESTS_ONLY",
    "CLOUD_TRAIL_ENABLED",
    "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
    "CLOUDWATCH_LOG_GROUP_ENCRYPTED",
    "CMK_BACKING_KEY_ROTATION_ENABLED",
    "VPC_FLOW_LOGS_ENABLED",
    "INCOMING_SSH_DISABLED",
    "RESTRICTED_INCOMING_TRAFFIC",
    "ROOT_ACCOUNT_MFA_ENABLED",
    "IAM_PASSWORD_POLICY",
    "IAM_ROOT_ACCESS_KEY_CHECK",
    "IAM_USER_UNUSED_CREDENTIALS_CHECK",
    "GUARDDUTY_ENABLED_CENTRALIZED",
    "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
    "BACKUP_RECOVERY_POINT_ENCRYPTED",
}
SINGLETON_TYPES = (DETECTOR, FEATURE, HUB, RECORDER, CHANNEL, STATUS)
HIPAA_SECTION = re.compile(r"^164\.3(0[68]|1[0246])\([a-z]\)(\(\d+\))?(\([ivx]+\))?(\([A-Z]\))?$")


# ------------------------------------------------------------------------------------------ helpers


def _config(synthesis: Synthesis) -> SpaConfig:
    return load_stack(paths.stacks_dir(), synthesis.spa)


@functools.cache
def _adopted(spa: str) -> Synthesis:
    """The stack with all three singletons adopted (one synthesis per stack, cached)."""
    config = load_stack(paths.stacks_dir(), spa).model_copy(
        update={
            "adopt_existing_config_recorder": True,
            "adopt_existing_guard_duty": True,
            "adopt_existing_security_hub": True,
        }
    )
    return synthesize(config)


def _findings_rule(synthesis: Synthesis) -> ResourceRecord:
    return synthesis.one(EVENT_RULE, "detection-guardduty-findings")


def _pattern_matches(pattern: Any, event: Any) -> bool:
    """EventBridge matching for the subset the kit uses: literal lists and numeric comparisons."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(
            key in event and _pattern_matches(sub, event[key]) for key, sub in pattern.items()
        )
    for candidate in as_list(pattern):
        if isinstance(candidate, dict) and "numeric" in candidate:
            conditions = candidate["numeric"]
            if isinstance(event, int | float) and all(
                _compare(event, conditions[i], conditions[i + 1]) for i in range(0, len(conditions), 2)
            ):
                return True
        elif candidate == event:
            return True
    return False


def _compare(value: float, operator: str, bound: float) -> bool:
    return {
        ">=": value >= bound,
        ">": value > bound,
        "<=": value <= bound,
        "<": value < bound,
        "=": value == bound,
    }[operator]


def _finding(severity: float, source: str = "aws.guardduty") -> dict[str, Any]:
    return {"source": source, "detail-type": "GuardDuty Finding", "detail": {"severity": severity}}


def _matches_high_severity_only(pattern: dict[str, Any]) -> list[str]:
    """What is wrong with a findings pattern: it must match GuardDuty severity >= 7 and nothing lower."""
    problems = []
    for severity in (7, 7.0, 8.9, 9.5, 10):
        if not _pattern_matches(pattern, _finding(severity)):
            problems.append(f"misses a severity {severity} finding")
    for severity in (1, 4, 6.9):
        if _pattern_matches(pattern, _finding(severity)):
            problems.append(f"matches a severity {severity} finding")
    if _pattern_matches(pattern, _finding(9, source="aws.securityhub")):
        problems.append("matches events that are not GuardDuty findings")
    return problems


def _rules(synthesis: Synthesis) -> dict[str, ResourceRecord]:
    return {r.inputs["source"]["sourceIdentifier"]: r for r in synthesis.of_type(RULE)}


# --------------------------------------------------------------------------------------- GuardDuty


def test_guardduty_detector_is_enabled(stack_synthesis: Synthesis) -> None:
    detector = stack_synthesis.one(DETECTOR, "detection-guardduty")
    assert detector.inputs.get("enable") is True, (
        f"{detector.name}: GuardDuty must be enabled (164.308(a)(5)(ii)(B), 164.308(a)(1)(ii)(D))"
    )
    assert detector.inputs.get("findingPublishingFrequency") == "FIFTEEN_MINUTES", (
        f"{detector.name}: findings must be published every 15 minutes (164.308(a)(6)(ii))"
    )


@pytest.mark.parametrize("feature", sorted(REQUIRED_FEATURES))
def test_each_guardduty_protection_is_enabled_on_the_detector(
    stack_synthesis: Synthesis, feature: str
) -> None:
    detector = stack_synthesis.one(DETECTOR, "detection-guardduty")
    found = [f for f in stack_synthesis.of_type(FEATURE) if f.inputs.get("name") == feature]
    assert len(found) == 1, (
        f"GuardDuty: one {feature} feature expected, found {len(found)} (164.308(a)(5)(ii)(B))"
    )
    assert found[0].inputs.get("status") == "ENABLED", (
        f"{found[0].name}: {feature} must be ENABLED (164.308(a)(5)(ii)(B))"
    )
    assert depends_on(found[0], detector, "detectorId"), (
        f"{found[0].name}: {feature} must be set on the kit's detector (164.308(a)(5)(ii)(B))"
    )


def test_findings_rule_matches_guardduty_severity_seven_or_more_only(stack_synthesis: Synthesis) -> None:
    rule = _findings_rule(stack_synthesis)
    problems = _matches_high_severity_only(json.loads(rule.inputs["eventPattern"]))
    assert not problems, f"{rule.name}: event pattern {problems} (164.308(a)(6)(ii))"


def test_findings_pattern_checker_catches_a_too_wide_pattern() -> None:
    wide = json.loads(high_severity_findings_pattern())
    wide["detail"]["severity"] = [{"numeric": [">=", HIGH_SEVERITY - 3]}]
    assert _matches_high_severity_only(wide), "a severity >= 4 pattern must be reported (negative control)"
    no_source = json.loads(high_severity_findings_pattern())
    del no_source["source"]
    assert _matches_high_severity_only(no_source), (
        "a pattern without source must be reported (negative control)"
    )


def test_findings_rule_targets_the_alert_topic(stack_synthesis: Synthesis) -> None:
    rule = _findings_rule(stack_synthesis)
    topic = stack_synthesis.one(TOPIC, "alerts-topic")
    targets = [t for t in stack_synthesis.of_type(EVENT_TARGET) if depends_on(t, rule, "rule")]
    assert targets and all(depends_on(t, topic, "arn") for t in targets), (
        f"{rule.name}: high-severity findings must be sent to the alert topic (164.308(a)(6)(ii))"
    )


def test_alert_topic_lets_eventbridge_of_this_account_publish(stack_synthesis: Synthesis) -> None:
    policy = stack_synthesis.one(TOPIC_POLICY, "alerts-topic-policy")
    allowed = [
        s
        for s in statements(policy_document(policy.inputs["policy"]))
        if s.get("Effect") == "Allow"
        and "events.amazonaws.com" in as_list(s.get("Principal", {}).get("Service"))
        and "sns:Publish" in as_list(s.get("Action"))
    ]
    assert allowed and all(
        s.get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount") == MOCK_ACCOUNT_ID
        for s in allowed
    ), f"{policy.name}: EventBridge of this account only must be allowed to publish (164.308(a)(6)(ii))"


# ------------------------------------------------------------------------------------ Security Hub


def test_security_hub_is_enabled_without_unchosen_default_standards(stack_synthesis: Synthesis) -> None:
    hub = stack_synthesis.one(HUB, "detection-security-hub")
    assert hub.inputs.get("enableDefaultStandards") is False, (
        f"{hub.name}: standards are subscribed explicitly, not by default (164.308(a)(8))"
    )


def test_security_hub_subscribes_fsbp_and_cis_in_the_spa_region(stack_synthesis: Synthesis) -> None:
    region = _config(stack_synthesis).region
    hub = stack_synthesis.one(HUB, "detection-security-hub")
    standards = stack_synthesis.of_type(STANDARD)
    arns = {str(s.inputs.get("standardsArn")) for s in standards}
    expected = {
        f"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0",
        f"arn:aws:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/3.0.0",
    }
    assert expected <= arns, (
        f"Security Hub: standards {sorted(arns)} miss {sorted(expected - arns)} (164.308(a)(8))"
    )
    for standard in standards:
        assert hub.urn in standard.dependencies, (
            f"{standard.name}: must be subscribed after Security Hub is enabled (164.308(a)(8))"
        )


# -------------------------------------------------------------------------------------- AWS Config


def test_recorder_records_every_supported_type_including_global(stack_synthesis: Synthesis) -> None:
    recorder = stack_synthesis.one(RECORDER, "detection-config-recorder")
    group = recorder.inputs.get("recordingGroup") or {}
    assert group.get("allSupported") is True and group.get("includeGlobalResourceTypes") is True, (
        f"{recorder.name}: must record all supported and global resource types, found {group} "
        "(164.308(a)(1)(ii)(D), 164.312(b))"
    )


def test_recorder_role_is_for_aws_config_of_this_account_only(stack_synthesis: Synthesis) -> None:
    recorder = stack_synthesis.one(RECORDER, "detection-config-recorder")
    role = stack_synthesis.one(ROLE, "detection-config-role")
    assert depends_on(recorder, role, "roleArn"), (
        f"{recorder.name}: must use the kit's Config role (164.312(b))"
    )
    trust = statements(policy_document(role.inputs["assumeRolePolicy"]))
    assert [s["Principal"] for s in trust] == [{"Service": "config.amazonaws.com"}] and all(
        s["Condition"]["StringEquals"]["aws:SourceAccount"] == MOCK_ACCOUNT_ID for s in trust
    ), f"{role.name}: only AWS Config of this account may assume it (164.308(a)(4))"
    managed = [
        a.inputs.get("policyArn") for a in stack_synthesis.of_type(ATTACHMENT) if depends_on(a, role, "role")
    ]
    assert managed == ["arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"], (
        f"{role.name}: expected only the AWS_ConfigRole managed policy, found {managed} (164.308(a)(4))"
    )


def test_delivery_channel_writes_to_the_log_archive_under_the_config_prefix(
    stack_synthesis: Synthesis,
) -> None:
    channel = stack_synthesis.one(CHANNEL, "detection-config-delivery-channel")
    archive = stack_synthesis.one(BUCKET, "audit-archive-bucket")
    assert depends_on(channel, archive, "s3BucketName"), (
        f"{channel.name}: Config must deliver to the Object Lock log archive (164.312(b), 164.312(c)(1))"
    )
    assert channel.inputs.get("s3KeyPrefix") == CONFIG_PREFIX, (
        f"{channel.name}: key prefix must be {CONFIG_PREFIX!r}, the one the archive policy admits (164.312(b))"
    )
    assert depends_on(channel, stack_synthesis.one(KEY, "keys-logs"), "s3KmsKeyArn"), (
        f"{channel.name}: deliveries must be encrypted with the logs key (164.312(a)(2)(iv))"
    )


def test_recorder_status_is_enabled_after_the_delivery_channel(stack_synthesis: Synthesis) -> None:
    status = stack_synthesis.one(STATUS, "detection-config-recorder-status")
    channel = stack_synthesis.one(CHANNEL, "detection-config-delivery-channel")
    recorder = stack_synthesis.one(RECORDER, "detection-config-recorder")
    assert status.inputs.get("isEnabled") is True, f"{status.name}: the recorder must be started (164.312(b))"
    assert channel.urn in status.dependencies, (
        f"{status.name}: must depend on {channel.name}; AWS refuses to start a recorder without one (164.312(b))"
    )
    assert depends_on(status, recorder, "name"), f"{status.name}: must start the kit's recorder (164.312(b))"


def test_managed_rules_cover_the_kits_hipaa_controls(stack_synthesis: Synthesis) -> None:
    rules = _rules(stack_synthesis)
    missing = REQUIRED_RULES - set(rules)
    assert not missing, f"AWS Config: managed rules missing {sorted(missing)} (164.308(a)(1)(ii)(D))"
    for identifier, rule in rules.items():
        assert rule.inputs["source"].get("owner") == "AWS", (
            f"{rule.name}: {identifier} must be an AWS managed rule (164.308(a)(1)(ii)(D))"
        )


def test_every_managed_rule_names_its_hipaa_sections(stack_synthesis: Synthesis) -> None:
    for identifier, rule in _rules(stack_synthesis).items():
        sections = re.findall(r"164\.\S+?(?=[,;\s]|$)", rule.inputs.get("description", ""))
        assert sections and all(HIPAA_SECTION.match(s) for s in sections), (
            f"{rule.name}: description must name the HIPAA section {identifier} evidences, found {sections}"
        )


def test_rule_table_sections_are_well_formed() -> None:
    for spec in CONFIG_RULES:
        assert spec.hipaa and all(HIPAA_SECTION.match(s) for s in spec.hipaa), (
            f"{spec.identifier}: HIPAA sections {spec.hipaa} are not well-formed 164.3xx references"
        )


def test_section_pattern_rejects_a_malformed_reference() -> None:
    assert not HIPAA_SECTION.match("164.312"), "a bare part number must be rejected (negative control)"
    assert not HIPAA_SECTION.match("HIPAA"), "a non-section must be rejected (negative control)"


def test_config_rules_wait_for_the_recorder_to_run(stack_synthesis: Synthesis) -> None:
    status = stack_synthesis.one(STATUS, "detection-config-recorder-status")
    for rule in stack_synthesis.of_type(RULE):
        assert status.urn in rule.dependencies, (
            f"{rule.name}: must be created after the recorder is started (164.308(a)(1)(ii)(D))"
        )


def test_password_rule_checks_the_policy_the_kit_sets(stack_synthesis: Synthesis) -> None:
    rule = _rules(stack_synthesis)["IAM_PASSWORD_POLICY"]
    policy = stack_synthesis.one("aws:iam/accountPasswordPolicy:AccountPasswordPolicy", "iam-password-policy")
    parameters = json.loads(rule.inputs["inputParameters"])
    assert parameters["MinimumPasswordLength"] == str(policy.inputs["minimumPasswordLength"]), (
        f"{rule.name}: must check the length the kit sets (164.308(a)(5)(ii)(D))"
    )
    assert parameters["PasswordReusePrevention"] == str(policy.inputs["passwordReusePrevention"]), (
        f"{rule.name}: must check the reuse prevention the kit sets (164.308(a)(5)(ii)(D))"
    )
    assert parameters["MaxPasswordAge"] == str(policy.inputs["maxPasswordAge"]), (
        f"{rule.name}: must check the maximum age the kit sets (164.308(a)(5)(ii)(D))"
    )


# -------------------------------------------------------------------------- Access Analyzer and EBS


def test_access_analyzer_watches_the_account(stack_synthesis: Synthesis) -> None:
    analyzers = stack_synthesis.of_type(ANALYZER)
    assert [a.inputs.get("type") for a in analyzers] == ["ACCOUNT"], (
        f"IAM Access Analyzer: one ACCOUNT analyzer expected, found {len(analyzers)} (164.308(a)(4))"
    )


def test_ebs_volumes_are_encrypted_by_default_with_the_data_key(stack_synthesis: Synthesis) -> None:
    default = stack_synthesis.one(EBS_DEFAULT, "detection-ebs-encryption")
    key = stack_synthesis.one(EBS_KEY, "detection-ebs-default-key")
    assert default.inputs.get("enabled") is True, f"{default.name}: must be enabled (164.312(a)(2)(iv))"
    assert depends_on(key, stack_synthesis.one(KEY, "keys-data"), "keyArn"), (
        f"{key.name}: new EBS volumes must be encrypted with the PHI data key (164.312(a)(2)(iv))"
    )


# ------------------------------------------------------------------------------------------ adoption


@pytest.mark.parametrize("spa", STACKS)
def test_adopting_skips_every_singleton(spa: str) -> None:
    adopted = _adopted(spa)
    created = sorted({r.type for r in adopted.resources if r.type in SINGLETON_TYPES})
    assert not created, f"{spa}: adopted singletons must not be created, found {created}"
    roles = [r.name for r in adopted.of_type(ROLE)]
    assert "detection-config-role" not in roles, f"{spa}: the Config role belongs to the adopted recorder"


@pytest.mark.parametrize("spa", STACKS)
def test_adopting_keeps_standards_rules_and_findings_routing(spa: str) -> None:
    adopted, own = _adopted(spa), _rules(synth_stack(spa))
    assert len(adopted.of_type(STANDARD)) == 2, (
        f"{spa}: standards must still be subscribed on the adopted Security Hub (164.308(a)(8))"
    )
    assert set(_rules(adopted)) == set(own), (
        f"{spa}: the Config rules must still run against the adopted recorder (164.308(a)(1)(ii)(D))"
    )
    rule = _findings_rule(adopted)
    assert any(depends_on(t, rule, "rule") for t in adopted.of_type(EVENT_TARGET)), (
        f"{spa}: findings of the adopted detector must still reach the alert topic (164.308(a)(6)(ii))"
    )
    assert adopted.of_type(ANALYZER) and adopted.of_type(EBS_KEY), (
        f"{spa}: Access Analyzer and EBS default encryption do not depend on adoption (164.312(a)(2)(iv))"
    )


def test_config_delivery_needs_the_log_archive_unless_adopted() -> None:
    with pytest.raises(ValueError, match=r"164\.312\(b\)"):
        DetectionArgs(alert_topic_arn="arn:topic", data_key_arn="arn:key")
    adopted = DetectionArgs(
        alert_topic_arn="arn:topic", data_key_arn="arn:key", adopt_existing_config_recorder=True
    )
    assert adopted.log_archive_bucket is None


@pytest.mark.parametrize("spa", STACKS)
def test_the_plan_tells_the_gate_what_was_adopted(spa: str) -> None:
    assert to_plan(_adopted(spa).resources, spa=spa)["pulumi_stack"]["adopted"] == [
        "config",
        "guardduty",
        "securityhub",
    ], f"{spa}: adopted singletons must reach the gate as pulumi_stack.adopted (164.308(a)(1)(ii)(D))"
    assert to_plan(synth_stack(spa).resources, spa=spa)["pulumi_stack"]["adopted"] == [], (
        f"{spa}: a stack that adopts nothing must not excuse a missing GuardDuty, Security Hub or Config"
    )
