"""Reading `pulumi preview --json` and `pulumi stack export`: what CI with real credentials checks.

The fixtures are hand-written in the CLI's real formats (a small spa "harbor": a kept KMS key, a
replaced alias, a new PHI bucket with its encryption and public access block, a database whose
password is a secret, a read-only VPC and a deleted bucket).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from scripts.errors import BadInput
from scripts.plan_bridge import EmptyPlan, to_plan
from scripts.pulumi_formats import records_from_preview, records_from_state
from scripts.synth import ResourceRecord

FIXTURES = Path(__file__).parent / "fixtures"
STORAGE = "urn:pulumi:harbor::medspa::medspa:storage:PhiStorage"


def preview() -> dict[str, Any]:
    return json.loads((FIXTURES / "pulumi_preview.json").read_text())


def state() -> dict[str, Any]:
    return json.loads((FIXTURES / "pulumi_stack_export.json").read_text())


def named(records: list[ResourceRecord]) -> dict[str, ResourceRecord]:
    return {r.name: r for r in records}


def plan_values(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Plan resource values by Pulumi name, child modules included."""
    found: dict[str, dict[str, Any]] = {}
    modules = [plan["planned_values"]["root_module"]]
    while modules:
        module = modules.pop()
        for resource in module.get("resources", []):
            found[resource["values"]["pulumi_name"]] = resource
        modules.extend(module.get("child_modules", []))
    return found


# ------------------------------------------------------------------------------------------ preview


def test_preview_keeps_what_will_exist() -> None:
    names = set(named(records_from_preview(preview())))
    assert names == {
        "default_7_51_1",
        "keys",
        "keys-data",
        "keys-data-alias",
        "storage",
        "storage-documents",
        "storage-documents-encryption",
        "storage-documents-public-access",
        "account-public-access",
        "legacy-db",
    }, f"unexpected records: {sorted(names)}"


def test_preview_drops_deleted_read_and_stack_resources() -> None:
    names = set(named(records_from_preview(preview())))
    assert "scratch" not in names, "a resource being deleted will not exist after the update"
    assert "shared-vpc" not in names, "a read (external) resource is not managed by the stack"
    assert "medspa-harbor" not in names, "the stack itself is not a resource"


def test_preview_replacement_appears_once_with_its_new_inputs() -> None:
    records = records_from_preview(preview())
    aliases = [r for r in records if r.type == "aws:kms/alias:Alias"]
    assert len(aliases) == 1, f"a replaced resource must appear once, got {len(aliases)}"
    assert aliases[0].inputs["name"] == "alias/harbor/phi-data"


def test_preview_reads_parent_protect_retain_and_dependencies() -> None:
    bucket = named(records_from_preview(preview()))["storage-documents"]
    assert bucket.parent == f"{STORAGE}::storage"
    assert bucket.protect and bucket.retain_on_delete, "protect/retainOnDelete must survive (164.312(c)(1))"
    encryption = named(records_from_preview(preview()))["storage-documents-encryption"]
    assert encryption.property_dependencies["bucket"] == [
        f"{STORAGE}$aws:s3/bucket:Bucket::storage-documents"
    ]


def test_preview_drops_engine_bookkeeping_and_empty_dependencies() -> None:
    for record in records_from_preview(preview()):
        assert "__defaults" not in json.dumps(record.inputs), f"{record.name}: __defaults leaked into inputs"
        assert all(record.property_dependencies.values()), f"{record.name}: empty dependency lists kept"


def test_preview_unknowns_become_none_and_floats_ints() -> None:
    records = named(records_from_preview(preview()))
    assert records["storage-documents-public-access"].inputs["bucket"] is None
    period = records["keys-data"].inputs["rotationPeriodInDays"]
    assert period == 365 and type(period) is int


def test_preview_secrets_stay_masked() -> None:
    database = named(records_from_preview(preview()))["legacy-db"]
    assert database.inputs["password"] == "[secret]"


def test_preview_bridges_to_a_plan_with_modules_and_references() -> None:
    plan = to_plan(records_from_preview(preview()), spa="harbor")
    values = plan_values(plan)
    assert values["storage-documents"]["address"] == "module.storage.aws_s3_bucket.storage_documents"
    assert (
        values["account-public-access"]["address"]
        == "aws_s3_account_public_access_block.account_public_access"
    )
    assert (
        values["storage-documents-public-access"]["values"]["bucket"] == "aws_s3_bucket.storage_documents.id"
    ), "an unknown bucket id in a preview must still link the public access block to its bucket"
    rule = values["storage-documents-encryption"]["values"]["rule"][0]
    assert (
        rule["apply_server_side_encryption_by_default"][0]["kms_master_key_id"] == "aws_kms_key.keys_data.arn"
    )
    assert values["legacy-db"]["values"]["password"] == "[secret]"
    assert values["keys-data-alias"]["values"]["target_key_id"] == "aws_kms_key.keys_data.id"


