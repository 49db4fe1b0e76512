"""Allow-list invariants for every bundled stack: only the office and admin networks get in (164.312(a)(1))."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

import pytest
import yaml

from infra.config import SpaConfig, from_mapping, load_stack
from scripts import paths
from scripts.synth import ResourceRecord, Synthesis, synthesize
from tests.conftest import synth_stack
from tests.support import as_list, depends_on, policy_document, statements

PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
POLICY = "aws:iam/policy:Policy"
VPC = "aws:ec2/vpc:Vpc"
IP_SET = "aws:wafv2/ipSet:IpSet"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
WORLD = {"0.0.0.0/0", "::/0"}


def _config(synthesis: Synthesis) -> SpaConfig:
    return load_stack(paths.stacks_dir(), synthesis.spa)


def _family(cidrs: tuple[str, ...] | list[str], version: int) -> list[str]:
    return [c for c in cidrs if ipaddress.ip_network(c).version == version]


def _entries(record: ResourceRecord) -> list[str]:
    return [str(e["cidr"]) for e in as_list(record.inputs.get("entries"))]


def _prefix_list(synthesis: Synthesis, name: str) -> ResourceRecord | None:
    found = [r for r in synthesis.of_type(PREFIX_LIST) if r.name == name]
    return found[0] if found else None


def _workforce_policy(synthesis: Synthesis) -> ResourceRecord:
    return synthesis.one(POLICY, "allowlist-workforce-ip")


# --- Prefix lists ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version,name", [(4, "allowlist-ipv4"), (6, "allowlist-ipv6")])
def test_allowlist_prefix_list_equals_config_cidrs(
    stack_synthesis: Synthesis, version: int, name: str
) -> None:
    expected = _family(_config(stack_synthesis).allowlist_cidrs, version)
    record = _prefix_list(stack_synthesis, name)
    if version == 6 and not expected:
        assert record is None, f"{name}: no IPv6 prefix list without IPv6 allow-list CIDRs (164.312(a)(1))"
        return
    assert record is not None, f"{name}: prefix list for the IPv{version} allow-list missing (164.312(a)(1))"
    assert _entries(record) == expected, (
        f"{name}: entries {_entries(record)} must equal the office and admin CIDRs {expected} (164.312(a)(1))"
    )
    assert record.inputs.get("addressFamily") == f"IPv{version}", (
        f"{name}: wrong address family (164.312(a)(1))"
    )


def test_admin_prefix_list_holds_only_admin_cidrs(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis)
    record = _prefix_list(stack_synthesis, "allowlist-admin-ipv4")
    assert record is not None, "allowlist-admin-ipv4: admin prefix list missing (164.312(a)(1))"
    expected = _family(list(dict.fromkeys(config.admin_cidrs)), 4)
    assert _entries(record) == expected, (
        f"{record.name}: entries {_entries(record)} must be the admin CIDRs {expected} only (164.312(a)(1))"
    )


def test_no_prefix_list_holds_the_world(stack_synthesis: Synthesis) -> None:
    lists = stack_synthesis.of_type(PREFIX_LIST)
    assert lists, f"{stack_synthesis.spa}: no prefix lists synthesized (164.312(a)(1))"
    for record in lists:
        assert not set(_entries(record)) & WORLD, (
            f"{record.name}: prefix list opens the world (164.312(a)(1))"
        )
        assert int(record.inputs["maxEntries"]) >= len(_entries(record)), (
            f"{record.name}: maxEntries below its entry count (164.312(a)(1))"
        )


# --- Workforce IP policy --------------------------------------------------------------------------


def _deny_statement(synthesis: Synthesis) -> dict[str, Any]:
    policy = _workforce_policy(synthesis)
    denies = [s for s in statements(policy_document(policy.inputs["policy"])) if s.get("Effect") == "Deny"]
    assert len(denies) == 1, f"{policy.name}: one deny statement expected (164.312(a)(1))"
    return denies[0]


def test_workforce_ip_policy_denies_everything_outside_the_allowlist(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis)
    statement = _deny_statement(stack_synthesis)
    assert statement.get("Action") == "*" and statement.get("Resource") == "*", (
        "allowlist-workforce-ip: the deny must cover every action and resource (164.312(a)(1))"
    )
    sources = statement.get("Condition", {}).get("NotIpAddress", {}).get("aws:SourceIp")
    assert sorted(as_list(sources)) == sorted(config.allowlist_cidrs), (
        f"allowlist-workforce-ip: aws:SourceIp must be exactly the allow-list, got {sources} (164.312(a)(1))"
    )


def test_workforce_ip_policy_exempts_aws_services_acting_for_the_user(stack_synthesis: Synthesis) -> None:
    statement = _deny_statement(stack_synthesis)
    via = statement.get("Condition", {}).get("Bool", {}).get("aws:ViaAWSService")
    assert via == "false", (
        "allowlist-workforce-ip: the deny must apply only when aws:ViaAWSService is false, or services "
        "calling KMS/S3 for the user break (164.312(a)(1))"
    )


def test_workforce_ip_policy_exempts_only_this_vpc(stack_synthesis: Synthesis) -> None:
    policy = _workforce_policy(stack_synthesis)
    vpc = stack_synthesis.of_type(VPC)[0]
    source_vpc = (
        _deny_statement(stack_synthesis).get("Condition", {}).get("StringNotEquals", {}).get("aws:SourceVpc")
    )
    assert source_vpc and depends_on(policy, vpc, "policy"), (
        f"{policy.name}: only calls through this spa's VPC ({vpc.name}) may skip the IP check (164.312(a)(1))"
    )


def test_workforce_ip_policy_grants_nothing(stack_synthesis: Synthesis) -> None:
    policy = _workforce_policy(stack_synthesis)
    allows = [s for s in statements(policy_document(policy.inputs["policy"])) if s.get("Effect") != "Deny"]
    assert not allows, f"{policy.name}: the IP guard must only deny, never allow (164.312(a)(1))"


# --- WAF (opt-in) ---------------------------------------------------------------------------------


def test_waf_exists_only_when_enabled(stack_synthesis: Synthesis) -> None:
    enabled = _config(stack_synthesis).enable_staff_portal_waf
    wafs = stack_synthesis.of_type(WEB_ACL) + stack_synthesis.of_type(IP_SET)
    assert bool(wafs) == enabled, (
        f"allowlist: WAF resources {[w.name for w in wafs]} must exist only with enableStaffPortalWaf "
        f"(is {enabled}) (164.312(a)(1))"
    )


def test_waf_is_never_attached_automatically(stack_synthesis: Synthesis) -> None:
    attached = [a.name for a in stack_synthesis.of_type(WEB_ACL_ASSOCIATION)]
    assert not attached, (
        f"{attached}: the staff portal WAF is opt-in and never attached by the kit (164.312(a)(1))"
    )


def _demo_values(**overrides: Any) -> dict[str, Any]:
    document = yaml.safe_load((paths.stacks_dir() / "Pulumi.demo.yaml").read_text(encoding="utf-8"))
    values = dict(document["config"])
    values.update(overrides)
    return values


@pytest.fixture(scope="module")
def waf_config() -> SpaConfig:
    """The demo spa with the staff portal WAF on and an IPv6 admin network, to exercise both families."""
    admins = [*_demo_values()["medspa:adminCidrs"], "2001:db8:4f00::/48"]
    return from_mapping(
        "portal", _demo_values(**{"medspa:enableStaffPortalWaf": True, "medspa:adminCidrs": admins})
    )


@pytest.fixture(scope="module")
def with_waf(waf_config: SpaConfig) -> Synthesis:
    return synthesize(waf_config)


def test_waf_ip_sets_equal_the_allowlist(with_waf: Synthesis, waf_config: SpaConfig) -> None:
    for version, name in ((4, "allowlist-waf-ipv4"), (6, "allowlist-waf-ipv6")):
        ip_set = with_waf.one(IP_SET, name)
        assert ip_set.inputs.get("scope") == "REGIONAL", (
            f"{name}: WAF IP set must be REGIONAL (164.312(a)(1))"
        )
        expected = _family(waf_config.allowlist_cidrs, version)
        assert ip_set.inputs.get("addresses") == expected, (
            f"{name}: addresses {ip_set.inputs.get('addresses')} must equal {expected} (164.312(a)(1))"
        )


def test_waf_blocks_by_default_and_allows_the_ip_sets(with_waf: Synthesis) -> None:
    acl = with_waf.one(WEB_ACL, "allowlist-waf")
    assert acl.inputs.get("defaultAction") == {"block": {}}, (
        f"{acl.name}: web ACL must block by default (164.312(a)(1))"
    )
    allows = [r for r in as_list(acl.inputs.get("rules")) if "allow" in (r.get("action") or {})]
    assert len(allows) == 1, f"{acl.name}: exactly one allow rule expected (164.312(a)(1))"
    for ip_set in with_waf.of_type(IP_SET):
        assert depends_on(acl, ip_set, "rules"), (
            f"{acl.name}: allow rule must reference IP set {ip_set.name} (164.312(a)(1))"
        )
    statement = allows[0]["statement"]
    references = (
        [statement] if "ipSetReferenceStatement" in statement else statement["orStatement"]["statements"]
    )
    assert all(set(r) == {"ipSetReferenceStatement"} for r in references), (
        f"{acl.name}: the allow rule may match only the allow-list IP sets (164.312(a)(1))"
    )


def test_waf_visibility_is_on(with_waf: Synthesis) -> None:
    acl = with_waf.one(WEB_ACL, "allowlist-waf")
    configs = [acl.inputs["visibilityConfig"]] + [r["visibilityConfig"] for r in acl.inputs["rules"]]
    for config in configs:
        assert (
            config.get("cloudwatchMetricsEnabled") is True and config.get("sampledRequestsEnabled") is True
        ), f"{acl.name}: metrics and sampled requests must be on for {config.get('metricName')} (164.312(b))"


def test_waf_logs_to_an_encrypted_protected_group(with_waf: Synthesis) -> None:
    acl = with_waf.one(WEB_ACL, "allowlist-waf")
    logging = [c for c in with_waf.of_type(WEB_ACL_LOGGING) if depends_on(c, acl, "resourceArn")]
    assert len(logging) == 1, f"{acl.name}: web ACL must log its decisions (164.312(b))"
    groups = [g for g in with_waf.of_type(LOG_GROUP) if depends_on(logging[0], g, "logDestinationConfigs")]
    assert len(groups) == 1, f"{acl.name}: WAF logs must go to a CloudWatch log group (164.312(b))"
    group = groups[0]
    assert depends_on(group, with_waf.one(KEY, "keys-logs"), "kmsKeyId"), (
        f"{group.name}: WAF log group must be encrypted with the logs CMK (164.312(b))"
    )
    assert group.protect and group.retain_on_delete, f"{group.name}: WAF log group must be kept (164.312(b))"
    redacted = {f["singleHeader"]["name"] for f in as_list(logging[0].inputs.get("redactedFields"))}
    assert {"authorization", "cookie"} <= redacted, (
        f"{logging[0].name}: credentials must be redacted from WAF logs (164.312(a)(1))"
    )


def test_waf_config_keeps_ipv6_prefix_list(with_waf: Synthesis, waf_config: SpaConfig) -> None:
    record = _prefix_list(with_waf, "allowlist-ipv6")
    assert record is not None and _entries(record) == _family(waf_config.allowlist_cidrs, 6), (
        "allowlist-ipv6: IPv6 allow-list CIDRs must get their own prefix list (164.312(a)(1))"
    )


# --- Negative controls ----------------------------------------------------------------------------


def _weakened(mutate: Any) -> Synthesis:
    synthesis = copy.deepcopy(synth_stack("demo"))
    mutate(synthesis)
    return synthesis


def test_extra_prefix_list_entry_is_caught() -> None:
    def widen(synthesis: Synthesis) -> None:
        record = synthesis.one(PREFIX_LIST, "allowlist-ipv4")
        record.inputs["entries"] = [*record.inputs["entries"], {"cidr": "192.0.2.0/24", "description": "x"}]

    with pytest.raises(AssertionError, match="must equal"):
        test_allowlist_prefix_list_equals_config_cidrs(_weakened(widen), 4, "allowlist-ipv4")


def test_missing_source_ip_condition_is_caught() -> None:
    def loosen(synthesis: Synthesis) -> None:
        policy = synthesis.one(POLICY, "allowlist-workforce-ip")
        document = policy_document(policy.inputs["policy"])
        document["Statement"][0]["Condition"].pop("NotIpAddress")
        policy.inputs["policy"] = document

    with pytest.raises(AssertionError, match="aws:SourceIp"):
        test_workforce_ip_policy_denies_everything_outside_the_allowlist(_weakened(loosen))
