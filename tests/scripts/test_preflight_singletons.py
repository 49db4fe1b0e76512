"""Preflight: region singletons that would collide with the stack's own, and the adopt flags (moto)."""

from __future__ import annotations

from typing import Any

import boto3

from infra.config import SpaConfig
from scripts.preflight.model import CheckResult, Status
from scripts.preflight.singletons import (
    CONFIG_ITEM,
    GUARDDUTY_ITEM,
    SECURITY_HUB_ITEM,
    TRAIL_ITEM,
    check_config_recorder,
    check_guard_duty,
    check_security_hub,
    check_trails,
)
from tests.scripts.preflight_support import (
    ACCOUNT,
    adopting,
    aws_fixture,  # noqa: F401
    context,
    only,
    stack_config_fixture,  # noqa: F401
)


def client(config: SpaConfig, service: str) -> Any:
    return boto3.client(service, region_name=config.region)


def make_recorder(config: SpaConfig, *, start: bool = True, all_supported: bool = True) -> None:
    s3 = client(config, "s3")
    bucket = "existing-config-delivery"
    if config.region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": config.region})
    service = client(config, "config")
    group: dict[str, Any] = {"allSupported": all_supported, "includeGlobalResourceTypes": all_supported}
    if not all_supported:
        group["resourceTypes"] = ["AWS::S3::Bucket"]
    service.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-config",
            "recordingGroup": group,
        }
    )
    service.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
    if start:
        service.start_configuration_recorder(ConfigurationRecorderName="default")


def config_result(config: SpaConfig) -> CheckResult:
    return only(check_config_recorder(context(config)), CONFIG_ITEM)


def test_no_recorder_is_ok(aws: None, stack_config: SpaConfig) -> None:
    result = config_result(stack_config)
    assert result.status is Status.OK, f"{CONFIG_ITEM}: nothing to collide with: {result}"


def test_existing_recorder_fails_and_names_the_adopt_flag(aws: None, stack_config: SpaConfig) -> None:
    make_recorder(stack_config)
    result = config_result(stack_config)
    assert result.status is Status.FAIL, f"{CONFIG_ITEM}: a second recorder cannot be created: {result}"
    expected = f"`medspa:adoptExistingConfigRecorder: true` in stacks/Pulumi.{stack_config.spa}.yaml"
    assert expected in result.action, f"{CONFIG_ITEM}: must name the flag and file: {result.action}"


def test_adopted_recorder_recording_everything_is_ok(aws: None, stack_config: SpaConfig) -> None:
    make_recorder(stack_config)
    result = config_result(adopting(stack_config, adopt_existing_config_recorder=True))
    assert result.status is Status.OK, f"{CONFIG_ITEM}: adopted, records all types (164.312(b)): {result}"


def test_adopted_recorder_that_is_stopped_warns(aws: None, stack_config: SpaConfig) -> None:
    make_recorder(stack_config, start=False)
    result = config_result(adopting(stack_config, adopt_existing_config_recorder=True))
    assert result.status is Status.WARN and "not recording" in result.detail, f"{CONFIG_ITEM}: {result}"


def test_adopted_recorder_of_some_types_warns(aws: None, stack_config: SpaConfig) -> None:
    make_recorder(stack_config, all_supported=False)
    result = config_result(adopting(stack_config, adopt_existing_config_recorder=True))
    assert result.status is Status.WARN and "all resource types" in result.detail, f"{CONFIG_ITEM}: {result}"


def test_adopt_flag_without_a_recorder_fails(aws: None, stack_config: SpaConfig) -> None:
    result = config_result(adopting(stack_config, adopt_existing_config_recorder=True))
    assert result.status is Status.FAIL, f"{CONFIG_ITEM}: nothing would record (164.312(b)): {result}"


def test_no_detector_is_ok(aws: None, stack_config: SpaConfig) -> None:
    result = only(check_guard_duty(context(stack_config)), GUARDDUTY_ITEM)
    assert result.status is Status.OK, f"{GUARDDUTY_ITEM}: {result}"


def test_existing_detector_fails_and_names_the_adopt_flag(aws: None, stack_config: SpaConfig) -> None:
    client(stack_config, "guardduty").create_detector(Enable=True)
    result = only(check_guard_duty(context(stack_config)), GUARDDUTY_ITEM)
    assert result.status is Status.FAIL, f"{GUARDDUTY_ITEM}: one detector per region: {result}"
    assert "`medspa:adoptExistingGuardDuty: true`" in result.action, f"{GUARDDUTY_ITEM}: {result.action}"