# --------------------------------------------------------------------------------------------- state


def test_state_keeps_managed_live_resources() -> None:
    names = set(named(records_from_state(state())))
    assert names == {
        "default_7_51_1",
        "keys",
        "keys-data",
        "storage",
        "storage-documents",
        "storage-documents-encryption",
        "storage-documents-public-access",
        "legacy-db",
    }, f"unexpected records: {sorted(names)}"


def test_state_reads_ids_and_outputs() -> None:
    key = named(records_from_state(state()))["keys-data"]
    assert key.id == "1234abcd-12ab-34cd-56ef-1234567890ab"
    assert key.outputs["arn"].startswith("arn:aws:kms:")


def test_state_secrets_are_masked_in_inputs_and_outputs() -> None:
    database = named(records_from_state(state()))["legacy-db"]
    assert database.inputs["password"] == "[secret]" and database.outputs["password"] == "[secret]"
    text = json.dumps([r.to_dict() | {"outputs": r.outputs} for r in records_from_state(state())])
    for leaked in ("not-a-real-password-123", "v1:XbN0tS+kZ3Jq2m4P", "1b47061264138c4ac30d75fd1eb44270"):
        assert leaked not in text, f"secret material {leaked!r} leaked from the state (164.312(a)(2)(iv))"


def test_state_bridges_with_known_ids_as_references() -> None:
    values = plan_values(to_plan(records_from_state(state()), spa="harbor"))
    assert (
        values["storage-documents-public-access"]["values"]["bucket"] == "aws_s3_bucket.storage_documents.id"
    )
    assert values["legacy-db"]["values"]["kms_key_id"] == "aws_kms_key.keys_data.arn"
    assert values["legacy-db"]["values"]["password"] == "[secret]"
    assert values["keys-data"]["values"]["pulumi_protect"] is True


def test_state_without_resources_is_an_empty_plan() -> None:
    document = state()
    document["deployment"]["resources"] = []
    with pytest.raises(EmptyPlan):
        to_plan(records_from_state(document), spa="harbor")


# ----------------------------------------------------------------------------------------- malformed


def _broken_preview(change: str) -> Any:
    document = preview()
    step = document["steps"][3]
    if change == "not-an-object":
        return ["steps"]
    if change == "no-steps":
        document.pop("steps")
    elif change == "steps-not-list":
        document["steps"] = {"op": "create"}
    elif change == "step-not-object":
        document["steps"][3] = "create"
    elif change == "no-op":
        step.pop("op")
    elif change == "no-urn":
        step["newState"].pop("urn")
    elif change == "no-type":
        step["newState"].pop("type")
    elif change == "inputs-not-object":
        step["newState"]["inputs"] = ["a"]
    elif change == "bad-dependencies":
        step["newState"]["dependencies"] = "urn:pulumi:x"
    return document


@pytest.mark.parametrize(
    "change",
    [
        "not-an-object",
        "no-steps",
        "steps-not-list",
        "step-not-object",
        "no-op",
        "no-urn",
        "no-type",
        "inputs-not-object",
        "bad-dependencies",
    ],
)
def test_malformed_preview_is_bad_input_in_one_line(change: str) -> None:
    with pytest.raises(BadInput) as raised:
        records_from_preview(_broken_preview(change))
    assert "\n" not in str(raised.value) and str(raised.value), f"{change}: the error must be one line"


def _broken_state(change: str) -> Any:
    document = state()
    if change == "not-an-object":
        return "state"
    if change == "no-deployment":
        document.pop("deployment")
    elif change == "resources-not-list":
        document["deployment"]["resources"] = {"urn": "x"}
    elif change == "resource-not-object":
        document["deployment"]["resources"][2] = 7
    elif change == "bad-urn":
        document["deployment"]["resources"][3]["urn"] = "keys-data"
    elif change == "bad-property-dependencies":
        document["deployment"]["resources"][6]["propertyDependencies"] = {"bucket": "urn"}
    return document


@pytest.mark.parametrize(
    "change",
    [
        "not-an-object",
        "no-deployment",
        "resources-not-list",
        "resource-not-object",
        "bad-urn",
        "bad-property-dependencies",
    ],
)
def test_malformed_state_is_bad_input_in_one_line(change: str) -> None:
    with pytest.raises(BadInput) as raised:
        records_from_state(_broken_state(change))
    assert "\n" not in str(raised.value) and str(raised.value), f"{change}: the error must be one line"


def test_readers_do_not_modify_the_document() -> None:
    document = state()
    before = copy.deepcopy(document)
    records_from_state(document)
    assert document == before
