"""The HIPAA catalog (policies/hipaa_catalog.yaml): which checks give evidence for which requirement.

Like prowler's compliance files, the catalog is data, so an auditor can read it and a test can prove
it is complete: every check the gate runs maps to at least one HIPAA Security Rule section, and every
requirement no cloud control can cover says so plainly instead of being left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from scripts import paths
from scripts.errors import BadInput

CATALOG_PATH = paths.REPO_ROOT / "policies" / "hipaa_catalog.yaml"
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
KINDS = ("standard", "required", "addressable")
SECTION_RE = re.compile(r"^164\.3(08|10|12|14|16)(\([a-zA-Z0-9]+\))+$")


@dataclass(frozen=True)
class Requirement:
    """One HIPAA Security Rule standard or implementation specification."""

    id: str
    title: str
    kind: str
    checks: tuple[str, ...]
    cloud_control: bool
    reason: str
    note: str


@dataclass(frozen=True)
class Catalog:
    """Requirements in the order of the rule, plus per-check severity."""

    requirements: tuple[Requirement, ...]
    severity: dict[str, str]
    default_severity: str

    def sections_for(self, check_id: str) -> tuple[str, ...]:
        """HIPAA sections a check gives evidence for, in catalog order (empty when unmapped)."""
        return tuple(r.id for r in self.requirements if check_id in r.checks)

    def severity_for(self, check_id: str) -> str:
        return self.severity.get(check_id, self.default_severity)

    def mapped_checks(self) -> set[str]:
        return {check for r in self.requirements for check in r.checks}

    def requirement(self, section: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == section), None)


def _fail(path: Path, message: str) -> BadInput:
    return BadInput(f"{path.name}: {message}")


def _requirement(path: Path, raw: Any, index: int) -> Requirement:
    if not isinstance(raw, dict):
        raise _fail(path, f"requirement #{index + 1} is not a mapping")
    rid = str(raw.get("id", ""))
    if not SECTION_RE.match(rid):
        raise _fail(path, f"requirement #{index + 1}: id {rid!r} is not a Security Rule section")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise _fail(path, f"{rid}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    checks = raw.get("checks") or []
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise _fail(path, f"{rid}: checks must be a list of check ids")
    cloud_control = raw.get("cloud_control", True)
    reason = " ".join(str(raw.get("reason") or "").split())
    if cloud_control is False:
        if checks:
            raise _fail(path, f"{rid}: cloud_control: false cannot also list checks")
        if not reason:
            raise _fail(path, f"{rid}: cloud_control: false needs a plain reason")
    elif cloud_control is True:
        if not checks and kind != "standard":
            raise _fail(path, f"{rid}: needs checks, or cloud_control: false with a reason")
    else:
        raise _fail(path, f"{rid}: cloud_control must be true or false")
    return Requirement(
        id=rid,
        title=str(raw.get("title") or ""),
        kind=str(kind),
        checks=tuple(checks),
        cloud_control=bool(cloud_control),
        reason=reason,
        note=" ".join(str(raw.get("note") or "").split()),
    )


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """Read and validate the catalog; a malformed catalog is bad input naming the problem."""
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise _fail(path, f"cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise _fail(path, f"malformed YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(document, dict) or not isinstance(document.get("requirements"), list):
        raise _fail(path, "expected a mapping with a 'requirements' list")
    requirements = tuple(_requirement(path, raw, i) for i, raw in enumerate(document["requirements"]))
    seen: set[str] = set()
    for requirement in requirements:
        if requirement.id in seen:
            raise _fail(path, f"{requirement.id} is listed twice")
        seen.add(requirement.id)
    severity_raw = document.get("severity") or {}
    if not isinstance(severity_raw, dict):
        raise _fail(path, "severity must map check ids to a severity")
    severity = {str(k): str(v).upper() for k, v in severity_raw.items()}
    default = str(document.get("default_severity", "MEDIUM")).upper()
    for check_id, level in [*severity.items(), ("default_severity", default)]:
        if level not in SEVERITIES:
            raise _fail(path, f"{check_id}: severity must be one of {', '.join(SEVERITIES)}, got {level!r}")
    return Catalog(requirements=requirements, severity=severity, default_severity=default)


@cache
def default_catalog() -> Catalog:
    """The bundled catalog, read once per process."""
    return load_catalog(CATALOG_PATH)


BUILTIN_IDS_PATH = paths.REPO_ROOT / "policies" / "data" / "checkov_builtin_ids.txt"
HIPAA_RULE_URI = "https://www.hhs.gov/hipaa/for-professionals/security/laws-regulations/index.html"


@dataclass(frozen=True)
class BuiltinChecks:
    """checkov's built-in terraform check ids (data, so tests and reports need no checkov import)."""

    checkov_version: str
    links: dict[str, str]


@cache
def builtin_checks(path: Path = BUILTIN_IDS_PATH) -> BuiltinChecks:
    version = ""
    links: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith("# checkov-version:"):
            version = line.split(":", 1)[1].strip()
        if not line.strip() or line.startswith("#"):
            continue
        check_id, _, link = line.partition(" ")
        links[check_id] = link.strip()
    return BuiltinChecks(checkov_version=version, links=links)


def help_uri(check_id: str) -> str:
    """A page explaining a check: checkov's source for built-ins, the Security Rule for ours."""
    return builtin_checks().links.get(check_id) or HIPAA_RULE_URI
