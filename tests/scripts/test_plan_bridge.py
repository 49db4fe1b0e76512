"""The plan bridge: Pulumi records -> a Terraform-plan JSON that checkov reads like a real plan.

If the bridge drops a resource, misnames an attribute or loses a reference, checkov silently checks
less than will be deployed, so every HIPAA claim the gate makes (164.312(a)(2)(iv), 164.312(b),
164.308(a)(7)...) rests on these tests.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts import paths
from scripts.errors import BadInput
from scripts.plan_bridge import (
    MAP_ATTRIBUTES,
    PROVIDER_NAME,
    RENAMES,
    TYPE_MAP,
    EmptyPlan,
    UnknownResourceType,
    attribute_name,
    snake_case,
    terraform_name,
    to_plan,
)
from scripts.synth import ResourceRecord, Synthesis
from tests.conftest import synth_stack

CHECKOV = paths.REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _resources(child)


def plan_resources(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return list(_resources(plan["planned_values"]["root_module"]))


def _config_resources(module: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for resource in module.get("resources", []):
        yield (f"{prefix}{resource['address']}", resource)
    for name, call in module.get("module_calls", {}).items():
        yield from _config_resources(call["module"], f"{prefix}module.{name}.")


def config_resources(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """configuration resources by their full address (module calls prefixed as Terraform does)."""
    return dict(_config_resources(plan["configuration"]["root_module"]))


def by_name(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Plan resources by their Pulumi logical name."""
    return {r["values"]["pulumi_name"]: r for r in plan_resources(plan)}


def bridged(synthesis: Synthesis) -> dict[str, Any]:
    return to_plan(synthesis.resources, spa=synthesis.spa)


def record(
    name: str,
    type_token: str = "aws:s3/bucket:Bucket",
    *,
    inputs: dict[str, Any] | None = None,
    parent: str = "",
    custom: bool = True,
    deps: dict[str, list[str]] | None = None,
    resource_id: str = "",
) -> ResourceRecord:
    """A hand-made record, as synth or the Pulumi readers would produce it."""
    return ResourceRecord(
        urn=f"urn:pulumi:unit::medspa::{type_token}::{name}",
        type=type_token,
        name=name,
        custom=custom,
        parent=parent,
        protect=False,
        retain_on_delete=False,
        provider="",
        inputs=inputs or {},
        property_dependencies=deps or {},
        id=resource_id or name,
    )


def demo_plan() -> dict[str, Any]:
    return bridged(synth_stack("demo"))


# ------------------------------------------------------------------------------------------- types


def test_type_map_covers_every_resource_type_of_every_stack(stack_synthesis: Synthesis) -> None:
    unmapped = sorted(
        {
            r.type
            for r in stack_synthesis.resources
            if r.custom and not r.type.startswith("pulumi:providers:") and r.type not in TYPE_MAP
        }
    )
    assert not unmapped, (
        f"{stack_synthesis.spa}: pulumi types without a Terraform type in TYPE_MAP: {unmapped}; "
        "checkov would never check them (164.308(a)(1)(ii)(B))"
    )


def _registered_token(token: str) -> str:
    """The token that pulumi-aws registers for the class a TYPE_MAP key names."""
    module_path, class_name = token.split(":")[1].split("/")[0], token.split(":")[2]
    module = None
    for candidate in (module_path, f"{module_path}_"):
        try:
            module = importlib.import_module(f"pulumi_aws.{candidate}")
            break
        except ImportError:
            continue
    assert module is not None, f"{token}: no pulumi_aws.{module_path} module"
    cls = getattr(module, class_name, None)
    assert cls is not None, f"{token}: pulumi_aws.{module_path} has no class {class_name}"
    source = Path(inspect.getfile(cls)).read_text()
    found = re.search(rf"super\({class_name}, __self__\)\.__init__\(\s*'([^']+)'", source)
    assert found, f"{token}: cannot find the registered token of {class_name}"
    return found.group(1)


