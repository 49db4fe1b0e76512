"""The interface of whole-plan checks, and helpers to read a Terraform-plan-shaped JSON.

checkov judges one resource at a time; these checks answer questions about the whole plan (does an
alarm exist for X, does every PHI bucket have Y). They read the plan the bridge writes: resources in
`planned_values` (root module and nested `child_modules`), snake_case attributes, blocks as lists of
dicts, and an input that came from another resource's output either as its resolved value or as a
Terraform-style reference (`aws_s3_bucket.phi.arn`), possibly also recorded in `configuration`.
Absence is a failure: a check that finds nothing to judge reports a failed finding at address "plan".
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

PLAN_ADDRESS = "plan"
_MODULE_PREFIX = re.compile(r"^(module\.[^.]+\.)+")


@dataclass(frozen=True)
class PlanFinding:
    """One result of a whole-plan check on one resource (or on the plan as a whole)."""

    check_id: str
    check_name: str
    status: Literal["passed", "failed"]
    address: str
    message: str


class PlanCheck(ABC):
    """A whole-plan check: an id in our namespace, a name, the HIPAA sections it gives evidence for."""

    id: str
    name: str
    hipaa: tuple[str, ...]

    @abstractmethod
    def run(self, plan: dict[str, Any]) -> list[PlanFinding]:
        """Every finding for this plan; never empty (absence of anything to judge is a failure)."""

    def passed(self, address: str, message: str) -> PlanFinding:
        return PlanFinding(self.id, self.name, "passed", address, message)

    def failed(self, address: str, message: str) -> PlanFinding:
        return PlanFinding(self.id, self.name, "failed", address, message)


@dataclass(frozen=True)
class Resource:
    """A planned resource: its address, type, name and values."""

    address: str
    type: str
    name: str
    values: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    @property
    def label(self) -> str:
        """How a message names it: the Pulumi name when known, else the address."""
        return str(self.values.get("pulumi_name") or self.address)


def resources(plan: dict[str, Any], resource_type: str | None = None) -> list[Resource]:
    """Every managed resource of the plan (all modules), optionally of one type."""
    found: list[Resource] = []
    root = (plan.get("planned_values") or {}).get("root_module") or {}
    stack: list[dict[str, Any]] = [root]
    while stack:
        module = stack.pop(0)
        for raw in module.get("resources") or []:
            if not isinstance(raw, dict) or raw.get("mode", "managed") != "managed":
                continue
            if resource_type is None or raw.get("type") == resource_type:
                values = raw.get("values")
                found.append(
                    Resource(
                        address=str(raw.get("address") or f"{raw.get('type')}.{raw.get('name')}"),
                        type=str(raw.get("type") or ""),
                        name=str(raw.get("name") or ""),
                        values=values if isinstance(values, dict) else {},
                    )
                )
        stack.extend(m for m in module.get("child_modules") or [] if isinstance(m, dict))
    return found


def configuration_references(plan: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """address -> attribute -> references recorded in `configuration` (empty when the plan has none)."""
    out: dict[str, dict[str, list[str]]] = {}

    def walk(module: dict[str, Any], prefix: str) -> None:
        for raw in module.get("resources") or []:
            address = prefix + str(raw.get("address") or "")
            for attribute, expression in (raw.get("expressions") or {}).items():
                if isinstance(expression, dict) and expression.get("references"):
                    refs = [str(r) for r in expression["references"]]
                    out.setdefault(address, {})[attribute] = refs
        for call, body in (module.get("module_calls") or {}).items():
            if isinstance(body, dict):
                walk(body.get("module") or {}, f"{prefix}module.{call}.")

    walk((plan.get("configuration") or {}).get("root_module") or {}, "")
    return out


class PlanView:
    """A plan plus indexes the checks share."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.all = resources(plan)
        self.references = configuration_references(plan)

    def of_type(self, resource_type: str) -> list[Resource]:
        return [r for r in self.all if r.type == resource_type]

    def attribute_strings(self, resource: Resource, attribute: str) -> list[str]:
        """An attribute's string values plus any configuration references recorded for it."""
        values = [str(v) for v in flatten(resource.get(attribute)) if isinstance(v, (str, int, float))]
        return values + self.references.get(resource.address, {}).get(attribute, [])

    def refers_to(self, resource: Resource, attribute: str, target: Resource) -> bool:
        return any(mentions(text, target) for text in self.attribute_strings(resource, attribute))

    def referencing(self, resource_type: str, attribute: str, target: Resource) -> list[Resource]:
        """Resources of a type whose attribute points at `target`."""
        return [r for r in self.of_type(resource_type) if self.refers_to(r, attribute, target)]


