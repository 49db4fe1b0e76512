"""CKV_MEDSPA_14: ingress only from the allow-listed prefix list, other security groups or the VPC."""

from __future__ import annotations

from typing import Any

from _medspa_support import attr, blocks, cidr_inside_private, strings
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def _rule_is_allowed(cidrs: list[str], ipv6_cidrs: list[str]) -> bool:
    """Prefix lists and security-group sources are always allowed; CIDRs only inside private space."""
    return all(cidr_inside_private(c) for c in [*cidrs, *ipv6_cidrs])


class MedspaSecurityGroupIngress(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure security-group ingress comes only from the allow-listed prefix list or inside the VPC",
            id="CKV_MEDSPA_14",
            categories=(CheckCategories.NETWORKING,),
            supported_resources=(
                "aws_security_group",
                "aws_default_security_group",
                "aws_security_group_rule",
                "aws_vpc_security_group_ingress_rule",
            ),
            guideline=(
                "HIPAA 164.312(a)(1) access control, 164.312(e)(1) transmission security: ingress sources "
                "are prefix lists (the office allow-list), other security groups, or CIDRs inside RFC 1918 "
                "(the VPC); never 0.0.0.0/0, ::/0 or any public CIDR."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if self.entity_type == "aws_security_group_rule":
            if attr(conf, "type") != "ingress":
                return CheckResult.UNKNOWN  # egress rules are out of scope
            allowed = _rule_is_allowed(strings(conf, "cidr_blocks"), strings(conf, "ipv6_cidr_blocks"))
        elif self.entity_type == "aws_vpc_security_group_ingress_rule":
            allowed = _rule_is_allowed(strings(conf, "cidr_ipv4"), strings(conf, "cidr_ipv6"))
        else:
            allowed = all(
                _rule_is_allowed(strings(rule, "cidr_blocks"), strings(rule, "ipv6_cidr_blocks"))
                for rule in blocks(conf, "ingress")
            )
        return CheckResult.PASSED if allowed else CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["ingress", "cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6"]


check = MedspaSecurityGroupIngress()