def test_every_type_map_key_is_a_token_pulumi_aws_registers() -> None:
    registered = {token: _registered_token(token) for token in TYPE_MAP}
    wrong = {token: real for token, real in registered.items() if real != token}
    assert not wrong, f"TYPE_MAP keys that pulumi-aws does not register (key: real token): {wrong}"


def test_every_terraform_type_is_an_aws_resource_name() -> None:
    bad = {k: v for k, v in TYPE_MAP.items() if not re.fullmatch(r"aws_[a-z0-9_]+", v)}
    assert not bad, f"Terraform types must look like aws_<name>: {bad}"


@pytest.mark.parametrize(
    ("token", "terraform"),
    [
        ("aws:rds/instance:Instance", "aws_db_instance"),
        ("aws:cloudtrail/trail:Trail", "aws_cloudtrail"),
        ("aws:cfg/recorder:Recorder", "aws_config_configuration_recorder"),
        ("aws:cloudwatch/eventRule:EventRule", "aws_cloudwatch_event_rule"),
        ("aws:ec2/managedPrefixList:ManagedPrefixList", "aws_ec2_managed_prefix_list"),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws_vpc_security_group_ingress_rule"),
        ("aws:ec2/flowLog:FlowLog", "aws_flow_log"),
        ("aws:guardduty/iPSet:IPSet", "aws_guardduty_ipset"),
    ],
)
def test_irregular_type_names(token: str, terraform: str) -> None:
    assert TYPE_MAP[token] == terraform, f"{token} must map to {terraform}"


def test_unknown_type_is_an_error_naming_the_token() -> None:
    records = [record("ok"), record("pw", "random:index/randomPassword:RandomPassword")]
    with pytest.raises(UnknownResourceType, match=re.escape("random:index/randomPassword:RandomPassword")):
        to_plan(records, spa="unit")
    assert issubclass(UnknownResourceType, BadInput), "an unknown type must exit 2 like any bad input"


def test_zero_resources_is_an_error() -> None:
    with pytest.raises(EmptyPlan, match="no resources"):
        to_plan([], spa="unit")
    assert issubclass(EmptyPlan, BadInput), "an empty plan must exit 2 like any bad input"


def test_components_and_providers_alone_are_an_empty_plan() -> None:
    records = [
        record("storage", "medspa:storage:PhiStorage", custom=False),
        record("dr", "pulumi:providers:aws"),
    ]
    with pytest.raises(EmptyPlan):
        to_plan(records, spa="unit")


def test_providers_are_not_plan_resources(stack_synthesis: Synthesis) -> None:
    plan = bridged(stack_synthesis)
    names = {r["values"]["pulumi_name"] for r in plan_resources(plan)}
    providers = {r.name for r in stack_synthesis.resources if r.type.startswith("pulumi:providers:")}
    assert not names & providers, f"{stack_synthesis.spa}: providers {names & providers} became resources"


def test_every_custom_resource_is_in_the_plan_once(stack_synthesis: Synthesis) -> None:
    plan = bridged(stack_synthesis)
    in_plan = sorted(r["values"]["pulumi_urn"] for r in plan_resources(plan))
    expected = sorted(r.urn for r in stack_synthesis.custom())
    assert in_plan == expected, (
        f"{stack_synthesis.spa}: the plan must hold every custom resource exactly once, or checkov "
        "checks less than is deployed (164.308(a)(1)(ii)(B))"
    )


# ------------------------------------------------------------------------------------------ naming


@pytest.mark.parametrize(
    ("pulumi", "terraform"),
    [
        ("ipv6CidrBlock", "ipv6_cidr_block"),
        ("s3BucketName", "s3_bucket_name"),
        ("kmsMasterKeyId", "kms_master_key_id"),
        ("cloudWatchLogsGroupArn", "cloud_watch_logs_group_arn"),
        ("enableDnsHostnames", "enable_dns_hostnames"),
        ("http2Enabled", "http2_enabled"),
        ("ec2SubnetId", "ec2_subnet_id"),
        ("bucket", "bucket"),
    ],
)
def test_property_names_are_snake_case_and_digit_aware(pulumi: str, terraform: str) -> None:
    assert snake_case(pulumi) == terraform


