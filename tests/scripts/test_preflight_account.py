"""Preflight: default VPCs, the account's S3 public access block, EBS encryption, the root user (moto)."""

from __future__ import annotations

import shlex

import boto3
from moto.iam.models import iam_backends

from infra.config import SpaConfig
from scripts.preflight.account import (
    DEFAULT_VPC_ITEM,
    EBS_ITEM,
    PUBLIC_ACCESS_ITEM,
    ROOT_KEYS_ITEM,
    ROOT_MFA_ITEM,
    check_account_public_access,
    check_default_vpcs,
    check_ebs_encryption,
    check_root_keys,
    check_root_mfa,
)
from scripts.preflight.model import Status
from tests.scripts.preflight_support import (
    ACCOUNT,
    aws_fixture,  # noqa: F401
    context,
    only,
    stack_config_fixture,  # noqa: F401
)


def root_summary(**values: int) -> None:
    """moto has no API to give root keys or MFA: set the account summary moto reports directly."""
    backend = iam_backends[ACCOUNT]["global"].account_summary
    for key, value in values.items():
        setattr(backend, key, value)


def run_removal(action: str) -> None:
    """Run the commands the report prints, through boto3, to prove they remove the default VPC."""
    commands = action.split(": ", 1)[1].split("; ")
    for command in commands:
        words = shlex.split(command)
        operation = words[2].replace("-", "_")
        options = dict(zip(words[3::2], words[4::2], strict=True))
        ec2 = boto3.client("ec2", region_name=options.pop("--region"))
        names = {"--internet-gateway-id": "InternetGatewayId", "--vpc-id": "VpcId", "--subnet-id": "SubnetId"}
        getattr(ec2, operation)(**{names[k]: v for k, v in options.items()})


def test_default_vpc_warns_with_the_removal_commands(aws: None, stack_config: SpaConfig) -> None:
    results = check_default_vpcs(context(stack_config))
    result = only(results, f"{DEFAULT_VPC_ITEM} ({stack_config.region})")
    assert result.status is Status.WARN, (
        f"{DEFAULT_VPC_ITEM}: a default VPC is a way around the design: {result}"
    )
    assert "aws ec2 delete-vpc" in result.action, (
        f"{DEFAULT_VPC_ITEM}: must give the commands: {result.action}"
    )


def test_the_printed_commands_remove_the_default_vpcs(aws: None, stack_config: SpaConfig) -> None:
    for result in check_default_vpcs(context(stack_config)):
        run_removal(result.action)
    result = only(check_default_vpcs(context(stack_config)), DEFAULT_VPC_ITEM)
    assert result.status is Status.OK, f"{DEFAULT_VPC_ITEM}: none left after the commands (164.312(e)(1))"


def put_account_block(**flags: bool) -> None:
    values = {
        k: flags.get(k, True)
        for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    }
    boto3.client("s3control", region_name="us-east-1").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration=values
    )


def test_account_public_access_block_on_is_ok(aws: None, stack_config: SpaConfig) -> None:
    put_account_block()
    result = only(check_account_public_access(context(stack_config)), PUBLIC_ACCESS_ITEM)
    assert result.status is Status.OK, f"{PUBLIC_ACCESS_ITEM}: all four on (164.312(a)(1)): {result}"


def test_account_public_access_block_missing_warns(aws: None, stack_config: SpaConfig) -> None:
    result = only(check_account_public_access(context(stack_config)), PUBLIC_ACCESS_ITEM)
    assert result.status is Status.WARN, f"{PUBLIC_ACCESS_ITEM}: the stack turns it on: {result}"


def test_account_public_access_block_partly_off_names_the_flag(aws: None, stack_config: SpaConfig) -> None:
    put_account_block(RestrictPublicBuckets=False)
    result = only(check_account_public_access(context(stack_config)), PUBLIC_ACCESS_ITEM)
    assert result.status is Status.WARN and "RestrictPublicBuckets" in result.detail, (
        f"{PUBLIC_ACCESS_ITEM}: {result}"
    )
    assert "BlockPublicAcls" not in result.detail, f"{PUBLIC_ACCESS_ITEM}: names only the flags that are off"


def test_ebs_encryption_off_warns(aws: None, stack_config: SpaConfig) -> None:
    result = only(check_ebs_encryption(context(stack_config)), EBS_ITEM)
    assert result.status is Status.WARN, (
        f"{EBS_ITEM}: off, the stack turns it on (164.312(a)(2)(iv)): {result}"
    )


def test_ebs_encryption_on_is_ok(aws: None, stack_config: SpaConfig) -> None:
    boto3.client("ec2", region_name=stack_config.region).enable_ebs_encryption_by_default()
    result = only(check_ebs_encryption(context(stack_config)), EBS_ITEM)
    assert result.status is Status.OK, f"{EBS_ITEM}: on (164.312(a)(2)(iv)): {result}"


def test_root_access_keys_fail(aws: None, stack_config: SpaConfig) -> None:
    root_summary(_account_access_keys_present=1)
    result = only(check_root_keys(context(stack_config)), ROOT_KEYS_ITEM)
    assert result.status is Status.FAIL, f"{ROOT_KEYS_ITEM}: root keys must go (164.312(a)(2)(i)): {result}"


def test_no_root_access_keys_is_ok(aws: None, stack_config: SpaConfig) -> None:
    result = only(check_root_keys(context(stack_config)), ROOT_KEYS_ITEM)
    assert result.status is Status.OK, f"{ROOT_KEYS_ITEM}: moto's account has none: {result}"


def test_root_without_mfa_fails(aws: None, stack_config: SpaConfig) -> None:
    """moto reports AccountMFAEnabled 0 for a new account, as AWS does before MFA is assigned."""
    result = only(check_root_mfa(context(stack_config)), ROOT_MFA_ITEM)
    assert result.status is Status.FAIL, f"{ROOT_MFA_ITEM}: root needs MFA (164.312(d)): {result}"


def test_root_with_mfa_is_ok(aws: None, stack_config: SpaConfig) -> None:
    root_summary(_account_mfa_enabled=1)
    result = only(check_root_mfa(context(stack_config)), ROOT_MFA_ITEM)
    assert result.status is Status.OK, f"{ROOT_MFA_ITEM}: {result}"
