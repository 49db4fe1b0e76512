"""Offline synthesis: run the real Pulumi program under the SDK's mocks and record every resource.

No Pulumi CLI, no provider plugin and no cloud are needed, so CI and a new user can see (and check)
exactly what `pulumi up` would create. The recorder keeps what the mocks API drops: parent, protect,
retainOnDelete and the dependencies of each input property.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from infra.config import SpaConfig, to_pulumi_config

MOCK_ACCOUNT_ID = "123456789012"
SECRET_MASK = "[secret]"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass
class ResourceRecord:
    """One registered resource as the engine would have seen it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    protect: bool
    retain_on_delete: bool
    provider: str
    inputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "provider": self.provider,
            "inputs": self.inputs,
            "dependencies": self.dependencies,
            "propertyDependencies": self.property_dependencies,
        }


@dataclass
class Synthesis:
    """What one offline run of the program registered, in registration order."""

    spa: str
    resources: list[ResourceRecord]

    def custom(self) -> list[ResourceRecord]:
        return [r for r in self.resources if r.custom and not r.type.startswith("pulumi:providers:")]

    def of_type(self, type_token: str) -> list[ResourceRecord]:
        return [r for r in self.resources if r.type == type_token]

    def by_urn(self) -> dict[str, ResourceRecord]:
        return {r.urn: r for r in self.resources}

    def one(self, type_token: str, name: str) -> ResourceRecord:
        matches = [r for r in self.of_type(type_token) if r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_token} named {name!r}, found {len(matches)}")
        return matches[0]


def plain_value(value: Any) -> Any:
    """Turn the engine's wire form into plain JSON: secrets masked, resource references as URNs."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SECRET_SIG:
            return SECRET_MASK
        if sig == _RESOURCE_SIG:
            return value.get("urn", "")
        if sig == _OUTPUT_SIG:
            if value.get("secret"):
                return SECRET_MASK
            return plain_value(value.get("value"))
        if sig is not None:
            return value
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    if value == _UNKNOWN:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _arn_for(type_token: str, name: str, region: str) -> str:
    package, module_path, kind = [*type_token.split(":"), "", ""][:3]
    service = module_path.split("/")[0] if module_path else package
    return f"arn:aws:{service}:{region}:{MOCK_ACCOUNT_ID}:{kind.lower()}/{name}"


def _mock_outputs(
    type_token: str, name: str, inputs: dict[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    """Plausible computed outputs, so later resources can reference ids, ARNs and names."""
    physical = inputs.get("name") or inputs.get("bucket") or inputs.get("identifier") or f"{name}"
    resource_id = str(physical) if isinstance(physical, str) else name
    outputs: dict[str, Any] = dict(inputs)
    outputs.setdefault("arn", _arn_for(type_token, resource_id, region))
    outputs.setdefault("name", resource_id)
    if type_token == "aws:kms/key:Key":
        resource_id = f"mrk-{abs(hash(name)) % 10**12:012d}"
        outputs["keyId"] = resource_id
        outputs["arn"] = f"arn:aws:kms:{region}:{MOCK_ACCOUNT_ID}:key/{resource_id}"
    if type_token == "aws:s3/bucket:Bucket":
        outputs.setdefault("bucket", resource_id)
        outputs.setdefault("arn", f"arn:aws:s3:::{resource_id}")
        outputs["arn"] = f"arn:aws:s3:::{outputs['bucket']}"
    if type_token == "aws:ec2/vpc:Vpc":
        outputs.setdefault("defaultSecurityGroupId", f"sg-default-{name}")
        outputs.setdefault("defaultNetworkAclId", f"acl-default-{name}")
        outputs.setdefault("defaultRouteTableId", f"rtb-default-{name}")
    if type_token in ("aws:iam/role:Role", "aws:iam/policy:Policy"):  # IAM ARNs are global: no region
        outputs["arn"] = (
            f"arn:aws:iam::{MOCK_ACCOUNT_ID}:{type_token.rsplit(':', 1)[1].lower()}/{resource_id}"
        )
    if type_token == "aws:cloudwatch/logGroup:LogGroup":
        outputs["arn"] = f"arn:aws:logs:{region}:{MOCK_ACCOUNT_ID}:log-group:{resource_id}"
    if type_token == "aws:ec2/vpcEndpoint:VpcEndpoint" and inputs.get("vpcEndpointType") == "Gateway":
        outputs.setdefault("prefixListId", f"pl-{name}")
    if type_token == "aws:rds/instance:Instance":
        outputs.setdefault("endpoint", f"{resource_id}.mock.{region}.rds.amazonaws.com:5432")
        outputs.setdefault("masterUserSecrets", [{"secretArn": _arn_for("aws:secretsmanager", name, region)}])
    return resource_id, outputs


def synthesize(config: SpaConfig) -> Synthesis:
    """Run the program for one validated config and return every registered resource."""
    context = contextvars.copy_context()
    return context.run(_synthesize_in_context, config)


def _synthesize_in_context(config: SpaConfig) -> Synthesis:
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime import settings as pulumi_settings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    records: list[ResourceRecord] = []
    region = config.region

    class RecordingMocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            inputs = {k: plain_value(v) for k, v in (args.inputs or {}).items()}
            return _mock_outputs(args.typ, args.name, inputs, str(inputs.get("region") or region))

        def call(
            self, args: pulumi.runtime.MockCallArgs
        ) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
            return _mock_call(args.token, dict(args.args or {}), region), []

    class RecordingMonitor(pulumi_mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:
            response = super().RegisterResource(request)
            if request.type == "pulumi:pulumi:Stack":
                return response
            raw = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
            records.append(
                ResourceRecord(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    parent=request.parent,
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    provider=request.provider,
                    inputs={k: plain_value(v) for k, v in raw.items()},
                    dependencies=list(request.dependencies),
                    property_dependencies={
                        k: list(v.urns) for k, v in request.propertyDependencies.items() if list(v.urns)
                    },
                    id=response.id,
                )
            )
            return response

    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_all_config(to_pulumi_config(config), [])
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(
        mocks, project="medspa", stack=config.spa, preview=False, monitor=RecordingMonitor(mocks)
    )

    from infra.program import build

    def program() -> None:
        build(config)

    _sync_await(run_pulumi_func(program))
    return Synthesis(spa=config.spa, resources=records)


def _mock_call(token: str, args: dict[str, Any], region: str) -> dict[str, Any]:
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "accountId": MOCK_ACCOUNT_ID,
            "arn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:user/synth",
            "userId": "AIDASYNTH",
            "id": MOCK_ACCOUNT_ID,
        }
    if token == "aws:index/getRegion:getRegion":
        return {"name": region, "region": region, "id": region}
    if token == "aws:index/getPartition:getPartition":
        return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        target = args.get("region") or region
        return {"names": [f"{target}a", f"{target}b", f"{target}c"], "zoneIds": ["z1", "z2", "z3"]}
    return {}
