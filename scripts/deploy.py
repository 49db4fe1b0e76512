"""`medspa preview|up|destroy SPA`: the Pulumi Automation API over our program and stack files.

The Pulumi CLI does the work (the Automation API drives the `pulumi` binary), so each command first
checks that the binary is on PATH and otherwise stops with one line saying how to install it. `up` runs
the policy gate first and refuses a failing environment unless the operator accepts the risk with a
written reason, recorded in the stack's update history and in `stacks/.risk-acceptances/SPA.jsonl`.
`destroy` says, from the offline synthesis, which protected resources will stay and why.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import yaml
from rich.console import Console
from rich.table import Table

from infra.config import ConfigError, SpaConfig, load_stack, stack_file
from scripts import paths
from scripts.errors import BadInput

if TYPE_CHECKING:
    from scripts.check import CheckReport

PULUMI_INSTALL_HINT = (
    "the Pulumi CLI is not installed (no `pulumi` on PATH); install it from "
    "https://www.pulumi.com/docs/install/ and run the command again"
)
CHECKOV_MISSING_HINT = "checkov is not installed in .venv-checkov/; create it with: python3 bootstrap.py"
MIN_RISK_REASON_CHARS = 20
RISK_DIR_NAME = ".risk-acceptances"

# Why protected resources stay, with the sections behind each reason.
RETENTION_REASONS: tuple[str, ...] = (
    "PHI data stores (buckets, database) and their keys are protected so no command deletes patient "
    "records by accident (164.310(d)(2)(iv) data backup and storage, 164.312(c)(1) integrity).",
    "Audit logs and the log archive are kept 6 years (164.316(b)(2)(i)) and reviewed "
    "(164.312(b) audit controls).",
    "Backups sit in vaults under AWS Backup Vault Lock: in compliance mode AWS itself refuses to delete a "
    "recovery point before its retention ends (164.308(a)(7)(ii)(A), 164.316(b)(2)(i)).",
)


class PulumiCliMissing(BadInput):
    """The `pulumi` binary is not on PATH: exit 2 with how to install it."""


class DeployError(Exception):
    """The deploy did not happen or failed (gate refused, Pulumi error): one line, exit 1."""


# ---------------------------------------------------------------------------------------- the gate


@dataclass(frozen=True)
class GateOutcome:
    """What `up` needs from the policy gate: pass or fail, and which checks failed."""

    ok: bool
    failed_check_ids: tuple[str, ...]
    summary: str


def run_gate(spa: str, console: Console | None = None) -> GateOutcome:
    """The same code path as `medspa check SPA`: validate, synthesize, checkov + our checks, table.

    Raises BadInput when the stack is invalid or checkov is not installed.
    """
    from scripts import check as gate
    from scripts import reports

    stacks = gate.resolve_spas([spa], all_stacks=False)
    report: CheckReport = gate.check_stacks(stacks)
    if console is not None:
        reports.render_table(report, console)
    failed = tuple(sorted({f.check_id for f in report.findings if f.status == "failed"}))
    return GateOutcome(ok=report.ok, failed_check_ids=failed, summary=reports.summary_line(report))


def checkov_available() -> bool:
    from scripts.checkov_runner import checkov_executable

    try:
        checkov_executable()
    except BadInput:
        return False
    return True


# ------------------------------------------------------------------------------------ pulumi access


def require_pulumi() -> str:
    """The path of the `pulumi` binary; checked before pulumi.automation is touched."""
    found = shutil.which("pulumi")
    if found is None:
        raise PulumiCliMissing(PULUMI_INSTALL_HINT)
    return found


class StackLike(Protocol):
    """The part of pulumi.automation.Stack the commands use (tests substitute a fake)."""

    def preview(self, **kwargs: Any) -> Any: ...

    def up(self, **kwargs: Any) -> Any: ...

    def destroy(self, **kwargs: Any) -> Any: ...


def secrets_provider_of(path: Path) -> str | None:
    """The stack file's top-level `secretsprovider:` (used when Pulumi creates the stack)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    value = document.get("secretsprovider") if isinstance(document, dict) else None
    return str(value) if value else None


def open_stack(spa: str, config_path: Path) -> StackLike:
    """Select the spa's stack (creating it with its KMS secrets provider when new), repo root as work_dir."""
    from pulumi import automation as auto

    options = auto.LocalWorkspaceOptions(
        work_dir=str(paths.REPO_ROOT), secrets_provider=secrets_provider_of(config_path)
    )
    stack = auto.create_or_select_stack(stack_name=spa, work_dir=str(paths.REPO_ROOT), opts=options)
    return cast(StackLike, stack)


