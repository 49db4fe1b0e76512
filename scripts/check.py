"""The policy gate behind `medspa check`: plans in, HIPAA-mapped findings out.

One call: each stack is synthesized offline and bridged to a Terraform-plan-shaped JSON (or a plan, a
`pulumi preview --json` or a `pulumi stack export` is read), every plan is written into one temporary
directory, checkov scans them all in ONE process (built-in checks plus policies/checks/), the
whole-plan checks of policies/plan_checks/ run on each plan, justified skips from policies/skips.yaml
turn into visible "skipped" findings, and every finding is mapped to HIPAA sections by the catalog.
Several stacks are synthesized on both cores (a process pool of 2): Pulumi's runtime state is per
process, so each worker synthesizes and bridges its stacks alone.
"""

from __future__ import annotations

import fnmatch
import json
import multiprocessing
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from scripts import paths
from scripts.catalog import Catalog, default_catalog
from scripts.checkov_runner import (
    CHECKS_DIR,
    CheckovResult,
    PrestartedCheckov,
    checkov_executable,
    run_checkov,
)
from scripts.errors import BadInput
from scripts.paths import stack_source

Status = Literal["passed", "failed", "skipped"]
SKIPS_PATH = paths.REPO_ROOT / "policies" / "skips.yaml"
POOL_SIZE = 2
STATUS_ORDER: dict[str, int] = {"failed": 0, "skipped": 1, "passed": 2}


class Progress(Protocol):
    """What the gate reports while it works (the CLI draws it on stderr)."""

    def stack_done(self, spa: str) -> None: ...

    def phase(self, text: str) -> None: ...


@dataclass(frozen=True)
class ResourceInfo:
    """What a report needs about a plan resource besides its address."""

    type: str
    urn: str | None
    pulumi_name: str | None


@dataclass(frozen=True)
class RawFinding:
    """A whole-plan check's result, before HIPAA mapping (picklable, so workers can return it)."""

    check_id: str
    check_name: str
    status: Status
    address: str
    message: str
    guideline: str | None


@dataclass(frozen=True)
class PreparedPlan:
    """One plan written to the scan directory, with what the merge step needs to know about it."""

    spa: str
    source: str
    resources: dict[str, ResourceInfo]
    plan_findings: tuple[RawFinding, ...]


@dataclass(frozen=True)
class Finding:
    """One check on one resource of one spa, mapped to HIPAA sections."""

    spa: str
    check_id: str
    check_name: str
    status: Status
    address: str
    urn: str | None
    pulumi_name: str | None
    hipaa: tuple[str, ...]
    severity: str
    message: str
    guideline: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON report's finding shape (DESIGN.md), plus the spa it belongs to."""
        return {
            "check_id": self.check_id,
            "status": self.status,
            "address": self.address,
            "urn": self.urn,
            "hipaa": list(self.hipaa),
            "severity": self.severity,
            "message": self.message,
            "spa": self.spa,
        }

    @property
    def display_name(self) -> str:
        """The name the operator wrote in the program: the Pulumi logical name, else the address."""
        return self.pulumi_name or self.address


@dataclass(frozen=True)
class CheckReport:
    """Everything one `medspa check` found."""

    spas: tuple[str, ...]
    sources: dict[str, str]
    resources: int
    findings: tuple[Finding, ...]
    catalog: Catalog = field(default_factory=default_catalog, compare=False)

    def count(self, status: Status) -> int:
        return sum(1 for f in self.findings if f.status == status)

    def summary(self) -> dict[str, int]:
        return {
            "resources": self.resources,
            "passed": self.count("passed"),
            "failed": self.count("failed"),
            "skipped": self.count("skipped"),
        }

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0


def one_line(text: str) -> str:
    """Messages are one line in every report."""
    return " ".join(str(text).split())


# ---------------------------------------------------------------------------------------------- skips


@dataclass(frozen=True)
class Skip:
    """One justified skip: a reason, and optionally the only resources it covers (fnmatch patterns).

    A skip scoped to `resources` keeps the check live everywhere else, so the same weakening on a PHI
    store still fails the gate; an unscoped skip covers every resource of every stack.
    """

    reason: str
    resources: tuple[str, ...] = ()

    def covers(self, address: str, pulumi_name: str | None) -> bool:
        if not self.resources:
            return True
        names = [address, address.rsplit(".", 1)[-1]] + ([pulumi_name] if pulumi_name else [])
        return any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in self.resources)


