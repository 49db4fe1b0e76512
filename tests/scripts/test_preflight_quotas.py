"""Preflight: service quotas the spa needs, counted from its synthesis, against the account's quotas.

moto answers ``get_service_quota`` for the ``vpc`` service code only, always with AWS's fixed default
values (5 VPCs per region, 50 interface endpoints per VPC), never with an applied value of our choosing
nor with an error such as AccessDenied, and it lacks ``get_aws_default_service_quota``. Tests that need
a chosen quota value, an error or the AWS-default fallback answer from botocore's Stubber instead
(validated against botocore's service model); each such test's docstring says which of these it needs.
Every queued Stubber answer must be used (``stub`` checks on exit).
"""

from __future__ import annotations

from typing import Any

from infra.config import SpaConfig
from scripts.preflight.model import CheckResult, QuotaNeeds, Status
from scripts.preflight.quotas import ENDPOINT_TYPE, VPC_TYPE, check_quotas, needs_from_resources
from scripts.synth import Synthesis
from tests.scripts.preflight_support import (
    NEEDS,
    aws_fixture,  # noqa: F401
    context,
    only,
    stack_config_fixture,  # noqa: F401
    stub,
)

VPCS = "Quota: VPCs per region"
EIPS = "Quota: Elastic IP addresses"
ENDPOINTS = "Quota: Interface VPC endpoints per VPC"


def quota(service: str, code: str, name: str, value: float) -> dict[str, Any]:
    return {
        "Quota": {
            "ServiceCode": service,
            "ServiceName": "Amazon Virtual Private Cloud (Amazon VPC)",
            "QuotaArn": f"arn:aws:servicequotas:us-east-1:123456789012:{service}/{code}",
            "QuotaCode": code,
            "QuotaName": name,
            "Value": value,
            "Unit": "None",
            "Adjustable": True,
            "GlobalQuota": False,
        }
    }


def run(config: SpaConfig, needs: QuotaNeeds = NEEDS, stubbed: list[Any] | None = None) -> list[CheckResult]:
    ctx = context(config, needs=lambda: needs)
    if stubbed is None:
        return check_quotas(ctx)
    with stub(ctx, "service-quotas") as stubber:
        for method, answer in stubbed:
            if isinstance(answer, str):
                stubber.add_client_error(method, answer, "quota lookup failed", 400)
            else:
                stubber.add_response(method, answer)
        return check_quotas(ctx)


def test_needs_count_what_the_program_creates(stack_synthesis: Synthesis) -> None:
    needs = needs_from_resources(stack_synthesis.resources)
    vpcs = stack_synthesis.of_type(VPC_TYPE)
    interface = [
        r for r in stack_synthesis.of_type(ENDPOINT_TYPE) if r.inputs.get("vpcEndpointType") == "Interface"
    ]
    assert needs.vpcs == len(vpcs) >= 1, f"quotas: {len(vpcs)} VPCs synthesized, counted {needs.vpcs}"
    assert needs.interface_endpoints_per_vpc == len(interface), (
        f"quotas: {len(interface)} interface endpoints in one VPC, counted {needs.interface_endpoints_per_vpc}"
    )


def test_gateway_endpoints_do_not_count_against_the_interface_quota(stack_synthesis: Synthesis) -> None:
    gateways = [
        r for r in stack_synthesis.of_type(ENDPOINT_TYPE) if r.inputs.get("vpcEndpointType") == "Gateway"
    ]
    needs = needs_from_resources(gateways)
    assert needs.interface_endpoints_per_vpc == 0, "quotas: gateway endpoints have no per-VPC interface quota"


def test_quotas_with_room_are_ok(aws: None, stack_config: SpaConfig) -> None:
    """moto: 5 VPCs per region with the default VPC in use, 50 interface endpoints per VPC."""
    results = run(stack_config)
    assert only(results, VPCS).status is Status.OK, f"{VPCS}: {only(results, VPCS)}"
    assert only(results, ENDPOINTS).status is Status.OK, f"{ENDPOINTS}: {only(results, ENDPOINTS)}"


def test_a_need_of_zero_reads_no_quota(aws: None, stack_config: SpaConfig) -> None:
    result = only(run(stack_config), EIPS)
    assert result.status is Status.OK and "needs none" in result.detail, f"{EIPS}: {result}"


def test_vpc_quota_already_used_up_fails(aws: None, stack_config: SpaConfig) -> None:
    """moto's default VPC is in use; an applied quota of 1 leaves no room for the spa's VPC.

    Stubber: moto always answers the AWS default of 5 VPCs per region; an applied value of 1 cannot be set.
    """
    answers = [
        ("get_service_quota", quota("vpc", "L-F678F1CE", "VPCs per Region", 1.0)),
        ("get_service_quota", quota("vpc", "L-29B6F2EB", "Interface VPC endpoints per VPC", 50.0)),
    ]
    result = only(run(stack_config, stubbed=answers), VPCS)
    assert result.status is Status.FAIL, f"{VPCS}: 1 in use + 1 needed > 1: {result}"
    assert "--quota-code L-F678F1CE --desired-value 2" in result.action, f"{VPCS}: {result.action}"


def test_unapplied_quota_falls_back_to_the_aws_default(aws: None, stack_config: SpaConfig) -> None:
    """Stubber: moto never answers NoSuchResourceException for a vpc quota, and lacks the default lookup."""
    answers = [
        ("get_service_quota", "NoSuchResourceException"),
        ("get_aws_default_service_quota", quota("vpc", "L-F678F1CE", "VPCs per Region", 5.0)),
        ("get_service_quota", quota("vpc", "L-29B6F2EB", "Interface VPC endpoints per VPC", 50.0)),
    ]
    result = only(run(stack_config, stubbed=answers), VPCS)
    assert result.status is Status.OK and "AWS default" in result.detail, f"{VPCS}: {result}"


def test_unreadable_quota_warns_and_the_others_still_run(aws: None, stack_config: SpaConfig) -> None:
    """Stubber: moto cannot refuse get_service_quota with AccessDeniedException, nor answer a quota of 5."""
    answers = [
        ("get_service_quota", "AccessDeniedException"),
        ("get_service_quota", quota("vpc", "L-29B6F2EB", "Interface VPC endpoints per VPC", 5.0)),
    ]
    results = run(stack_config, stubbed=answers)
    assert only(results, VPCS).status is Status.WARN, f"{VPCS}: not readable is a WARN: {only(results, VPCS)}"
    assert only(results, ENDPOINTS).status is Status.FAIL, (
        f"{ENDPOINTS}: 7 needed > 5: {only(results, ENDPOINTS)}"
    )
