"""The spa's IP allow-lists: the office and admin networks, and nothing else, may reach the environment.

164.312(a)(1) access control: managed prefix lists for security groups, an IAM policy that denies
workforce actions from outside the allow-list, and an opt-in WAF web ACL for a staff portal.
No rule here is ever open to 0.0.0.0/0 or ::/0 (config refuses such CIDRs before this runs).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.context import DataClassification, SpaContext

WAF_SCOPE = "REGIONAL"  # an ALB or API Gateway in the spa's region; CloudFront would need us-east-1
# Headers that may carry credentials or session data are never written to WAF logs.
WAF_REDACTED_HEADERS = ("authorization", "cookie")
# AWS managed rule groups evaluated before the allow rule: known-bad inputs (Log4Shell and the like)
# and the common rule set stop attacks that come from an allow-listed but compromised machine.
WAF_MANAGED_RULE_GROUPS = ("AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet")
# The common rule set blocks request bodies over 8 KB, which would block every before/after photo
# upload; that one rule only counts (and is logged) instead.
WAF_COUNT_ONLY_RULES = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}


def split_families(cidrs: Sequence[str]) -> tuple[list[str], list[str]]:
    """IPv4 and IPv6 networks apart, order kept: prefix lists and WAF IP sets hold one family each."""
    v4 = [c for c in cidrs if ipaddress.ip_network(c).version == 4]
    v6 = [c for c in cidrs if ipaddress.ip_network(c).version == 6]
    return v4, v6


def workforce_ip_policy_document(cidrs: Sequence[str], vpc_id: str | None) -> str:
    """Deny every action unless it comes from an allow-listed address (164.312(a)(1)).

    Exempt: calls an AWS service makes on the user's behalf (aws:ViaAWSService, e.g. CloudFormation or
    S3 calling KMS), whose source address is the service's, and calls through this spa's VPC, whose
    source is a private address that aws:SourceIp never matches. Every condition must hold for the deny
    to apply, so a request matching any exemption passes through to the role's own permissions.
    """
    condition: dict[str, Any] = {
        "NotIpAddress": {"aws:SourceIp": list(cidrs)},
        "Bool": {"aws:ViaAWSService": "false"},
    }
    if vpc_id:
        condition["StringNotEquals"] = {"aws:SourceVpc": vpc_id}
    statement = {
        "Sid": "DenyOutsideSpaAllowList",
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": condition,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@dataclass(frozen=True)
class AllowlistArgs:
    """The allow-listed networks, the VPC whose traffic is trusted, and whether to build the WAF.

    `enable_staff_portal_waf` is opt-in: it creates the WAF IP sets and web ACL (default block, allow
    only the allow-list) ready to front a staff portal; nothing is attached to it automatically.
    """

    office_cidrs: tuple[str, ...]
    admin_cidrs: tuple[str, ...]
    vpc_id: pulumi.Input[str] | None = None
    enable_staff_portal_waf: bool = False
    waf_log_key_arn: pulumi.Input[str] | None = None
    waf_log_retention_days: int = 731


class Allowlist(pulumi.ComponentResource):
    """Prefix lists, the workforce IP policy and (opt-in) a WAF web ACL, all built from the allow-list."""

    cidrs: tuple[str, ...]
    prefix_list: aws.ec2.ManagedPrefixList
    prefix_list_v6: aws.ec2.ManagedPrefixList | None
    admin_prefix_list: aws.ec2.ManagedPrefixList
    admin_prefix_list_v6: aws.ec2.ManagedPrefixList | None
    workforce_ip_policy: aws.iam.Policy
    waf_log_group: aws.cloudwatch.LogGroup | None

    def __init__(
        self, name: str, args: AllowlistArgs, ctx: SpaContext, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medspa:allowlist:Allowlist", name, None, opts)
        self.cidrs = tuple(dict.fromkeys((*args.office_cidrs, *args.admin_cidrs)))
        office = set(args.office_cidrs)
        v4, v6 = split_families(self.cidrs)
        admin_v4, admin_v6 = split_families(tuple(dict.fromkeys(args.admin_cidrs)))

        def label(cidr: str) -> str:
            return "office" if cidr in office else "admin"

        self.prefix_list = self._prefix_list(f"{name}-ipv4", ctx, "allowlist-ipv4", "IPv4", v4, label)
        self.prefix_list_v6 = (
            self._prefix_list(f"{name}-ipv6", ctx, "allowlist-ipv6", "IPv6", v6, label) if v6 else None
        )
        self.admin_prefix_list = self._prefix_list(
            f"{name}-admin-ipv4", ctx, "admin-ipv4", "IPv4", admin_v4, lambda _: "admin"
        )
        self.admin_prefix_list_v6 = (
            self._prefix_list(f"{name}-admin-ipv6", ctx, "admin-ipv6", "IPv6", admin_v6, lambda _: "admin")
            if admin_v6
            else None
        )

        vpc_id = (
            pulumi.Output.from_input(args.vpc_id) if args.vpc_id is not None else pulumi.Output.from_input("")
        )
        self.workforce_ip_policy = aws.iam.Policy(
            f"{name}-workforce-ip",
            name=ctx.name("workforce-ip-allowlist"),
            description="Denies workforce actions from outside the spa's office and admin networks",
            policy=vpc_id.apply(lambda vpc: workforce_ip_policy_document(self.cidrs, vpc or None)),
            tags=ctx.tags(DataClassification.INTERNAL),
            opts=pulumi.ResourceOptions(parent=self),
        )

        # Annotated here, not on the class: the Pulumi SDK evaluates a component's class annotations,
        # and naming aws.wafv2 there would import the WAF module (~0.5 s) for every spa, WAF or not.
        self.ip_sets: dict[str, aws.wafv2.IpSet] = {}
        self.web_acl: aws.wafv2.WebAcl | None = None
        self.waf_log_group = None
        if args.enable_staff_portal_waf:
            self._staff_portal_waf(name, args, ctx, v4, v6)

        outputs: dict[str, Any] = {
            "prefixListId": self.prefix_list.id,
            "adminPrefixListId": self.admin_prefix_list.id,
            "workforceIpPolicyArn": self.workforce_ip_policy.arn,
        }
        if self.web_acl is not None:
            outputs["webAclArn"] = self.web_acl.arn
        self.register_outputs(outputs)

    def _prefix_list(
        self,
        resource_name: str,
        ctx: SpaContext,
        role: str,
        family: str,
        cidrs: Sequence[str],
        label: Any,
    ) -> aws.ec2.ManagedPrefixList:
        """One family's list; max_entries is exact because every reference counts it against SG quotas."""
        return aws.ec2.ManagedPrefixList(
            resource_name,
            name=ctx.name(role),
            address_family=family,
            max_entries=max(1, len(cidrs)),  # an empty list (e.g. IPv6-only admins) allows nothing
            entries=[{"cidr": c, "description": f"{ctx.spa} {label(c)}"} for c in cidrs],
            tags=ctx.tags(DataClassification.INTERNAL, Name=ctx.name(role)),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _staff_portal_waf(
        self, name: str, args: AllowlistArgs, ctx: SpaContext, v4: list[str], v6: list[str]
    ) -> None:
        """IP sets, a default-block web ACL that allows only the allow-list, and its encrypted logs."""
        for family, addresses in (("IPV4", v4), ("IPV6", v6)):
            if addresses:
                suffix = family.lower()
                self.ip_sets[suffix] = aws.wafv2.IpSet(
                    f"{name}-waf-{suffix}",
                    name=ctx.name(f"allowlist-{suffix}"),
                    description=f"{ctx.spa} office and admin networks ({family})",
                    scope=WAF_SCOPE,
                    ip_address_version=family,
                    addresses=addresses,
                    tags=ctx.tags(DataClassification.INTERNAL),
                    opts=pulumi.ResourceOptions(parent=self),
                )
        references = [{"ip_set_reference_statement": {"arn": s.arn}} for s in self.ip_sets.values()]
        allow_statement: Any = (
            references[0] if len(references) == 1 else {"or_statement": {"statements": references}}
        )

        def visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
            return {
                "cloudwatch_metrics_enabled": True,
                "metric_name": ctx.name(metric),
                "sampled_requests_enabled": True,
            }

        rules: list[Any] = [
            {
                "name": group,
                "priority": priority,
                "override_action": {"none": {}},
                "statement": {
                    "managed_rule_group_statement": {
                        "name": group,
                        "vendor_name": "AWS",
                        "rule_action_overrides": [
                            {"name": rule, "action_to_use": {"count": {}}}
                            for rule in WAF_COUNT_ONLY_RULES.get(group, ())
                        ],
                    }
                },
                "visibility_config": visibility(group),
            }
            for priority, group in enumerate(WAF_MANAGED_RULE_GROUPS)
        ]
        rules.append(
            {
                "name": "allow-spa-allowlist",
                "priority": len(WAF_MANAGED_RULE_GROUPS),
                "action": {"allow": {}},
                "statement": allow_statement,
                "visibility_config": visibility("allow-allowlist"),
            }
        )
        self.web_acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            name=ctx.name("staff-portal"),
            description="Staff portal: blocks everything except the spa's office and admin networks",
            scope=WAF_SCOPE,
            default_action=aws.wafv2.WebAclDefaultActionArgs(block=aws.wafv2.WebAclDefaultActionBlockArgs()),
            rules=rules,
            visibility_config=visibility("staff-portal"),
            tags=ctx.tags(DataClassification.INTERNAL),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # WAF requires the log group name to start with "aws-waf-logs-" (164.312(b) audit controls).
        self.waf_log_group = aws.cloudwatch.LogGroup(
            f"{name}-waf-logs",
            name=f"aws-waf-logs-{ctx.spa}-staff-portal",
            kms_key_id=args.waf_log_key_arn,
            retention_in_days=args.waf_log_retention_days,
            tags=ctx.tags(DataClassification.AUDIT),
            opts=ctx.keep(pulumi.ResourceOptions(parent=self)),
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf-logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.waf_log_group.arn],
            redacted_fields=[{"single_header": {"name": h}} for h in WAF_REDACTED_HEADERS],
            opts=pulumi.ResourceOptions(parent=self),
        )