def load_skips(path: Path | None = None) -> dict[str, Skip]:
    """policies/skips.yaml as {check id: Skip}; a malformed file is bad input, a missing one is none."""
    path = path or SKIPS_PATH
    if not path.is_file():
        return {}
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise BadInput(f"{path.name}: malformed YAML: {str(error).splitlines()[0]}") from None
    if document is None:
        return {}
    if not isinstance(document, list):
        raise BadInput(f"{path.name}: expected a list of {{id, reason}}")
    skips: dict[str, Skip] = {}
    for index, entry in enumerate(document, start=1):
        if not isinstance(entry, dict) or not entry.get("id") or not str(entry.get("reason") or "").strip():
            raise BadInput(f"{path.name}: entry #{index} needs an id and a reason")
        unknown = set(entry) - {"id", "reason", "resources"}
        if unknown:
            raise BadInput(f"{path.name}: entry #{index} has unknown keys {sorted(unknown)}")
        resources = entry.get("resources") or []
        if not isinstance(resources, list) or not all(isinstance(r, str) and r for r in resources):
            raise BadInput(f"{path.name}: entry #{index}: resources must be a list of name patterns")
        check_id = str(entry["id"])
        if check_id in skips:
            raise BadInput(f"{path.name}: {check_id} is listed twice")
        skips[check_id] = Skip(one_line(str(entry["reason"])), tuple(resources))
    return skips


# ------------------------------------------------------------------------------------- plan handling