def test_terraform_names_replace_non_identifier_characters() -> None:
    assert terraform_name("storage-phi.documents") == "storage_phi_documents"
    assert terraform_name("1st-bucket") == "_1st_bucket"


def test_names_are_identifiers_and_addresses_unique(stack_synthesis: Synthesis) -> None:
    resources = plan_resources(bridged(stack_synthesis))
    addresses = [r["address"] for r in resources]
    assert len(addresses) == len(set(addresses)), f"{stack_synthesis.spa}: duplicate plan addresses"
    bad = [r["name"] for r in resources if not IDENTIFIER.match(r["name"])]
    assert not bad, f"{stack_synthesis.spa}: names that are not Terraform identifiers: {bad}"
    per_type = [(r["type"], r["name"]) for r in resources]
    assert len(per_type) == len(set(per_type)), (
        f"{stack_synthesis.spa}: a type+name pair repeats; checkov's flat plan graph would merge them"
    )


def test_colliding_sanitized_names_stay_distinct() -> None:
    plan = to_plan([record("a-b"), record("a_b"), record("a.b")], spa="unit")
    names = sorted(r["name"] for r in plan_resources(plan))
    assert names == ["a_b", "a_b_2", "a_b_3"]


@pytest.mark.parametrize(
    ("pulumi_name", "attribute", "absent"),
    [
        ("storage-access-logs-lifecycle", "rule", "rules"),
        ("storage-access-logs-encryption", "rule", "rules"),
        ("audit-trail", "event_selector", "event_selectors"),
        ("backups-plan", "rule", "rules"),
        ("database-params", "parameter", "parameters"),
        ("allowlist-ipv4", "entry", "entries"),
        ("backups-phi-selection", "selection_tag", "selection_tags"),
    ],
)
def test_pluralized_blocks_take_their_terraform_names(pulumi_name: str, attribute: str, absent: str) -> None:
    values = by_name(demo_plan())[pulumi_name]["values"]
    assert attribute in values and absent not in values, (
        f"{pulumi_name}: expected Terraform block {attribute!r}, not Pulumi's {absent!r}: {sorted(values)}"
    )
    assert isinstance(values[attribute], list) and all(isinstance(v, dict) for v in values[attribute])


def test_nested_renames_apply_inside_blocks() -> None:
    plan = by_name(demo_plan())
    lifecycle_rule = plan["storage-access-logs-lifecycle"]["values"]["rule"][0]
    assert "transition" in lifecycle_rule and "transitions" not in lifecycle_rule
    selector = plan["audit-trail"]["values"]["event_selector"][0]
    assert "data_resource" in selector and "data_resources" not in selector
    backup_rule = plan["backups-plan"]["values"]["rule"][0]
    assert "copy_action" in backup_rule and "copy_actions" not in backup_rule


def test_renames_and_maps_only_name_known_terraform_types() -> None:
    known = set(TYPE_MAP.values())
    assert set(RENAMES) <= known, f"RENAMES for unmapped types: {set(RENAMES) - known}"
    assert set(MAP_ATTRIBUTES) <= known, f"MAP_ATTRIBUTES for unmapped types: {set(MAP_ATTRIBUTES) - known}"


def test_single_nested_objects_become_one_element_block_lists() -> None:
    versioning = by_name(demo_plan())["storage-access-logs-versioning"]["values"]
    assert versioning["versioning_configuration"] == [{"status": "Enabled"}]


def test_maps_stay_dicts_with_their_keys_untouched(stack_synthesis: Synthesis) -> None:
    plan = by_name(bridged(stack_synthesis))
    for r in stack_synthesis.custom():
        tags = r.inputs.get("tags")
        if not tags:
            continue
        values = plan[r.name]["values"]
        assert values["tags"] == tags, f"{r.name}: tags must stay a dict with the same keys and values"