def flatten(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return [leaf for item in value for leaf in flatten(item)]
    return [value]


def first(value: Any) -> Any:
    """A scalar attribute, unwrapping one-element lists."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def blocks(value: Any) -> list[dict[str, Any]]:
    return [v for v in flatten(value) if isinstance(v, dict)]


def truthy(value: Any) -> bool:
    value = first(value)
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def tags(resource: Resource) -> dict[str, str]:
    merged: dict[str, str] = {}
    for key in ("tags_all", "tags"):
        value = first(resource.get(key))
        if isinstance(value, dict):
            merged.update({str(k): str(v) for k, v in value.items()})
    return merged


def is_phi(resource: Resource) -> bool:
    """A PHI store is tagged DataClassification=PHI (infra/context.py DataClassification.PHI)."""
    return tags(resource).get("DataClassification") == "PHI"


def identities(target: Resource) -> set[str]:
    """Resolved values other resources may use to point at `target` (name, bucket, id, ARN)."""
    found = {
        str(target.get(key))
        for key in ("bucket", "name", "id", "arn", "identifier")
        if isinstance(target.get(key), str) and target.get(key)
    }
    if target.type == "aws_s3_bucket" and isinstance(target.get("bucket"), str):
        found.add(f"arn:aws:s3:::{target.get('bucket')}")
    return found


def mentions(text: str, target: Resource) -> bool:
    """Whether a string points at `target`: its resolved name/ARN, or a Terraform-style reference."""
    text = str(text).strip()
    if not text:
        return False
    if text in identities(target):
        return True
    for identity in identities(target):
        if identity.startswith("arn:") and (
            text.startswith(identity + "/") or text.startswith(identity + ":")
        ):
            return True
    reference = _MODULE_PREFIX.sub("", text.removeprefix("${").removesuffix("}"))
    own = f"{target.type}.{target.name}"
    own_full = _MODULE_PREFIX.sub("", target.address)
    return any(reference == r or reference.startswith(r + ".") for r in (own, own_full))


def policy_document(value: Any) -> dict[str, Any] | None:
    value = first(value)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def adopted_services(plan: dict[str, Any]) -> set[str]:
    """Services the spa adopted from an existing setup instead of creating them in this stack.

    Read from `plan["pulumi_stack"]["adopted"]` (a list such as ["guardduty", "securityhub", "config"]),
    or a Terraform-style variable `variables.adopted.value`. Lower-cased.
    """
    found: list[Any] = []
    stack = plan.get("pulumi_stack")
    if isinstance(stack, dict):
        found += flatten(stack.get("adopted"))
    variable = (plan.get("variables") or {}).get("adopted")
    if isinstance(variable, dict):
        found += flatten(variable.get("value"))
    return {str(v).strip().lower() for v in found if isinstance(v, str)}


def iter_statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    statements = document.get("Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, dict):
            yield statement


def denies_plaintext(document: dict[str, Any] | None) -> bool:
    """A Deny for everyone on s3:* when aws:SecureTransport is false (a TLS-only bucket policy)."""
    for statement in iter_statements(document or {}):
        if statement.get("Effect") != "Deny":
            continue
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            principal = principal.get("AWS")
        if first(principal) != "*":
            continue
        actions = flatten(statement.get("Action"))
        if not any(a in ("*", "s3:*") for a in actions):
            continue
        condition = statement.get("Condition") or {}
        for operator in ("Bool", "BoolIfExists"):
            flag = first((condition.get(operator) or {}).get("aws:SecureTransport"))
            if str(flag).lower() == "false":
                return True
    return False