def iter_plan_resources(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every managed resource of a Terraform-plan JSON, child modules included."""
    root = ((plan.get("planned_values") or {}).get("root_module")) or {}
    stack: list[dict[str, Any]] = [root]
    while stack:
        module = stack.pop()
        for resource in module.get("resources") or []:
            if isinstance(resource, dict) and resource.get("mode", "managed") == "managed":
                yield resource
        stack.extend(m for m in module.get("child_modules") or [] if isinstance(m, dict))


def resource_index(plan: dict[str, Any]) -> dict[str, ResourceInfo]:
    """address -> type, URN and Pulumi name (from the bridge's `pulumi_urn` / `pulumi_name` values)."""
    index: dict[str, ResourceInfo] = {}
    for resource in iter_plan_resources(plan):
        values = resource.get("values") or {}
        urn = values.get("pulumi_urn")
        name = values.get("pulumi_name")
        index[str(resource.get("address"))] = ResourceInfo(
            type=str(resource.get("type") or ""),
            urn=str(urn) if urn else None,
            pulumi_name=str(name) if name else None,
        )
    return index


def _plan_checks() -> Sequence[Any]:
    from policies.plan_checks import ALL_PLAN_CHECKS

    return ALL_PLAN_CHECKS


def run_plan_checks(plan: dict[str, Any]) -> tuple[RawFinding, ...]:
    """Whole-plan checks (existence and coverage) that checkov's per-resource model cannot express."""
    found: list[RawFinding] = []
    for check in _plan_checks():
        hipaa = ", ".join(getattr(check, "hipaa", ()))
        guideline = f"HIPAA {hipaa}: {check.name}" if hipaa else None
        for result in check.run(plan):
            found.append(
                RawFinding(
                    check_id=result.check_id,
                    check_name=one_line(result.check_name),
                    status=result.status,
                    address=result.address,
                    message=one_line(result.message),
                    guideline=guideline,
                )
            )
    return tuple(found)


def prepare_plan(spa: str, plan: dict[str, Any], plans_dir: Path, *, source: str) -> PreparedPlan:
    """Write `<spa>.json` for checkov and run the whole-plan checks on it."""
    resources = resource_index(plan)
    if not resources:
        raise BadInput(f"{spa}: the plan has no resources; nothing to check")
    (plans_dir / f"{spa}.json").write_text(json.dumps(plan))
    return PreparedPlan(spa=spa, source=source, resources=resources, plan_findings=run_plan_checks(plan))


def _prepare_stack(spa: str, stacks_dir: str, plans_dir: str) -> PreparedPlan:
    """Synthesize one stack offline, bridge it to a plan and prepare it (runs in a pool worker)."""
    from infra.config import load_stack
    from scripts.plan_bridge import to_plan
    from scripts.synth import synthesize

    synthesis = synthesize(load_stack(Path(stacks_dir), spa))
    plan = to_plan(synthesis.resources, spa=spa)
    return prepare_plan(spa, plan, Path(plans_dir), source=stack_source(spa))


# --------------------------------------------------------------------------------------------- inputs


def resolve_spas(spas: Sequence[str], *, all_stacks: bool) -> list[str]:
    """The stacks to check, each validated now so bad config is exit 2 before any work starts."""
    from infra.config import ConfigError, list_stacks, load_stack

    stacks_dir = paths.stacks_dir()
    if all_stacks:
        if spas:
            raise BadInput("give spa names or --all, not both")
        names = list(list_stacks(stacks_dir))
        if not names:
            raise BadInput(f"no Pulumi.<spa>.yaml stack files in {stacks_dir}")
    else:
        names = list(dict.fromkeys(spas))
    for spa in names:
        try:
            load_stack(stacks_dir, spa)
        except ConfigError as error:
            raise BadInput(one_line(str(error))) from None
    return names


def read_input(path: str) -> str:
    """A file's text, or stdin for `-`; unreadable input is bad input naming the file."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text()
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise BadInput(f"cannot read {path}: not a text file") from None


def parse_json(text: str, label: str) -> dict[str, Any]:
    if not text.strip():
        raise BadInput(f"{label}: empty input, expected JSON")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInput(f"{label}: malformed JSON at line {error.lineno} column {error.colno}") from None
    if not isinstance(document, dict):
        raise BadInput(f"{label}: expected a JSON object")
    return document


def spa_from_urns(urns: Sequence[str | None], fallback: str) -> str:
    """The stack name in `urn:pulumi:<stack>::<project>::...`, so a preview maps to its stack file."""
    for urn in urns:
        if urn and urn.startswith("urn:pulumi:"):
            stack = urn.split("::", 1)[0].split(":", 2)[2]
            if stack:
                return _safe_name(stack)
    return _safe_name(fallback)


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    return cleaned or "plan"


def plan_from_file(path: str) -> tuple[str, dict[str, Any]]:
    """`--plan FILE`: a Terraform-plan-shaped JSON (`medspa synth -o`, or `terraform show -json`)."""
    label = "stdin" if path == "-" else path
    plan = parse_json(read_input(path), label)
    root = (plan.get("planned_values") or {}).get("root_module") if isinstance(plan, dict) else None
    if not isinstance(root, dict):
        raise BadInput(f"{label}: not a plan JSON (no planned_values.root_module)")
    urns = [info.urn for info in resource_index(plan).values()]
    return spa_from_urns(urns, Path(label).stem.split(".")[0]), plan


def plan_from_pulumi(path: str, kind: Literal["preview", "state"]) -> tuple[str, dict[str, Any]]:
    """`--from-preview` / `--from-state`: what a user with the Pulumi CLI has, bridged to a plan."""
    label = "stdin" if path == "-" else path
    document = parse_json(read_input(path), label)
    from scripts.plan_bridge import to_plan
    from scripts.pulumi_formats import records_from_preview, records_from_state

    reader = records_from_preview if kind == "preview" else records_from_state
    records = reader(document)
    spa = spa_from_urns([r.urn for r in records], Path(label).stem.split(".")[0])
    return spa, to_plan(records, spa=spa)


# ------------------------------------------------------------------------------------------ the gate


def check_stacks(spas: Sequence[str], *, progress: Progress | None = None) -> CheckReport:
    """Synthesize, bridge and check stacks (validated by `resolve_spas`); checkov starts once."""
    checkov_executable()  # fail fast, before minutes of synthesis, when checkov is missing
    catalog = default_catalog()
    skips = load_skips()
    with tempfile.TemporaryDirectory(prefix="medspa-check-") as tmp:
        plans_dir = Path(tmp) / "plans"
        plans_dir.mkdir()
        with PrestartedCheckov(plans_dir) as prestarted:  # imports itself while we synthesize
            prepared = _prepare_stacks(list(spas), plans_dir, progress)
            return _scan(prepared, plans_dir, catalog, skips, progress, prestarted)


def check_plans(
    plans: Sequence[tuple[str, dict[str, Any]]], *, progress: Progress | None = None
) -> CheckReport:
    """Check finished plans (from `--plan`, `--from-preview` or `--from-state`)."""
    checkov_executable()  # fail fast, before minutes of synthesis, when checkov is missing
    catalog = default_catalog()
    skips = load_skips()
    with tempfile.TemporaryDirectory(prefix="medspa-check-") as tmp:
        plans_dir = Path(tmp) / "plans"
        plans_dir.mkdir()
        prepared = [prepare_plan(spa, plan, plans_dir, source=stack_source(spa)) for spa, plan in plans]
        return _scan(prepared, plans_dir, catalog, skips, progress)


def _prepare_stacks(spas: list[str], plans_dir: Path, progress: Progress | None) -> list[PreparedPlan]:
    stacks_dir = str(paths.stacks_dir())
    if len(spas) == 1:
        prepared = [_prepare_stack(spas[0], stacks_dir, str(plans_dir))]
        if progress:
            progress.stack_done(spas[0])
        return prepared
    by_spa: dict[str, PreparedPlan] = {}
    with ProcessPoolExecutor(max_workers=min(POOL_SIZE, len(spas)), mp_context=_pool_context()) as pool:
        futures = {pool.submit(_prepare_stack, spa, stacks_dir, str(plans_dir)): spa for spa in spas}
        for future in as_completed(futures):
            result = future.result()
            by_spa[result.spa] = result
            if progress:
                progress.stack_done(result.spa)
    return [by_spa[spa] for spa in spas]


WORKER_PRELOAD = ["infra.program", "scripts.synth", "scripts.plan_bridge"]


def _pool_context() -> multiprocessing.context.BaseContext:
    """forkserver where the platform has it, with the program preloaded once.

    Plain fork is unsafe here: a process that already ran a synthesis holds the Pulumi SDK's gRPC
    threads, and a child forked from it can deadlock (it did, in a benchmark). The fork server starts
    clean, imports the program once, and forks each worker from that state.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(WORKER_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def _scan(
    prepared: list[PreparedPlan],
    plans_dir: Path,
    catalog: Catalog,
    skips: Mapping[str, Skip],
    progress: Progress | None,
    prestarted: PrestartedCheckov | None = None,
) -> CheckReport:
    if progress:
        progress.phase(f"checkov: {len(prepared)} plan(s)")
    results = run_checkov(plans_dir, checks_dir=CHECKS_DIR, prestarted=prestarted)
    return merge(prepared, results, catalog, skips)


def merge(
    prepared: Sequence[PreparedPlan],
    results: Sequence[CheckovResult],
    catalog: Catalog,
    skips: Mapping[str, Skip],
) -> CheckReport:
    """checkov results + whole-plan findings -> HIPAA-mapped findings, justified skips applied."""
    by_spa = {p.spa: p for p in prepared}
    findings: list[Finding] = []

    def add(spa: str, raw: RawFinding) -> None:
        info = by_spa[spa].resources.get(raw.address)
        status: Status = raw.status
        message = raw.message
        skip = skips.get(raw.check_id)
        if skip is not None and skip.covers(raw.address, info.pulumi_name if info else None):
            status, message = "skipped", skip.reason
        findings.append(
            Finding(
                spa=spa,
                check_id=raw.check_id,
                check_name=raw.check_name,
                status=status,
                address=raw.address,
                urn=info.urn if info else None,
                pulumi_name=info.pulumi_name if info else None,
                hipaa=catalog.sections_for(raw.check_id),
                severity=catalog.severity_for(raw.check_id),
                message=one_line(message),
                guideline=raw.guideline,
            )
        )

    for result in results:
        if result.file not in by_spa:
            continue
        message = result.check_name
        if result.status == "skipped":
            message = f"{result.check_name} (suppressed in checkov)"
        add(
            result.file,
            RawFinding(
                result.check_id, result.check_name, result.status, result.address, message, result.guideline
            ),
        )
    for plan in prepared:
        for raw in plan.plan_findings:
            add(plan.spa, raw)
    findings.sort(key=lambda f: (f.spa, STATUS_ORDER[f.status], f.check_id, f.address))
    return CheckReport(
        spas=tuple(p.spa for p in prepared),
        sources={p.spa: p.source for p in prepared},
        resources=sum(len(p.resources) for p in prepared),
        findings=tuple(findings),
        catalog=catalog,
    )