def test_map_attribute_keys_are_not_renamed() -> None:
    inputs = {"ruleName": "daily", "recoveryPointTags": {"BackupRule": "daily", "medspa:backup": "phi"}}
    plan = to_plan([record("plan", "aws:backup/plan:Plan", inputs={"rules": [inputs]})], spa="unit")
    rule = plan_resources(plan)[0]["values"]["rule"][0]
    assert rule["recovery_point_tags"] == {"BackupRule": "daily", "medspa:backup": "phi"}
    assert rule["rule_name"] == "daily"


def test_json_policy_strings_stay_strings(stack_synthesis: Synthesis) -> None:
    for resource in plan_resources(bridged(stack_synthesis)):
        for key in ("policy", "assume_role_policy"):
            value = resource["values"].get(key)
            if value is not None:
                assert isinstance(value, str), f"{resource['address']}: {key} must stay a JSON string"
                json.loads(value)


def test_policy_objects_become_json_strings() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    plan = to_plan([record("p", "aws:iam/policy:Policy", inputs={"policy": document})], spa="unit")
    assert json.loads(plan_resources(plan)[0]["values"]["policy"]) == document


def test_integral_floats_become_ints() -> None:
    inputs = {
        "deletionWindowInDays": 30.0,
        "ratio": 0.5,
        "rules": [{"expiration": {"days": 731.0}, "transitions": [{"days": 30.0}]}],
        "tags": {"Count": 2.0},
    }
    plan = to_plan(
        [record("b", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", inputs=inputs)],
        spa="u",
    )
    values = plan_resources(plan)[0]["values"]
    assert values["deletion_window_in_days"] == 30 and type(values["deletion_window_in_days"]) is int
    assert values["ratio"] == 0.5
    assert type(values["rule"][0]["expiration"][0]["days"]) is int
    assert type(values["rule"][0]["transition"][0]["days"]) is int
    assert type(values["tags"]["Count"]) is int


def test_secrets_are_masked_everywhere() -> None:
    inputs = {
        "password": {**SECRET_SIG, "ciphertext": "v1:c2VjcmV0LWNpcGhlcnRleHQ="},
        "masterUserSecret": {"secretString": {**SECRET_SIG, "plaintext": '"hunter2-plain"'}},
        "tags": {"Token": {**SECRET_SIG, "plaintext": '"tag-secret"'}},
        "list": [{**SECRET_SIG, "plaintext": '"in-a-list"'}],
    }
    plan = to_plan([record("db", "aws:rds/instance:Instance", inputs=inputs)], spa="unit")
    text = json.dumps(plan)
    for leaked in (
        "c2VjcmV0LWNpcGhlcnRleHQ=",
        "hunter2-plain",
        "tag-secret",
        "in-a-list",
        SECRET_SIG["4dabf18193072939515e22adb298388d"],
    ):
        assert leaked not in text, f"secret material {leaked!r} leaked into the plan (164.312(a)(2)(iv))"
    values = plan_resources(plan)[0]["values"]
    assert values["password"] == "[secret]"
    assert values["master_user_secret"] == [{"secret_string": "[secret]"}]
    assert values["tags"] == {"Token": "[secret]"}
    assert values["list"] == ["[secret]"]


# ------------------------------------------------------------------------------------ Pulumi facts


def test_every_resource_carries_protect_retain_urn_and_name(stack_synthesis: Synthesis) -> None:
    plan = bridged(stack_synthesis)
    records = {r.urn: r for r in stack_synthesis.custom()}
    for resource in plan_resources(plan):
        values = resource["values"]
        source = records[values["pulumi_urn"]]
        assert values["pulumi_protect"] is source.protect, (
            f"{resource['address']}: pulumi_protect must carry protect for deletion policies "
            "(164.308(a)(7)(ii)(A), 164.312(c)(1))"
        )
        assert values["pulumi_retain_on_delete"] is source.retain_on_delete, (
            f"{resource['address']}: pulumi_retain_on_delete must carry retainOnDelete (164.312(c)(1))"
        )
        assert values["pulumi_name"] == source.name
        assert resource["mode"] == "managed" and resource["provider_name"] == PROVIDER_NAME


def test_protected_phi_stores_stay_protected_in_the_plan() -> None:
    plan = by_name(demo_plan())
    for name in ("storage-documents", "database-instance"):
        values = plan[name]["values"]
        assert values["pulumi_protect"] and values["pulumi_retain_on_delete"], (
            f"{name}: a PHI store must arrive protected in the plan (164.308(a)(7)(ii)(A))"
        )


def _expected_module(synthesis: Synthesis, r: ResourceRecord) -> str:
    by_urn = synthesis.by_urn()
    parts: list[str] = []
    parent = by_urn.get(r.parent)
    while parent is not None:
        if not parent.custom:
            parts.append(f"module.{terraform_name(parent.name)}")
        parent = by_urn.get(parent.parent)
    return ".".join(reversed(parts))


def test_components_become_child_modules(stack_synthesis: Synthesis) -> None:
    plan = by_name(bridged(stack_synthesis))
    for r in stack_synthesis.custom():
        resource = plan[r.name]
        module = _expected_module(stack_synthesis, r)
        local = f"{resource['type']}.{resource['name']}"
        expected = f"{module}.{local}" if module else local
        assert resource["address"] == expected, (
            f"{r.name}: address {resource['address']}, expected {expected}"
        )


def test_nested_components_nest_as_modules() -> None:
    plan = demo_plan()
    audit = next(
        m for m in plan["planned_values"]["root_module"]["child_modules"] if m["address"] == "module.audit"
    )
    nested = {m["address"] for m in audit.get("child_modules", [])}
    assert "module.audit.module.audit_alarms" in nested, f"nested component modules: {nested}"
    alarms = [r for r in plan_resources(plan) if r["type"] == "aws_cloudwatch_metric_alarm"]
    assert alarms and all(a["address"].startswith("module.audit.module.audit_alarms.") for a in alarms)


def test_configuration_mirrors_every_planned_resource(stack_synthesis: Synthesis) -> None:
    plan = bridged(stack_synthesis)
    planned = {r["address"] for r in plan_resources(plan)}
    configured = set(config_resources(plan))
    assert planned == configured, (
        f"{stack_synthesis.spa}: configuration and planned_values disagree: {planned ^ configured}"
    )


# -------------------------------------------------------------------------------------- references


def test_whole_value_outputs_become_references() -> None:
    plan = by_name(demo_plan())
    assert plan["storage-documents-public-access"]["values"]["bucket"] == "aws_s3_bucket.storage_documents.id"
    assert plan["database-instance"]["values"]["kms_key_id"] == "aws_kms_key.keys_data.arn"
    assert plan["network-data-a"]["values"]["vpc_id"] == "aws_vpc.network_vpc.id"


def test_references_appear_in_the_configuration_expressions() -> None:
    plan = demo_plan()
    config = config_resources(plan)
    expressions = config["module.storage.aws_s3_bucket_public_access_block.storage_documents_public_access"][
        "expressions"
    ]
    assert expressions["bucket"]["references"] == [
        "aws_s3_bucket.storage_documents.id",
        "aws_s3_bucket.storage_documents",
    ]


def test_every_reference_points_at_a_plan_resource(stack_synthesis: Synthesis) -> None:
    plan = bridged(stack_synthesis)
    local_names = {f"{r['type']}.{r['name']}" for r in plan_resources(plan)}
    for address, resource in config_resources(plan).items():
        for key, expression in resource["expressions"].items():
            for ref in expression["references"]:
                target = ".".join(ref.split(".")[:2])
                assert target in local_names, f"{address}.{key}: reference {ref} names no plan resource"


def test_each_property_dependency_is_a_reference(stack_synthesis: Synthesis) -> None:
    plan = bridged(stack_synthesis)
    planned = {r["values"]["pulumi_urn"]: r for r in plan_resources(plan)}
    expressions = {a: r["expressions"] for a, r in config_resources(plan).items()}
    for r in stack_synthesis.custom():
        resource = planned[r.urn]
        for prop, urns in r.property_dependencies.items():
            targets = [planned[u] for u in urns if u in planned and u != r.urn]
            if not targets:
                continue
            key = attribute_name(resource["type"], prop)
            references = expressions[resource["address"]].get(key, {}).get("references", [])
            for target in targets:
                local = f"{target['type']}.{target['name']}"
                assert local in references, (
                    f"{r.name}.{prop}: the dependency on {target['values']['pulumi_name']} must be a "
                    f"reference for checkov's graph checks, got {references}"
                )


def test_unknown_outputs_become_references() -> None:
    bucket = record("docs", inputs={"bucket": "docs-bucket"})
    block = record(
        "docs-pab",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        inputs={"bucket": None, "blockPublicAcls": True},
        deps={"bucket": [bucket.urn]},
    )
    values = plan_resources(to_plan([bucket, block], spa="unit"))[1]["values"]
    assert values["bucket"] == "aws_s3_bucket.docs.id"


def test_known_names_of_resources_being_created_become_references() -> None:
    """In a preview a new bucket's id is unknown but its name is known, and Terraform's id is the name."""
    bucket = record("logs", inputs={"bucket": "logs-bucket"})
    bucket.id = ""
    logging = record(
        "docs-logging",
        "aws:s3/bucketLogging:BucketLogging",
        inputs={"bucket": "docs-bucket", "targetBucket": "logs-bucket", "targetPrefix": "docs/"},
        deps={"targetBucket": [bucket.urn]},
    )
    values = plan_resources(to_plan([bucket, logging], spa="unit"))[1]["values"]
    assert values["target_bucket"] == "aws_s3_bucket.logs.id"
    assert values["bucket"] == "docs-bucket", "a value without a dependency must stay literal"


def test_values_built_from_outputs_stay_literal() -> None:
    bucket = record("docs", inputs={"bucket": "docs-bucket"}, resource_id="docs-bucket")
    policy = json.dumps({"Statement": [{"Resource": "arn:aws:s3:::docs-bucket/*"}]})
    attached = record(
        "docs-policy",
        "aws:s3/bucketPolicy:BucketPolicy",
        inputs={"bucket": "docs-bucket", "policy": policy},
        deps={"bucket": [bucket.urn], "policy": [bucket.urn]},
    )
    values = plan_resources(to_plan([bucket, attached], spa="unit"))[1]["values"]
    assert values["policy"] == policy, "a policy computed from an ARN must not be replaced by a reference"
    assert values["bucket"] == "aws_s3_bucket.docs.id"


def test_list_elements_link_to_their_own_resources() -> None:
    subnets = [record(f"data-{z}", "aws:ec2/subnet:Subnet", resource_id=f"subnet-{z}") for z in "ab"]
    group = record(
        "db-subnets",
        "aws:rds/subnetGroup:SubnetGroup",
        inputs={"subnetIds": ["subnet-b", "subnet-a"]},
        deps={"subnetIds": [s.urn for s in subnets]},
    )
    values = plan_resources(to_plan([*subnets, group], spa="unit"))[2]["values"]
    assert values["subnet_ids"] == ["aws_subnet.data_b.id", "aws_subnet.data_a.id"]


# ------------------------------------------------------------------------------------------ checkov


def _checkov(target: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    if not CHECKOV.is_file():
        pytest.skip("checkov is not installed in .venv-checkov/ (run: python3 bootstrap.py)")
    args = [str(CHECKOV), "--framework", "terraform_plan", "--skip-download", "-o", "json", *extra]
    args += ["-d", str(target)] if target.is_dir() else ["-f", str(target)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), (
        f"checkov failed to run ({result.returncode}): {result.stderr[-2000:]}"
    )
    report = json.loads(result.stdout)
    if isinstance(report, list):
        report = next(r for r in report if r.get("check_type") == "terraform_plan")
    return result.returncode, report


def _bucket_with_public_access_block(name: str, *, linked: bool) -> list[ResourceRecord]:
    bucket = record(name, inputs={"bucket": f"{name}-bucket"}, resource_id=f"{name}-bucket")
    block = record(
        f"{name}-public-access",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        inputs={
            "bucket": f"{name}-bucket",
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
        deps={"bucket": [bucket.urn]} if linked else {},
    )
    return [bucket, block]


def test_graph_check_passes_when_linked_and_fails_when_the_link_is_missing(tmp_path: Path) -> None:
    """CKV2_AWS_6 (bucket has a public access block) only sees the block through the reference."""
    (tmp_path / "linked.json").write_text(
        json.dumps(to_plan(_bucket_with_public_access_block("phi-linked", linked=True), spa="linked"))
    )
    (tmp_path / "unlinked.json").write_text(
        json.dumps(to_plan(_bucket_with_public_access_block("phi-unlinked", linked=False), spa="unlinked"))
    )
    _, report = _checkov(tmp_path, "-c", "CKV2_AWS_6")
    results = report["results"]
    passed = {c["resource"] for c in results["passed_checks"] if c["check_id"] == "CKV2_AWS_6"}
    failed = {c["resource"] for c in results["failed_checks"] if c["check_id"] == "CKV2_AWS_6"}
    assert passed == {"aws_s3_bucket.phi_linked"}, (
        f"a bucket linked to its public access block must pass CKV2_AWS_6 (164.312(a)(1)): {passed}"
    )
    assert failed == {"aws_s3_bucket.phi_unlinked"}, f"an unlinked bucket must fail CKV2_AWS_6: {failed}"


def test_checkov_reads_the_full_demo_plan(tmp_path: Path) -> None:
    plan = demo_plan()
    target = tmp_path / "demo.json"
    target.write_text(json.dumps(plan))
    _, report = _checkov(target)
    summary = report["summary"]
    assert summary["parsing_errors"] == 0, f"checkov could not parse the demo plan: {summary}"
    assert summary["resource_count"] == len(plan_resources(plan)), (
        f"checkov saw {summary['resource_count']} resources, the plan has {len(plan_resources(plan))}"
    )
    assert summary["passed"] + summary["failed"] > 0, "checkov ran no checks on the demo plan"
    results = report["results"]
    addresses = {r["address"] for r in plan_resources(plan)}
    reported = {c["resource"] for c in results["passed_checks"] + results["failed_checks"]}
    assert reported <= addresses, f"checkov reported addresses the plan does not have: {reported - addresses}"
    buckets = {r["address"] for r in plan_resources(plan) if r["type"] == "aws_s3_bucket"}
    blocked = {c["resource"] for c in results["passed_checks"] if c["check_id"] == "CKV2_AWS_6"}
    assert buckets and buckets <= blocked, (
        f"buckets in child modules must reach their public access blocks in checkov's graph "
        f"(164.312(a)(1)): not linked {buckets - blocked}"
    )


# -------------------------------------------------------------------------------------------- CLI


def test_synth_writes_the_plan(tmp_path: Path) -> None:
    target = tmp_path / "demo-plan.json"
    result = subprocess.run(
        [sys.executable, "-m", "scripts.cli", "synth", "demo", "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=paths.REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(target.read_text())
    assert plan["terraform_version"] and plan["format_version"] == "1.2"
    assert plan_resources(plan), "medspa synth -o must write a plan with resources"
    assert {m["address"] for m in plan["planned_values"]["root_module"]["child_modules"]} >= {
        "module.storage"
    }
