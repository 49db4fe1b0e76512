"""Service quotas the spa's program needs, compared with the account's quota and current usage.

What the program needs is counted from its offline synthesis, so the check follows the stack's code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infra.config import SpaConfig
from scripts.preflight.errors import error_code
from scripts.preflight.model import CheckResult, PreflightContext, QuotaNeeds, Status

VPC_TYPE = "aws:ec2/vpc:Vpc"
EIP_TYPE = "aws:ec2/eip:Eip"
ENDPOINT_TYPE = "aws:ec2/vpcEndpoint:VpcEndpoint"


@dataclass(frozen=True)
class Quota:
    """One quota: its Service Quotas code, the AWS default, and how to count what is used now."""

    label: str
    service_code: str
    quota_code: str
    default: int
    needed: Callable[[QuotaNeeds], int]
    in_use: Callable[[PreflightContext], int]


def _vpcs_in_use(ctx: PreflightContext) -> int:
    pages = ctx.client("ec2").get_paginator("describe_vpcs").paginate()
    return sum(len(page.get("Vpcs", [])) for page in pages)


def _eips_in_use(ctx: PreflightContext) -> int:
    return len(ctx.client("ec2").describe_addresses().get("Addresses", []))


QUOTAS = (
    Quota("VPCs per region", "vpc", "L-F678F1CE", 5, lambda n: n.vpcs, _vpcs_in_use),
    Quota("Elastic IP addresses", "ec2", "L-0263D0A3", 5, lambda n: n.elastic_ips, _eips_in_use),
    Quota(
        "Interface VPC endpoints per VPC",
        "vpc",
        "L-29B6F2EB",
        50,
        lambda n: n.interface_endpoints_per_vpc,
        lambda _ctx: 0,  # the spa's VPC is new: nothing in it yet
    ),
)


def needs_from_resources(resources: list[Any]) -> QuotaNeeds:
    """Count VPCs, Elastic IPs and interface endpoints (per VPC) among synthesized resource records."""
    endpoints: Counter[str] = Counter()
    vpcs = eips = 0
    for record in resources:
        if record.type == VPC_TYPE:
            vpcs += 1
        elif record.type == EIP_TYPE:
            eips += 1
        elif record.type == ENDPOINT_TYPE and record.inputs.get("vpcEndpointType") == "Interface":
            endpoints[str(record.inputs.get("vpcId"))] += 1
    return QuotaNeeds(
        vpcs=vpcs, elastic_ips=eips, interface_endpoints_per_vpc=max(endpoints.values(), default=0)
    )


def needs_for(config: SpaConfig) -> QuotaNeeds:
    """Synthesize the spa's program offline (no cloud, no CLI) and count what it creates."""
    from scripts.synth import synthesize

    return needs_from_resources(synthesize(config).resources)


def _quota_value(ctx: PreflightContext, quota: Quota) -> tuple[int, str]:
    """(value, source): the account's applied value, else the AWS default for the code."""
    client = ctx.client("service-quotas")
    try:
        found = client.get_service_quota(ServiceCode=quota.service_code, QuotaCode=quota.quota_code)
        return int(found["Quota"]["Value"]), "applied"
    except ClientError as error:
        if error_code(error) != "NoSuchResourceException":
            raise
    found = client.get_aws_default_service_quota(ServiceCode=quota.service_code, QuotaCode=quota.quota_code)
    return int(found["Quota"]["Value"]), "AWS default"


def _check_quota(ctx: PreflightContext, quota: Quota, needs: QuotaNeeds) -> CheckResult:
    item = f"Quota: {quota.label}"
    needed = quota.needed(needs)
    if needed == 0:
        return CheckResult(item, Status.OK, "the stack needs none")
    try:
        value, source = _quota_value(ctx, quota)
        used = quota.in_use(ctx)
    except (ClientError, BotoCoreError, NotImplementedError) as error:
        return CheckResult(
            item,
            Status.WARN,
            f"not checked: the quota or its usage could not be read ({error_code(error)}); the stack needs {needed}, "
            f"the AWS default is {quota.default}",
            f"check by hand: Service Quotas console > {quota.service_code} > {quota.quota_code} in "
            f"{ctx.config.region}",
        )
    detail = f"needs {needed}, {used} in use, quota {value} ({source})"
    if used + needed > value:
        return CheckResult(
            item,
            Status.FAIL,
            detail + "; `medspa up` would stop halfway",
            f"request an increase: `aws service-quotas request-service-quota-increase --region "
            f"{ctx.config.region} --service-code {quota.service_code} --quota-code {quota.quota_code} "
            f"--desired-value {used + needed}`",
        )
    return CheckResult(item, Status.OK, detail)


def check_quotas(ctx: PreflightContext) -> list[CheckResult]:
    """One line per quota; one quota that cannot be read does not hide the others."""
    needs = ctx.needs() if ctx.needs is not None else needs_for(ctx.config)
    return [_check_quota(ctx, quota, needs) for quota in QUOTAS]
