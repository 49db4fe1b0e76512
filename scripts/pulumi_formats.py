"""Read what a real user with the Pulumi CLI has into resource records for the plan bridge.

- `pulumi preview --json`: `{"steps": [{"op", "urn", "newState": {type, urn, custom, parent, inputs,
  outputs, protect, retainOnDelete, dependencies, propertyDependencies, provider}}], ...}`. Secrets
  there are already the string "[secret]"; unknown values are the engine's unknown sentinel.
- `pulumi stack export`: `{"version": 3, "deployment": {"resources": [...same resource shape...]}}`.
  Secrets there are `{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  "ciphertext" | "plaintext": ...}` objects.

Both come out as the same ResourceRecords the offline synthesis produces, secrets masked, so CI with
real credentials runs exactly the gate that runs offline (164.312(b) review before deploy).
"""

from __future__ import annotations

from typing import Any

from scripts.errors import BadInput
from scripts.synth import ResourceRecord, plain_value

STACK_TYPE = "pulumi:pulumi:Stack"

# Steps whose new state is not part of the stack after the update (deletions), or is not managed by it
# (reads of existing resources): a plan holds what will exist and be managed.
SKIPPED_OPS = frozenset(
    {
        "delete",
        "delete-replaced",
        "discard",
        "discard-replaced",
        "read",
        "read-replacement",
        "read-discard",
        "remove-pending-replace",
    }
)


def _object(value: Any, label: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadInput(f"{label}: expected a JSON object, got {type(value).__name__}")
    return value


def _without_bookkeeping(value: Any) -> Any:
    """Drop the engine's own keys (`__defaults`, `__internal`) at every level."""
    if isinstance(value, dict):
        return {k: _without_bookkeeping(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_without_bookkeeping(v) for v in value]
    return value


def _plain_map(value: Any, label: str) -> dict[str, Any]:
    if value is None:
        return {}
    plain: dict[str, Any] = _without_bookkeeping(plain_value(_object(value, label)))
    return plain


def _urn_list(value: Any, label: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise BadInput(f"{label}: expected a list of URNs")
    return list(value)


def _record(state: Any, label: str) -> ResourceRecord:
    """One serialized resource state (apitype.ResourceV3) as a ResourceRecord."""
    state = _object(state, label)
    urn, type_token = state.get("urn"), state.get("type")
    if not isinstance(urn, str) or not urn.startswith("urn:pulumi:"):
        raise BadInput(f"{label}: missing or malformed urn")
    if not isinstance(type_token, str) or not type_token:
        raise BadInput(f"{label}: {urn} has no type")
    property_dependencies = {
        key: _urn_list(urns, f"{label}: propertyDependencies.{key}")
        for key, urns in _object(
            state.get("propertyDependencies") or {}, f"{label}: propertyDependencies"
        ).items()
    }
    resource_id = state.get("id")
    return ResourceRecord(
        urn=urn,
        type=type_token,
        name=urn.rsplit("::", 1)[-1],
        custom=bool(state.get("custom")),
        parent=str(state.get("parent") or ""),
        protect=bool(state.get("protect")),
        retain_on_delete=bool(state.get("retainOnDelete")),
        provider=str(state.get("provider") or ""),
        inputs=_plain_map(state.get("inputs"), f"{label}: inputs"),
        dependencies=_urn_list(state.get("dependencies"), f"{label}: dependencies"),
        property_dependencies={k: v for k, v in property_dependencies.items() if v},
        id=str(plain_value(resource_id) or "") if isinstance(resource_id, str) else "",
        outputs=_plain_map(state.get("outputs"), f"{label}: outputs"),
    )


def _keep(record: ResourceRecord, state: dict[str, Any]) -> bool:
    """Drop the stack itself, resources being deleted and external (read, not managed) resources."""
    return record.type != STACK_TYPE and not state.get("delete") and not state.get("external")


def records_from_preview(document: dict[str, Any]) -> list[ResourceRecord]:
    """`pulumi preview --json` -> records of what will exist after the update, in step order."""
    steps = _object(document, "preview").get("steps")
    if not isinstance(steps, list):
        raise BadInput("preview: not a `pulumi preview --json` document (no steps list)")
    records: dict[str, ResourceRecord] = {}
    for index, step in enumerate(steps, start=1):
        label = f"preview step #{index}"
        step = _object(step, label)
        op = step.get("op")
        if not isinstance(op, str):
            raise BadInput(f"{label}: missing op")
        state = step.get("newState")
        if op in SKIPPED_OPS or state is None:
            continue
        record = _record(state, f"{label} ({op})")
        if _keep(record, state):
            records[record.urn] = record  # a replacement's later step supersedes its earlier one
    return list(records.values())


def records_from_state(document: dict[str, Any]) -> list[ResourceRecord]:
    """`pulumi stack export` -> records of every resource the stack manages, in state order."""
    deployment = _object(document, "state").get("deployment")
    if not isinstance(deployment, dict):
        raise BadInput("state: not a `pulumi stack export` document (no deployment object)")
    resources = deployment.get("resources")
    if resources is None:
        return []
    if not isinstance(resources, list):
        raise BadInput("state: deployment.resources must be a list")
    records: list[ResourceRecord] = []
    for index, state in enumerate(resources, start=1):
        record = _record(state, f"state resource #{index}")
        if _keep(record, state):
            records.append(record)
    return records