def _automation_errors() -> tuple[type[BaseException], ...]:
    from pulumi.automation import errors

    return (errors.CommandError, errors.InvalidVersionError, OSError)


def one_line_error(error: BaseException) -> str:
    """A Pulumi error as one line: its first `error:` line, else its last non-empty line."""
    lines = [" ".join(line.split()) for line in str(error).splitlines()]
    lines = [line for line in lines if line]
    chosen = next((line for line in lines if line.lower().startswith("error:")), None)
    if chosen is None:
        chosen = next((line for line in lines if "error:" in line.lower()), lines[-1] if lines else "")
    text = chosen or error.__class__.__name__
    return text if len(text) <= 300 else text[:297] + "..."


@dataclass(frozen=True)
class Target:
    """A validated spa, its stack file and the binary that will run."""

    config: SpaConfig
    config_path: Path


def prepare(spa: str) -> Target:
    """Require the Pulumi CLI, then a valid stack file; either missing is one line and exit 2."""
    require_pulumi()
    stacks_dir = paths.stacks_dir()
    try:
        config = load_stack(stacks_dir, spa)
    except ConfigError as error:
        raise BadInput(str(error)) from None
    return Target(config=config, config_path=stack_file(stacks_dir, spa))


def _run(action: str, spa: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except _automation_errors() as error:
        raise DeployError(f"pulumi {action} {spa} failed: {one_line_error(error)}") from None


# ------------------------------------------------------------------------------------------ preview


def preview(spa: str, on_output: Callable[[str], Any]) -> None:
    """`pulumi preview` of the spa's stack: what an `up` would change; changes nothing."""
    target = prepare(spa)
    stack = _run("preview", spa, lambda: open_stack(spa, target.config_path))
    _run("preview", spa, lambda: stack.preview(on_output=on_output, config_file=str(target.config_path)))


# ----------------------------------------------------------------------------------------------- up


@dataclass(frozen=True)
class UpRequest:
    spa: str
    accept_risk: str | None = None
    """Deploy although the policy gate fails; the reason is recorded in the stack's update history
    and in stacks/.risk-acceptances/SPA.jsonl. Consequence: the environment runs with the failing
    controls until fixed (164.308(a)(1)(ii)(B) risk management documents the decision)."""
    yes: bool = False


def check_risk_reason(reason: str | None) -> str | None:
    """A risk acceptance needs a real sentence, not a token: at least 20 characters."""
    if reason is None:
        return None
    text = " ".join(reason.split())
    if len(text) < MIN_RISK_REASON_CHARS:
        raise BadInput(
            f"--accept-risk needs a reason of at least {MIN_RISK_REASON_CHARS} characters "
            f"(a full sentence saying why), got {len(text)}"
        )
    return text


def caller_identity() -> str:
    """Who accepted the risk: `git config user.email`, else $USER, else the login name."""
    try:
        completed = subprocess.run(
            ["git", "config", "user.email"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=paths.REPO_ROOT,
            check=False,
        )
        email = completed.stdout.strip()
        if completed.returncode == 0 and email:
            return email
    except (OSError, subprocess.SubprocessError):
        pass
    user = os.environ.get("USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def risk_log_path(spa: str) -> Path:
    return paths.stacks_dir() / RISK_DIR_NAME / f"{spa}.jsonl"


def record_risk_acceptance(spa: str, reason: str, failed: Sequence[str], who: str) -> dict[str, Any]:
    """Append one JSON line per acceptance; the file is the spa's record of accepted risks."""
    entry: dict[str, Any] = {
        "spa": spa,
        "who": who,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "failing_checks": list(failed),
        "reason": reason,
    }
    path = risk_log_path(spa)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
    except OSError as error:
        raise DeployError(f"cannot record the risk acceptance in {path}: {error.strerror}") from None
    return entry


def update_message(spa: str, entry: dict[str, Any] | None) -> str:
    if entry is None:
        return f"medspa up {spa}: policy gate passed"
    return (
        f"medspa up {spa}: RISK ACCEPTED by {entry['who']} with failing checks "
        f"{', '.join(entry['failing_checks'])}: {entry['reason']}"
    )


def up(
    request: UpRequest,
    console: Console,
    on_output: Callable[[str], Any],
    confirm: Callable[[str], bool],
) -> str:
    """Gate, then deploy. Returns the update message recorded in the stack's history."""
    reason = check_risk_reason(request.accept_risk)
    target = prepare(request.spa)
    if not checkov_available():
        raise BadInput(f"the policy gate cannot run: {CHECKOV_MISSING_HINT}")
    console.print(f"policy gate: medspa check {request.spa}", highlight=False)
    outcome = run_gate(request.spa, console)
    entry: dict[str, Any] | None = None
    if not outcome.ok:
        failed = ", ".join(outcome.failed_check_ids) or "(see report)"
        if reason is None:
            raise DeployError(
                f"policy gate failed for {request.spa} ({failed}); nothing deployed. See the report with "
                f'`medspa check {request.spa}`, fix the stack, or deploy anyway with --accept-risk "REASON"'
            )
        entry = record_risk_acceptance(request.spa, reason, outcome.failed_check_ids, caller_identity())
        console.print(
            f"[bold red]RISK ACCEPTED[/bold red] failing checks {failed}; recorded in "
            f"{risk_log_path(request.spa)}",
            highlight=False,
        )
    elif reason is not None:
        console.print("the policy gate passed; --accept-risk has nothing to accept", highlight=False)
    message = update_message(request.spa, entry)
    config = target.config
    if not request.yes and not confirm(f"Deploy {request.spa} to {config.region} (DR {config.dr_region})?"):
        raise BadInput("cancelled; nothing deployed")
    stack = _run("up", request.spa, lambda: open_stack(request.spa, target.config_path))
    _run(
        "up",
        request.spa,
        lambda: stack.up(message=message, on_output=on_output, config_file=str(target.config_path)),
    )
    return message


# ------------------------------------------------------------------------------------------ destroy


@dataclass(frozen=True)
class Kept:
    """A resource that stays after `medspa destroy`, and why (from the offline synthesis)."""

    type: str
    name: str
    protect: bool
    retain_on_delete: bool


def kept_resources(config: SpaConfig) -> list[Kept]:
    """Protected or retained resources of the spa's program, derived from the offline synthesis."""
    from scripts.synth import synthesize

    synthesis = synthesize(config)
    kept = [
        Kept(type=r.type, name=r.name, protect=r.protect, retain_on_delete=r.retain_on_delete)
        for r in synthesis.custom()
        if r.protect or r.retain_on_delete
    ]
    return sorted(kept, key=lambda k: (k.type, k.name))


def explain_kept(spa: str, kept: Sequence[Kept], console: Console) -> None:
    """The table of resources that will remain, and why, before anything is destroyed."""
    table = Table(title=f"{spa}: {len(kept)} resources will REMAIN after destroy", title_justify="left")
    table.add_column("type")
    table.add_column("name", overflow="fold")
    table.add_column("protect")
    table.add_column("retainOnDelete")
    for item in kept:
        table.add_row(
            item.type, item.name, "yes" if item.protect else "", "yes" if item.retain_on_delete else ""
        )
    console.print(table)
    console.print("Why they stay:", highlight=False)
    for reason in RETENTION_REASONS:
        console.print(f"  - {reason}", markup=False, highlight=False)
    console.print(
        "A plain `pulumi destroy` stops at the first protected resource until it is unprotected by hand "
        "(`pulumi state unprotect URN`). `medspa destroy` therefore runs it with --exclude-protected: "
        "everything else is deleted; the protected resources (and what they depend on) stay in AWS and "
        "in the stack, and retained ones stay in AWS only. Delete them by hand only after their "
        "retention period, with the privacy officer's sign-off.",
        markup=False,
        highlight=False,
    )


def destroy(
    spa: str,
    console: Console,
    on_output: Callable[[str], Any],
    confirm_name: Callable[[str], str],
    yes: bool = False,
) -> list[Kept]:
    """List what stays, require the spa name typed back (or --yes), then destroy the rest."""
    target = prepare(spa)
    kept = kept_resources(target.config)
    explain_kept(spa, kept, console)
    if not yes:
        typed = confirm_name(f"Type the spa name ({spa}) to destroy its unprotected resources")
        if typed.strip() != spa:
            raise BadInput("the name typed does not match; nothing destroyed")
    stack = _run("destroy", spa, lambda: open_stack(spa, target.config_path))
    _run(
        "destroy",
        spa,
        lambda: stack.destroy(
            exclude_protected=True,
            message=f"medspa destroy {spa}",
            on_output=on_output,
            config_file=str(target.config_path),
        ),
    )
    return kept
