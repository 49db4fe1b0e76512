"""Network invariants for every bundled stack.

164.312(e)(1) transmission security: isolated subnets, no internet path, AWS traffic through endpoints
limited to this account. 164.312(a)(1) access control: no world-open ingress, the default SG empty.
164.312(b) audit controls: flow logs of ALL traffic into an encrypted, long-kept log group.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

import pytest
import yaml

from infra.config import LOG_RETENTION_FLOOR_DAYS, SpaConfig, from_mapping, load_stack
from infra.network import INTERFACE_ENDPOINT_SERVICES, db_port
from scripts import paths
from scripts.synth import MOCK_ACCOUNT_ID, ResourceRecord, Synthesis, synthesize
from tests.conftest import synth_stack
from tests.support import as_list, depends_on, policy_document, statements

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
DEFAULT_ROUTE_TABLE = "aws:ec2/defaultRouteTable:DefaultRouteTable"
ROUTE = "aws:ec2/route:Route"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KEY = "aws:kms/key:Key"
INTERNET_PATHS = (
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
)
WORLD = {"0.0.0.0/0", "::/0"}


def _config(synthesis: Synthesis) -> SpaConfig:
    return load_stack(paths.stacks_dir(), synthesis.spa)


def _vpc(synthesis: Synthesis) -> ResourceRecord:
    vpcs = synthesis.of_type(VPC)
    assert len(vpcs) == 1, f"{synthesis.spa}: exactly one VPC expected, found {len(vpcs)} (164.312(e)(1))"
    return vpcs[0]


def _in_vpc(synthesis: Synthesis, type_token: str) -> list[ResourceRecord]:
    vpc = _vpc(synthesis)
    return [r for r in synthesis.of_type(type_token) if depends_on(r, vpc, "vpcId")]


def _data_route_table(synthesis: Synthesis) -> ResourceRecord:
    tables = _in_vpc(synthesis, ROUTE_TABLE)
    assert len(tables) == 1, (
        f"network: one isolated data route table expected, found {len(tables)} (164.312(e)(1))"
    )
    return tables[0]


def _endpoints(synthesis: Synthesis, kind: str) -> list[ResourceRecord]:
    return [e for e in synthesis.of_type(ENDPOINT) if e.inputs.get("vpcEndpointType") == kind]


def _ingress_sources(record: ResourceRecord) -> list[str]:
    """Every CIDR an ingress rule of `record` admits, across the resource types that express one."""
    sources: list[str] = []
    if record.type in (SECURITY_GROUP, DEFAULT_SG):
        for rule in as_list(record.inputs.get("ingress")):
            sources += as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks"))
    elif record.type == SG_RULE and record.inputs.get("type") == "ingress":
        sources += as_list(record.inputs.get("cidrBlocks")) + as_list(record.inputs.get("ipv6CidrBlocks"))
    elif record.type == SG_INGRESS_RULE:
        sources += as_list(record.inputs.get("cidrIpv4")) + as_list(record.inputs.get("cidrIpv6"))
    return [str(s) for s in sources]


# --- VPC and subnets: 164.312(e)(1) -------------------------------------------------------------


def test_vpc_uses_config_cidr_with_dns(stack_synthesis: Synthesis) -> None:
    vpc = _vpc(stack_synthesis)
    assert vpc.inputs.get("cidrBlock") == _config(stack_synthesis).vpc_cidr, (
        f"{vpc.name}: VPC CIDR must come from medspa:vpcCidr (164.312(e)(1))"
    )
    assert vpc.inputs.get("enableDnsSupport") is True and vpc.inputs.get("enableDnsHostnames") is True, (
        f"{vpc.name}: DNS support and hostnames must be on for private endpoint DNS (164.312(e)(1))"
    )


def test_data_subnets_span_two_availability_zones(stack_synthesis: Synthesis) -> None:
    subnets = _in_vpc(stack_synthesis, SUBNET)
    zones = {s.inputs.get("availabilityZone") for s in subnets}
    assert len(subnets) >= 2 and len(zones) >= 2 and None not in zones, (
        f"network: data subnets must span two AZs, found {sorted(map(str, zones))} (164.308(a)(7)(ii)(B))"
    )


def test_data_subnets_lie_inside_the_vpc(stack_synthesis: Synthesis) -> None:
    vpc_net = ipaddress.ip_network(_config(stack_synthesis).vpc_cidr)
    for subnet in _in_vpc(stack_synthesis, SUBNET):
        net = ipaddress.ip_network(subnet.inputs["cidrBlock"])
        assert net.subnet_of(vpc_net), f"{subnet.name}: {net} is outside the VPC {vpc_net} (164.312(e)(1))"  # type: ignore[arg-type]


def test_no_subnet_maps_public_ips(stack_synthesis: Synthesis) -> None:
    subnets = stack_synthesis.of_type(SUBNET)
    assert subnets, f"{stack_synthesis.spa}: no subnets synthesized (164.312(e)(1))"
    for subnet in subnets:
        assert subnet.inputs.get("mapPublicIpOnLaunch") is not True, (
            f"{subnet.name}: subnet must not map public IPs on launch (164.312(e)(1))"
        )


def test_no_internet_or_nat_gateway(stack_synthesis: Synthesis) -> None:
    for type_token in INTERNET_PATHS:
        found = [r.name for r in stack_synthesis.of_type(type_token)]
        assert not found, (
            f"{found}: {type_token} gives the data subnets a path to the internet (164.312(e)(1))"
        )


def test_no_route_to_the_world(stack_synthesis: Synthesis) -> None:
    for route in stack_synthesis.of_type(ROUTE):
        destination = {route.inputs.get("destinationCidrBlock"), route.inputs.get("destinationIpv6CidrBlock")}
        assert not destination & WORLD, f"{route.name}: route to {destination & WORLD} (164.312(e)(1))"
    for table in stack_synthesis.of_type(ROUTE_TABLE) + stack_synthesis.of_type(DEFAULT_ROUTE_TABLE):
        for entry in as_list(table.inputs.get("routes")):
            destination = {entry.get("cidrBlock"), entry.get("ipv6CidrBlock")}
            assert not destination & WORLD, (
                f"{table.name}: inline route to {destination & WORLD} (164.312(e)(1))"
            )


def test_data_route_table_has_no_routes_of_its_own(stack_synthesis: Synthesis) -> None:
    table = _data_route_table(stack_synthesis)
    assert not as_list(table.inputs.get("routes")), (
        f"{table.name}: the isolated route table holds only the local and S3 endpoint routes (164.312(e)(1))"
    )


def test_every_data_subnet_uses_the_isolated_route_table(stack_synthesis: Synthesis) -> None:
    table = _data_route_table(stack_synthesis)
    associations = [a for a in stack_synthesis.of_type(ASSOCIATION) if depends_on(a, table, "routeTableId")]
    for subnet in _in_vpc(stack_synthesis, SUBNET):
        linked = [a for a in associations if depends_on(a, subnet, "subnetId")]
        assert linked, f"{subnet.name}: must be associated with the isolated route table (164.312(e)(1))"


def test_main_route_table_is_managed_without_routes(stack_synthesis: Synthesis) -> None:
    vpc = _vpc(stack_synthesis)
    mains = [
        t for t in stack_synthesis.of_type(DEFAULT_ROUTE_TABLE) if depends_on(t, vpc, "defaultRouteTableId")
    ]
    assert len(mains) == 1 and mains[0].inputs.get("routes") == [], (
        f"{vpc.name}: the main route table must be managed with no routes (164.312(e)(1))"
    )


# --- Security groups: 164.312(a)(1) -------------------------------------------------------------


def test_default_security_group_has_no_rules(stack_synthesis: Synthesis) -> None:
    vpc = _vpc(stack_synthesis)
    defaults = [g for g in stack_synthesis.of_type(DEFAULT_SG) if depends_on(g, vpc, "vpcId")]
    assert len(defaults) == 1, f"{vpc.name}: its default security group must be managed (164.312(a)(1))"
    group = defaults[0]
    assert group.inputs.get("ingress") == [] and group.inputs.get("egress") == [], (
        f"{group.name}: the default security group must have no rules (164.312(a)(1))"
    )


def test_no_security_group_allows_world_ingress(stack_synthesis: Synthesis) -> None:
    groups = [
        r
        for r in stack_synthesis.resources
        if r.type in (SECURITY_GROUP, DEFAULT_SG, SG_RULE, SG_INGRESS_RULE)
    ]
    assert groups, f"{stack_synthesis.spa}: no security groups synthesized (164.312(a)(1))"
    for record in groups:
        open_to = set(_ingress_sources(record)) & WORLD
        assert not open_to, f"{record.name}: ingress open to {sorted(open_to)} (164.312(a)(1))"


def test_endpoint_security_group_allows_only_https_from_the_vpc(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis)
    group = stack_synthesis.one(SECURITY_GROUP, "network-endpoints-sg")
    ingress = as_list(group.inputs.get("ingress"))
    assert ingress, f"{group.name}: endpoints need HTTPS ingress from the VPC (164.312(e)(1))"
    for rule in ingress:
        assert (rule.get("protocol"), rule.get("fromPort"), rule.get("toPort")) == ("tcp", 443, 443), (
            f"{group.name}: endpoint ingress must be TCP 443 only (164.312(e)(1))"
        )
        assert rule.get("cidrBlocks") == [config.vpc_cidr] and not rule.get("ipv6CidrBlocks"), (
            f"{group.name}: endpoint ingress must come from the VPC CIDR only (164.312(a)(1))"
        )
    assert group.inputs.get("egress") == [], f"{group.name}: endpoints need no egress (164.312(a)(1))"


def test_app_security_group_has_no_ingress(stack_synthesis: Synthesis) -> None:
    group = stack_synthesis.one(SECURITY_GROUP, "network-app-sg")
    assert group.inputs.get("ingress") == [], (
        f"{group.name}: the app tier must accept no inbound traffic by default (164.312(a)(1))"
    )


def test_app_security_group_egress_stays_inside_aws(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis)
    group = stack_synthesis.one(SECURITY_GROUP, "network-app-sg")
    s3 = _endpoints(stack_synthesis, "Gateway")[0]
    allowed_ports = {443, db_port(config.db_engine.value)}
    egress = as_list(group.inputs.get("egress"))
    assert egress, f"{group.name}: the app tier needs egress to endpoints and the database (164.312(e)(1))"
    for rule in egress:
        assert rule.get("protocol") == "tcp" and rule.get("fromPort") == rule.get("toPort"), (
            f"{group.name}: egress must name one TCP port per rule (164.312(a)(1))"
        )
        assert rule.get("fromPort") in allowed_ports, (
            f"{group.name}: egress port {rule.get('fromPort')} is neither HTTPS nor the database (164.312(a)(1))"
        )
        cidrs = as_list(rule.get("cidrBlocks"))
        assert not rule.get("ipv6CidrBlocks") and cidrs in ([], [config.vpc_cidr]), (
            f"{group.name}: egress to {cidrs} leaves the VPC (164.312(e)(1))"
        )
        if not cidrs:
            assert rule.get("prefixListIds") and depends_on(group, s3, "egress"), (
                f"{group.name}: non-CIDR egress must target the S3 gateway endpoint's prefix list (164.312(e)(1))"
            )


# --- Endpoints: 164.312(e)(1) -------------------------------------------------------------------


def test_s3_gateway_endpoint_is_on_the_data_route_table(stack_synthesis: Synthesis) -> None:
    table = _data_route_table(stack_synthesis)
    gateways = [
        e for e in _endpoints(stack_synthesis, "Gateway") if str(e.inputs["serviceName"]).endswith(".s3")
    ]
    assert len(gateways) == 1, (
        f"network: one S3 gateway endpoint expected, found {len(gateways)} (164.312(e)(1))"
    )
    assert depends_on(gateways[0], table, "routeTableIds"), (
        f"{gateways[0].name}: S3 gateway endpoint must be attached to the data route table (164.312(e)(1))"
    )


@pytest.mark.parametrize("service", INTERFACE_ENDPOINT_SERVICES)
def test_interface_endpoint_is_present_and_private(stack_synthesis: Synthesis, service: str) -> None:
    config = _config(stack_synthesis)
    if config.skip_interface_endpoints:
        pytest.skip(f"{stack_synthesis.spa} sets skipInterfaceEndpoints (tested separately)")
    wanted = f"com.amazonaws.{config.region}.{service}"
    found = [e for e in _endpoints(stack_synthesis, "Interface") if e.inputs.get("serviceName") == wanted]
    assert len(found) == 1, f"network: interface endpoint {wanted} missing (164.312(e)(1))"
    endpoint = found[0]
    assert endpoint.inputs.get("privateDnsEnabled") is True, (
        f"{endpoint.name}: private DNS must be on so SDK calls stay in the VPC (164.312(e)(1))"
    )
    subnets = _in_vpc(stack_synthesis, SUBNET)
    assert all(depends_on(endpoint, s, "subnetIds") for s in subnets), (
        f"{endpoint.name}: endpoint must sit in every data subnet (164.312(e)(1))"
    )
    sg = stack_synthesis.one(SECURITY_GROUP, "network-endpoints-sg")
    assert depends_on(endpoint, sg, "securityGroupIds"), (
        f"{endpoint.name}: endpoint must use the HTTPS-from-VPC security group (164.312(a)(1))"
    )


def test_every_endpoint_policy_is_limited_to_this_account(stack_synthesis: Synthesis) -> None:
    endpoints = stack_synthesis.of_type(ENDPOINT)
    assert endpoints, f"{stack_synthesis.spa}: no VPC endpoints synthesized (164.312(e)(1))"
    for endpoint in endpoints:
        document = policy_document(endpoint.inputs.get("policy"))
        allows = [s for s in statements(document) if s.get("Effect") == "Allow"]
        assert allows, f"{endpoint.name}: endpoint needs an explicit policy (164.312(a)(1))"
        for statement in allows:
            equals = statement.get("Condition", {}).get("StringEquals", {})
            assert equals.get("aws:PrincipalAccount") == MOCK_ACCOUNT_ID, (
                f"{endpoint.name}: endpoint policy must limit principals to this account (164.312(a)(1))"
            )


def test_s3_endpoint_reaches_only_this_accounts_buckets(stack_synthesis: Synthesis) -> None:
    s3 = _endpoints(stack_synthesis, "Gateway")[0]
    for statement in statements(policy_document(s3.inputs.get("policy"))):
        equals = statement.get("Condition", {}).get("StringEquals", {})
        assert equals.get("aws:ResourceAccount") == MOCK_ACCOUNT_ID, (
            f"{s3.name}: S3 endpoint must not reach other accounts' buckets (164.312(e)(1))"
        )


# --- Flow logs: 164.312(b) ----------------------------------------------------------------------


def _flow_log(synthesis: Synthesis) -> ResourceRecord:
    vpc = _vpc(synthesis)
    logs = [f for f in synthesis.of_type(FLOW_LOG) if depends_on(f, vpc, "vpcId")]
    assert len(logs) == 1, f"{vpc.name}: VPC must have a flow log (164.312(b))"
    return logs[0]


def _flow_log_group(synthesis: Synthesis) -> ResourceRecord:
    flow_log = _flow_log(synthesis)
    groups = [g for g in synthesis.of_type(LOG_GROUP) if depends_on(flow_log, g, "logDestination")]
    assert len(groups) == 1, f"{flow_log.name}: flow log must deliver to a CloudWatch log group (164.312(b))"
    return groups[0]


def test_flow_log_captures_all_traffic(stack_synthesis: Synthesis) -> None:
    flow_log = _flow_log(stack_synthesis)
    assert flow_log.inputs.get("trafficType") == "ALL", (
        f"{flow_log.name}: flow log must capture ALL traffic, accepted and rejected (164.312(b))"
    )
    assert flow_log.inputs.get("logDestinationType") == "cloud-watch-logs", (
        f"{flow_log.name}: flow log must go to the encrypted CloudWatch log group (164.312(b))"
    )


def test_flow_log_group_is_encrypted_with_the_logs_key(stack_synthesis: Synthesis) -> None:
    group = _flow_log_group(stack_synthesis)
    logs_key = stack_synthesis.one(KEY, "keys-logs")
    assert depends_on(group, logs_key, "kmsKeyId"), (
        f"{group.name}: flow log group must be encrypted with the logs CMK (164.312(b), 164.312(a)(2)(iv))"
    )


def test_flow_log_group_keeps_a_year_or_more(stack_synthesis: Synthesis) -> None:
    group = _flow_log_group(stack_synthesis)
    retention = group.inputs.get("retentionInDays")
    assert isinstance(retention, int) and retention >= LOG_RETENTION_FLOOR_DAYS, (
        f"{group.name}: flow log retention {retention} is below {LOG_RETENTION_FLOOR_DAYS} days (164.312(b))"
    )
    assert retention == _config(stack_synthesis).log_retention_days, (
        f"{group.name}: flow log retention must follow medspa:logRetentionDays (164.312(b))"
    )


def test_flow_log_group_is_protected_from_deletion(stack_synthesis: Synthesis) -> None:
    group = _flow_log_group(stack_synthesis)
    assert group.protect and group.retain_on_delete, (
        f"{group.name}: flow log group must be protected and retained on delete (164.312(b), 164.316(b)(2)(i))"
    )


def test_flow_log_role_trusts_only_flow_logs_for_this_account(stack_synthesis: Synthesis) -> None:
    flow_log = _flow_log(stack_synthesis)
    roles = [r for r in stack_synthesis.of_type(ROLE) if depends_on(flow_log, r, "iamRoleArn")]
    assert len(roles) == 1, f"{flow_log.name}: flow log needs its own delivery role (164.312(b))"
    for statement in statements(policy_document(roles[0].inputs["assumeRolePolicy"])):
        assert statement.get("Principal") == {"Service": "vpc-flow-logs.amazonaws.com"}, (
            f"{roles[0].name}: only VPC Flow Logs may assume the delivery role (164.312(a)(1))"
        )
        source = statement.get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount")
        assert source == MOCK_ACCOUNT_ID, (
            f"{roles[0].name}: trust policy needs an aws:SourceAccount condition (164.312(a)(1))"
        )


def test_flow_log_role_writes_only_its_log_group(stack_synthesis: Synthesis) -> None:
    flow_log = _flow_log(stack_synthesis)
    role = next(r for r in stack_synthesis.of_type(ROLE) if depends_on(flow_log, r, "iamRoleArn"))
    policies = [p for p in stack_synthesis.of_type(ROLE_POLICY) if depends_on(p, role, "role")]
    assert policies, f"{role.name}: delivery role needs an inline policy (164.312(b))"
    for policy in policies:
        for statement in statements(policy_document(policy.inputs["policy"])):
            resources = as_list(statement.get("Resource"))
            assert "*" not in resources and resources, (
                f"{role.name}: statement {statement.get('Sid')} must name the flow log group, not '*' "
                "(164.308(a)(4), 164.312(a)(1))"
            )
            actions = as_list(statement.get("Action"))
            assert all(str(a).startswith("logs:") and "*" not in str(a) for a in actions), (
                f"{role.name}: delivery role may only write logs, got {actions} (164.312(a)(1))"
            )


# --- Opt-out: skipInterfaceEndpoints ------------------------------------------------------------


def _demo_values(**overrides: Any) -> dict[str, Any]:
    document = yaml.safe_load((paths.stacks_dir() / "Pulumi.demo.yaml").read_text(encoding="utf-8"))
    values = dict(document["config"])
    values.update(overrides)
    return values


@pytest.fixture(scope="module")
def without_interface_endpoints() -> Synthesis:
    config = from_mapping("nolink", _demo_values(**{"medspa:skipInterfaceEndpoints": True}))
    assert config.skip_interface_endpoints
    return synthesize(config)


def test_skipping_interface_endpoints_removes_only_them(without_interface_endpoints: Synthesis) -> None:
    synthesis = without_interface_endpoints
    assert not _endpoints(synthesis, "Interface"), (
        "network: skipInterfaceEndpoints=true must create no interface endpoints (documented opt-out)"
    )
    assert len(_endpoints(synthesis, "Gateway")) == 1, (
        "network-s3: the free S3 gateway endpoint stays when interface endpoints are skipped (164.312(e)(1))"
    )
    assert _flow_log(synthesis).inputs.get("trafficType") == "ALL", (
        "network-flow-log: flow logs stay on when interface endpoints are skipped (164.312(b))"
    )
    test_no_internet_or_nat_gateway(synthesis)
    test_default_security_group_has_no_rules(synthesis)


# --- Negative controls: the invariants above catch a weakened network ----------------------------


def _weakened(mutate: Any) -> Synthesis:
    synthesis = copy.deepcopy(synth_stack("demo"))
    mutate(synthesis)
    return synthesis


def test_world_open_ingress_is_caught() -> None:
    def open_app(synthesis: Synthesis) -> None:
        group = synthesis.one(SECURITY_GROUP, "network-app-sg")
        group.inputs["ingress"] = [
            {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}
        ]

    with pytest.raises(AssertionError, match="ingress open"):
        test_no_security_group_allows_world_ingress(_weakened(open_app))


def test_public_subnet_is_caught() -> None:
    def public(synthesis: Synthesis) -> None:
        synthesis.of_type(SUBNET)[0].inputs["mapPublicIpOnLaunch"] = True

    with pytest.raises(AssertionError, match="public IPs"):
        test_no_subnet_maps_public_ips(_weakened(public))


def test_unconditioned_endpoint_policy_is_caught() -> None:
    def open_endpoint(synthesis: Synthesis) -> None:
        endpoint = synthesis.of_type(ENDPOINT)[0]
        endpoint.inputs["policy"] = (
            '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}'
        )

    with pytest.raises(AssertionError, match="this account"):
        test_every_endpoint_policy_is_limited_to_this_account(_weakened(open_endpoint))


def test_accepted_only_flow_log_is_caught() -> None:
    def accept_only(synthesis: Synthesis) -> None:
        synthesis.of_type(FLOW_LOG)[0].inputs["trafficType"] = "ACCEPT"

    with pytest.raises(AssertionError, match="ALL traffic"):
        test_flow_log_captures_all_traffic(_weakened(accept_only))
