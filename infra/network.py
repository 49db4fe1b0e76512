"""The spa's private network: isolated data subnets that never reach the internet, with PHI traffic on AWS.

164.312(e)(1) transmission security: no internet or NAT gateway, no public IPs, AWS API traffic through
VPC endpoints limited to this account. 164.312(a)(1) access control: the default security group is
emptied and every security group is closed to the world. 164.312(b) audit controls: flow logs of ALL
traffic to a log group encrypted with the logs key.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.context import DataClassification, SpaContext

AZ_COUNT = 2  # a standby in a second AZ (164.308(a)(7)(ii)(B)) without paying for a third
HTTPS_PORT = 443
DB_PORTS = {"postgres": 5432, "mysql": 3306, "mariadb": 3306}

# Interface endpoints so that nothing in the isolated subnets needs a route to the internet:
# KMS (encryption), CloudWatch Logs, STS (IAM auth tokens), Session Manager (ssm, ssmmessages,
# ec2messages) and Secrets Manager (the database's managed master password).
INTERFACE_ENDPOINT_SERVICES: tuple[str, ...] = (
    "kms",
    "logs",
    "sts",
    "ssm",
    "ssmmessages",
    "ec2messages",
    "secretsmanager",
)

# Services whose every resource reached from this VPC is one of the account's own: the endpoint policy
# also requires aws:ResourceAccount, so stolen credentials cannot copy PHI into another account's store.
# (STS and the Session Manager channels act on AWS-owned or resource-less APIs, so only the calling
# principal is pinned to the account there.)
RESOURCE_ACCOUNT_SERVICES = frozenset({"s3", "kms", "logs", "secretsmanager"})


def endpoint_policy(account_id: str, service: str) -> str:
    """Only this account's principals may use the endpoint (and, where it applies, only on its resources)."""
    condition: dict[str, dict[str, str]] = {"StringEquals": {"aws:PrincipalAccount": account_id}}
    if service in RESOURCE_ACCOUNT_SERVICES:
        condition["StringEquals"]["aws:ResourceAccount"] = account_id
    statement = {
        "Sid": "OnlyThisAccount",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": condition,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def flow_log_trust_policy(partition: str, account_id: str, region: str) -> str:
    """Only the VPC Flow Logs service, acting for this account's flow logs, may assume the role."""
    statement = {
        "Sid": "VpcFlowLogsForThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:ec2:{region}:{account_id}:vpc-flow-log/*"},
        },
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def flow_log_delivery_policy(log_group_arn: str) -> str:
    """Write to the one flow-log group and nothing else (least privilege, 164.308(a)(4))."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteFlowLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"],
        },
        {
            # A list call: it authorizes against the region's log-group namespace, not one group.
            "Sid": "FindTheFlowLogGroup",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            "Resource": f"{log_group_arn.split(':log-group:')[0]}:log-group:*",
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def data_subnet_cidrs(vpc_cidr: str, count: int = AZ_COUNT) -> list[str]:
    """The first quarters of the VPC, one per AZ; the rest stays free for an application tier."""
    network = ipaddress.ip_network(vpc_cidr, strict=True)
    quarters = list(network.subnets(prefixlen_diff=2))
    return [str(q) for q in quarters[:count]]


def pick_zone(names: list[str] | None, index: int, region: str) -> str:
    """The index-th zone the account offers without opting in (names differ per account; Tokyo has no 1b).

    An empty answer only comes from a bare test double, never from AWS; the conventional first zones
    keep such programs running, and AWS itself refuses a zone that does not exist.
    """
    if names and len(names) >= AZ_COUNT:
        return names[index]
    if names:
        raise ValueError(
            f"{region} offers only {len(names)} availability zone(s); the network needs {AZ_COUNT}"
        )
    return f"{region}{'ab'[index]}"


def _zone_output(names: pulumi.Output[list[str]], index: int, region: str) -> pulumi.Output[str]:
    return names.apply(lambda found: pick_zone(found, index, region))


def db_port(engine: str) -> int:
    """The engine's default port, the only database port the app tier may reach."""
    return DB_PORTS[engine]