def test_adopted_enabled_detector_is_ok(aws: None, stack_config: SpaConfig) -> None:
    client(stack_config, "guardduty").create_detector(Enable=True)
    config = adopting(stack_config, adopt_existing_guard_duty=True)
    result = only(check_guard_duty(context(config)), GUARDDUTY_ITEM)
    assert result.status is Status.OK, f"{GUARDDUTY_ITEM}: adopted (164.308(a)(6)(ii)): {result}"


def test_adopted_suspended_detector_warns(aws: None, stack_config: SpaConfig) -> None:
    client(stack_config, "guardduty").create_detector(Enable=False)
    config = adopting(stack_config, adopt_existing_guard_duty=True)
    result = only(check_guard_duty(context(config)), GUARDDUTY_ITEM)
    assert result.status is Status.WARN and "--enable" in result.action, f"{GUARDDUTY_ITEM}: {result}"


def test_security_hub_not_enabled_is_ok(aws: None, stack_config: SpaConfig) -> None:
    result = only(check_security_hub(context(stack_config)), SECURITY_HUB_ITEM)
    assert result.status is Status.OK, f"{SECURITY_HUB_ITEM}: InvalidAccessException means none: {result}"


def test_enabled_security_hub_fails_and_names_the_adopt_flag(aws: None, stack_config: SpaConfig) -> None:
    client(stack_config, "securityhub").enable_security_hub()
    result = only(check_security_hub(context(stack_config)), SECURITY_HUB_ITEM)
    assert result.status is Status.FAIL, f"{SECURITY_HUB_ITEM}: cannot be enabled twice: {result}"
    assert "`medspa:adoptExistingSecurityHub: true`" in result.action, f"{SECURITY_HUB_ITEM}: {result.action}"


def test_adopted_security_hub_is_ok(aws: None, stack_config: SpaConfig) -> None:
    client(stack_config, "securityhub").enable_security_hub()
    config = adopting(stack_config, adopt_existing_security_hub=True)
    result = only(check_security_hub(context(config)), SECURITY_HUB_ITEM)
    assert result.status is Status.OK, f"{SECURITY_HUB_ITEM}: adopted (164.308(a)(1)(ii)(D)): {result}"


def test_adopt_security_hub_without_a_hub_fails(aws: None, stack_config: SpaConfig) -> None:
    config = adopting(stack_config, adopt_existing_security_hub=True)
    result = only(check_security_hub(context(config)), SECURITY_HUB_ITEM)
    assert result.status is Status.FAIL, f"{SECURITY_HUB_ITEM}: nothing would run the standards: {result}"


def make_trail(config: SpaConfig, name: str, *, multi_region: bool) -> None:
    s3 = client(config, "s3")
    bucket = f"{name}-logs"
    if config.region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": config.region})
    client(config, "cloudtrail").create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=multi_region)


def test_no_trail_is_ok(aws: None, stack_config: SpaConfig) -> None:
    result = only(check_trails(context(stack_config)), TRAIL_ITEM)
    assert result.status is Status.OK, f"{TRAIL_ITEM}: {result}"


def test_existing_multi_region_trail_warns(aws: None, stack_config: SpaConfig) -> None:
    make_trail(stack_config, "org-audit", multi_region=True)
    result = only(check_trails(context(stack_config)), TRAIL_ITEM)
    assert result.status is Status.WARN and "org-audit" in result.detail, (
        f"{TRAIL_ITEM} (164.312(b)): {result}"
    )


def test_single_region_trail_is_not_reported_as_multi_region(aws: None, stack_config: SpaConfig) -> None:
    make_trail(stack_config, "one-region", multi_region=False)
    result = only(check_trails(context(stack_config)), TRAIL_ITEM)
    assert result.status is Status.OK, f"{TRAIL_ITEM}: {result}"


def test_five_trails_in_the_region_fail(aws: None, stack_config: SpaConfig) -> None:
    for index in range(5):
        make_trail(stack_config, f"trail-{index}", multi_region=False)
    result = only(check_trails(context(stack_config)), TRAIL_ITEM)
    assert result.status is Status.FAIL, f"{TRAIL_ITEM}: CloudTrail allows 5 per region: {result}"
