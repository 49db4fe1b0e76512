"""Small helpers for invariant tests over synthesized resources."""

from __future__ import annotations

import json
from typing import Any

from scripts.synth import ResourceRecord, Synthesis


def policy_document(value: Any) -> dict[str, Any]:
    """Policies are JSON strings in inputs; tests read them as dicts."""
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def children_of(synthesis: Synthesis, parent: ResourceRecord) -> list[ResourceRecord]:
    return [r for r in synthesis.resources if r.parent == parent.urn]


def depends_on(record: ResourceRecord, target: ResourceRecord, prop: str | None = None) -> bool:
    """Whether `record` takes an input from `target` (in `prop` when given)."""
    if prop is None:
        return target.urn in record.dependencies
    return target.urn in record.property_dependencies.get(prop, [])