def _endpoint_policy_output(account: pulumi.Output[str], service: str) -> pulumi.Output[str]:
    return account.apply(lambda acct: endpoint_policy(acct, service))


def _account_output(ctx: SpaContext) -> pulumi.Output[str]:
    return pulumi.Output.from_input(ctx.account_id)


@dataclass(frozen=True)
class NetworkArgs:
    """What the network needs from config and from the keys component.

    `skip_interface_endpoints` weakens transmission security (164.312(e)(1)): without the KMS, Logs,
    STS, SSM and Secrets Manager endpoints, AWS API calls from the isolated subnets fail (there is no
    route out) instead of staying on the AWS network. Set it only when nothing in the VPC calls AWS APIs.
    """

    vpc_cidr: str
    region: str
    flow_log_key_arn: pulumi.Input[str]
    flow_log_retention_days: int
    db_port: int = 5432
    skip_interface_endpoints: bool = False


class Network(pulumi.ComponentResource):
    """A VPC over two AZs with isolated data subnets, VPC endpoints and flow logs of ALL traffic."""

    vpc: aws.ec2.Vpc
    data_subnets: list[aws.ec2.Subnet]
    data_route_table: aws.ec2.RouteTable
    s3_endpoint: aws.ec2.VpcEndpoint
    interface_endpoints: dict[str, aws.ec2.VpcEndpoint]
    endpoint_security_group: aws.ec2.SecurityGroup
    app_security_group: aws.ec2.SecurityGroup
    flow_log_group: aws.cloudwatch.LogGroup
    flow_log_role: aws.iam.Role
    flow_log: aws.ec2.FlowLog
    default_security_group: aws.ec2.DefaultSecurityGroup

    def __init__(
        self, name: str, args: NetworkArgs, ctx: SpaContext, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medspa:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = _account_output(ctx)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_support=True,  # private DNS of the interface endpoints needs both
            enable_dns_hostnames=True,
            assign_generated_ipv6_cidr_block=False,
            instance_tenancy="default",
            tags=ctx.tags(DataClassification.INTERNAL, Name=ctx.name("vpc")),
            opts=child,
        )

        # The default security group is attached to anything launched without one: keep it empty
        # so a forgotten choice denies rather than allows (164.312(a)(1)).
        self.default_security_group = aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags=ctx.tags(DataClassification.INTERNAL, Name=ctx.name("default-sg-unused")),
            opts=child,
        )
        # The main route table keeps only the local route, so a subnet added later without an
        # explicit association still has no way out (164.312(e)(1)).
        aws.ec2.DefaultRouteTable(
            f"{name}-main-routes",
            default_route_table_id=self.vpc.default_route_table_id,
            routes=[],
            tags=ctx.tags(DataClassification.INTERNAL, Name=ctx.name("main-routes-local-only")),
            opts=child,
        )

        zones = aws.get_availability_zones_output(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        self.data_route_table = aws.ec2.RouteTable(
            f"{name}-data-routes",
            vpc_id=self.vpc.id,
            tags=ctx.tags(DataClassification.INTERNAL, Name=ctx.name("data-isolated")),
            opts=child,
        )
        self.data_subnets = []
        for index, cidr in enumerate(data_subnet_cidrs(args.vpc_cidr)):
            letter = "ab"[index]
            subnet = aws.ec2.Subnet(
                f"{name}-data-{letter}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=_zone_output(zones.names, index, args.region),
                map_public_ip_on_launch=False,
                assign_ipv6_address_on_creation=False,
                tags=ctx.tags(
                    DataClassification.INTERNAL, Name=ctx.name(f"data-{letter}"), Tier="data-isolated"
                ),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-data-{letter}-routes",
                subnet_id=subnet.id,
                route_table_id=self.data_route_table.id,
                opts=child,
            )
            self.data_subnets.append(subnet)

        # S3 through a gateway endpoint on the isolated route table: PHI objects never cross the
        # internet, and only this account's principals and buckets are reachable (164.312(e)(1)).
        self.s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[self.data_route_table.id],
            policy=_endpoint_policy_output(account, "s3"),
            tags=ctx.tags(DataClassification.INTERNAL, Name=ctx.name("s3-gateway")),
            opts=child,
        )

        self.endpoint_security_group = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            name=ctx.name("vpc-endpoints"),
            description="HTTPS from inside the VPC to the AWS service endpoints only",
            vpc_id=self.vpc.id,
            ingress=[
                {
                    "description": "HTTPS to AWS APIs from inside the VPC",
                    "protocol": "tcp",
                    "from_port": HTTPS_PORT,
                    "to_port": HTTPS_PORT,
                    "cidr_blocks": [args.vpc_cidr],
                }
            ],
            egress=[],
            revoke_rules_on_delete=True,
            tags=ctx.tags(DataClassification.INTERNAL, Name=ctx.name("vpc-endpoints")),
            opts=child,
        )

        self.interface_endpoints = {}
        if not args.skip_interface_endpoints:
            for service in INTERFACE_ENDPOINT_SERVICES:
                self.interface_endpoints[service] = aws.ec2.VpcEndpoint(
                    f"{name}-{service}",
                    vpc_id=self.vpc.id,
                    service_name=f"com.amazonaws.{args.region}.{service}",
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=[s.id for s in self.data_subnets],
                    security_group_ids=[self.endpoint_security_group.id],
                    policy=_endpoint_policy_output(account, service),
                    tags=ctx.tags(DataClassification.INTERNAL, Name=ctx.name(f"{service}-endpoint")),
                    opts=child,
                )

        # The application tier: nothing may connect in by default; out only to the AWS endpoints,
        # S3 through its gateway and the database, all inside AWS (164.312(a)(1), 164.312(e)(1)).
        self.app_security_group = aws.ec2.SecurityGroup(
            f"{name}-app-sg",
            name=ctx.name("app"),
            description="Spa application tier: no ingress; egress only to AWS endpoints, S3 and the database",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[
                {
                    "description": "HTTPS to the VPC endpoints",
                    "protocol": "tcp",
                    "from_port": HTTPS_PORT,
                    "to_port": HTTPS_PORT,
                    "cidr_blocks": [args.vpc_cidr],
                },
                {
                    "description": "HTTPS to S3 through the gateway endpoint",
                    "protocol": "tcp",
                    "from_port": HTTPS_PORT,
                    "to_port": HTTPS_PORT,
                    "prefix_list_ids": [self.s3_endpoint.prefix_list_id],
                },
                {
                    "description": "Database inside the VPC",
                    "protocol": "tcp",
                    "from_port": args.db_port,
                    "to_port": args.db_port,
                    "cidr_blocks": [args.vpc_cidr],
                },
            ],
            revoke_rules_on_delete=True,
            tags=ctx.tags(DataClassification.INTERNAL, Name=ctx.name("app")),
            opts=child,
        )

        # Flow logs of ALL traffic (accepted and rejected) into a log group under the logs key,
        # kept for the configured retention and never deleted by accident (164.312(b)).
        self.flow_log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/medspa/{ctx.spa}/vpc-flow-logs",
            kms_key_id=args.flow_log_key_arn,
            retention_in_days=args.flow_log_retention_days,
            tags=ctx.tags(DataClassification.AUDIT),
            opts=ctx.keep(pulumi.ResourceOptions(parent=self)),
        )
        self.flow_log_role = aws.iam.Role(
            f"{name}-flow-logs-role",
            name=ctx.name("vpc-flow-logs"),
            description="Lets VPC Flow Logs write this spa's flow logs, and nothing else",
            assume_role_policy=account.apply(
                lambda acct: flow_log_trust_policy(ctx.partition, acct, args.region)
            ),
            tags=ctx.tags(DataClassification.AUDIT),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-delivery",
            name="deliver-flow-logs",
            role=self.flow_log_role.id,
            policy=self.flow_log_group.arn.apply(flow_log_delivery_policy),
            opts=child,
        )
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=self.flow_log_role.arn,
            max_aggregation_interval=60,
            tags=ctx.tags(DataClassification.AUDIT, Name=ctx.name("vpc-flow-log")),
            opts=child,
        )

        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "dataSubnetIds": [s.id for s in self.data_subnets],
                "appSecurityGroupId": self.app_security_group.id,
                "flowLogGroupArn": self.flow_log_group.arn,
            }
        )
