"""`medspa`: the operator's command line (synth today; check, new, preflight, drill as they land)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from scripts import paths
from scripts.errors import EXIT_BAD_INPUT, EXIT_FINDING, BadInput

if TYPE_CHECKING:
    from infra.config import SpaConfig

app = typer.Typer(
    name="medspa",
    help="HIPAA-ready AWS environment for a medical spa: synthesize, check, provision, drill.",
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)
_SPA_ARG = typer.Argument(help="Spa (stack) name: stacks/Pulumi.SPA.yaml.")


@app.callback()
def _root() -> None:
    """HIPAA-ready AWS environment for a medical spa: synthesize, check, provision, drill."""


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """One line on stderr and a non-zero exit; never a traceback for the operator's mistakes."""
    err_console.print(f"medspa: error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


def load_config(spa: str) -> SpaConfig:
    from infra.config import ConfigError, load_stack  # pydantic: only for commands that read a stack

    try:
        return load_stack(paths.stacks_dir(), spa)
    except ConfigError as error:
        fail(str(error))


@app.command()
def synth(
    spa: Annotated[str, _SPA_ARG],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the Terraform-plan-shaped JSON (for checkov) to FILE."),
    ] = None,
) -> None:
    """Run the spa's Pulumi program offline under mocks and list what it would create."""
    from rich.table import Table

    from scripts.plan_bridge import to_plan
    from scripts.synth import synthesize

    config = load_config(spa)
    synthesis = synthesize(config)
    if output is not None:
        try:
            plan = to_plan(synthesis.resources, spa=spa)
        except BadInput as error:
            fail(str(error))
        try:
            output.write_text(json.dumps(plan, indent=2))
        except OSError as error:
            fail(f"cannot write {output}: {error.strerror}")
    table = Table(title=f"{spa}: {len(synthesis.custom())} resources (offline synth)")
    table.add_column("type")
    table.add_column("count", justify="right")
    counts: dict[str, int] = {}
    for record in synthesis.custom():
        counts[record.type] = counts.get(record.type, 0) + 1
    for type_token, count in sorted(counts.items()):
        table.add_row(type_token, str(count))
    console.print(table)


@app.command()
def drill(
    spa: Annotated[str, _SPA_ARG],
    local: Annotated[
        bool, typer.Option("--local", help="Run against an embedded AWS emulator with synthetic data.")
    ] = False,
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="Evidence directory (default evidence/drills/SPA/).")
    ] = None,
    from_dr_region: Annotated[
        bool, typer.Option("--from-dr-region", help="Restore from the DR region's copies.")
    ] = False,
    resource: Annotated[str | None, typer.Option("--resource", help="Only: database | bucket.")] = None,
    cleanup: Annotated[
        bool, typer.Option("--cleanup", help="Remove the leftovers of a drill that was killed.")
    ] = False,
    history: Annotated[bool, typer.Option("--history", help="List past drills from the evidence.")] = False,
    upload: Annotated[
        bool, typer.Option("--upload", help="Archive the evidence in the log archive bucket (Object Lock).")
    ] = False,
    timeout_minutes: Annotated[
        int, typer.Option("--timeout-minutes", help="Give up on a restore after N minutes.")
    ] = 60,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Restore the newest backups into temporary copies, verify and time them, keep the evidence.

    Exit 0 PASS, 1 FAIL, 2 bad input. Tests the contingency plan (164.308(a)(7)(ii)(D)).
    """
    from scripts.drill import command
    from scripts.drill.history import history_json, history_table, load_history

    request = command.DrillRequest(
        spa=spa,
        local=local,
        report_dir=report_dir,
        from_dr_region=from_dr_region,
        resource=resource,
        cleanup=cleanup,
        history=history,
        upload=upload,
        timeout_minutes=timeout_minutes,
        as_json=as_json,
    )
    try:
        command.check_request(request)
    except BadInput as error:
        fail(str(error))
    config = load_config(spa)

    def progress(message: str) -> None:
        err_console.print(message, markup=False, highlight=False)

    if history:
        past = load_history(request.directory, spa)
        if as_json:
            typer.echo(history_json(past))
        elif not past.records:
            console.print(f"no drills recorded for {spa} in {request.directory}")
        else:
            console.print(history_table(past, spa))
        for name in past.unreadable:
            err_console.print(f"medspa: warning: {name} is not a drill record; skipped", markup=False)
        return
    try:
        if cleanup:
            actions = command.cleanup(config, on_progress=progress)
            if as_json:
                typer.echo(json.dumps([a.to_dict() for a in actions], indent=2))
            else:
                for action in actions:
                    state = "ok" if action.ok else "FAILED"
                    console.print(
                        f"{state}: {action.action} {action.resource} {action.detail}".rstrip(), markup=False
                    )
                console.print(f"{len(actions)} leftover(s) handled for {spa}", markup=False)
            if not all(a.ok for a in actions):
                raise typer.Exit(EXIT_FINDING)
            return
        outcome = command.run(request, config, on_progress=progress)
    except BadInput as error:
        fail(str(error))
    record = outcome.record
    if as_json:
        typer.echo(
            json.dumps({**record.to_dict(), "evidence": [str(p) for p in outcome.files.all_paths]}, indent=2)
        )
    else:
        style = "green" if record.verdict.value == "PASS" else "red"
        console.print(f"[{style}]{record.verdict.value}[/{style}] drill {record.drill_id} for {spa}")
        for reason in record.failure_reasons():
            console.print(f"  - {reason}", markup=False, highlight=False, soft_wrap=True)
        if record.emulator:
            console.print("EMULATOR evidence: timings mean nothing", markup=False)
        console.print(f"evidence: {outcome.files.directory}", markup=False, highlight=False, soft_wrap=True)
    for uri in outcome.uploaded:
        err_console.print(f"archived {uri}", markup=False, highlight=False)
    if outcome.upload_error:
        err_console.print(f"medspa: error: evidence not archived: {outcome.upload_error}", markup=False)
    if outcome.interrupted:
        err_console.print("medspa: drill interrupted; cleanup ran and the evidence was written", markup=False)
    raise typer.Exit(outcome.exit_code)


@app.command()
def new(
    spa: Annotated[str, typer.Argument(help="New spa name (3-24 lowercase letters, digits, hyphens).")],
    region: Annotated[str | None, typer.Option("--region", help="Primary AWS region.")] = None,
    dr_region: Annotated[
        str | None, typer.Option("--dr-region", help="Disaster-recovery region (default: paired region).")
    ] = None,
    office_cidr: Annotated[
        list[str] | None, typer.Option("--office-cidr", help="Office public egress CIDR (repeatable).")
    ] = None,
    admin_cidr: Annotated[
        list[str] | None,
        typer.Option("--admin-cidr", help="Contractor admin CIDR (repeatable; default: the office CIDRs)."),
    ] = None,
    alert_email: Annotated[
        list[str] | None, typer.Option("--alert-email", help="Security alert e-mail (repeatable).")
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owner e-mail (default: the first alert e-mail).")
    ] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="Spa name for reports.")] = None,
    db_instance_class: Annotated[
        str | None, typer.Option("--db-instance-class", help="RDS instance class (db.t4g.medium).")
    ] = None,
    db_storage_gb: Annotated[
        str | None, typer.Option("--db-storage-gb", help="Database storage, GB.")
    ] = None,
    db_multi_az: Annotated[
        bool | None, typer.Option("--db-multi-az/--no-db-multi-az", help="Database in two zones.")
    ] = None,
    log_retention_days: Annotated[
        str | None, typer.Option("--log-retention-days", help="Log retention (days, >= 365).")
    ] = None,
    backup_retention_days: Annotated[
        str | None, typer.Option("--backup-retention-days", help="Daily backups kept (days, >= 35).")
    ] = None,
    long_backup_retention_days: Annotated[
        str | None,
        typer.Option("--long-backup-retention-days", help="Monthly backups kept (days, >= 2192)."),
    ] = None,
    secrets_provider: Annotated[
        str | None,
        typer.Option(
            "--secrets-provider", help="awskms:// key (default alias/medspa-SPA-pulumi-secrets in REGION)."
        ),
    ] = None,
    passphrase_secrets: Annotated[
        bool,
        typer.Option(
            "--passphrase-secrets",
            help="Weakens: encrypt stack secrets with a passphrase instead of KMS (no audit trail).",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="No prompts; missing values are errors.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing stack file.")] = False,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Do not run `medspa check` at the end.")
    ] = False,
) -> None:
    """Write a validated, commented stacks/Pulumi.SPA.yaml (interactive, or fully by flags)."""
    from scripts import new_spa

    options = new_spa.NewSpaOptions(
        spa=spa,
        region=region,
        dr_region=dr_region,
        office_cidrs=tuple(office_cidr or ()),
        admin_cidrs=tuple(admin_cidr or ()),
        alert_emails=tuple(alert_email or ()),
        owner=owner,
        display_name=display_name,
        db_instance_class=db_instance_class,
        db_storage_gb=db_storage_gb,
        db_multi_az=db_multi_az,
        log_retention_days=log_retention_days,
        backup_retention_days=backup_retention_days,
        long_backup_retention_days=long_backup_retention_days,
        secrets_provider=secrets_provider,
        passphrase_secrets=passphrase_secrets,
        yes=yes,
        force=force,
        check=not no_check,
    )
    try:
        result = new_spa.create(options, console)
        for warning in result.warnings:
            err_console.print(warning, style="bold red", markup=False, highlight=False)
        verb = "overwrote" if result.overwrote else "wrote"
        console.print(f"{verb} {result.path}", markup=False, highlight=False, soft_wrap=True)
        for label, value in new_spa.summarize(result.config):
            console.print(f"  {label}: {value}", markup=False, highlight=False, soft_wrap=True)
        code = new_spa.run_check(result, console, err_console, check=options.check)
    except BadInput as error:
        fail(str(error))
    new_spa.print_next_steps(result, console)
    raise typer.Exit(code)


def _echo_line(line: str) -> None:
    typer.echo(line.rstrip("\n"))


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """The operator's mistake exits 2, a failed Pulumi operation exits 1: one line each, no traceback."""
    from scripts import deploy

    try:
        yield
    except BadInput as error:
        fail(str(error))
    except deploy.DeployError as error:
        fail(str(error), EXIT_FINDING)


def _confirm(text: str) -> bool:
    """A yes/no question; closed input is a no."""
    try:
        return bool(typer.confirm(text))
    except typer.Abort:
        return False


@app.command()
def preview(spa: Annotated[str, _SPA_ARG]) -> None:
    """`pulumi preview` of the spa's stack (needs the Pulumi CLI); changes nothing."""
    from scripts import deploy

    with _one_line_errors():
        deploy.preview(spa, on_output=_echo_line)


@app.command()
def up(
    spa: Annotated[str, _SPA_ARG],
    accept_risk: Annotated[
        str | None,
        typer.Option(
            "--accept-risk",
            help="Weakens: deploy although the policy gate fails; REASON (a full sentence) is recorded.",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Run the policy gate, then `pulumi up` the spa's stack (needs the Pulumi CLI)."""
    from scripts import deploy

    request = deploy.UpRequest(spa=spa, accept_risk=accept_risk, yes=yes)
    with _one_line_errors():
        deploy.up(request, console, on_output=_echo_line, confirm=_confirm)


@app.command()
def destroy(
    spa: Annotated[str, _SPA_ARG],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to type the spa name.")] = False,
) -> None:
    """List what stays (protected PHI, logs, backups), then destroy the rest (needs the Pulumi CLI)."""
    from scripts import deploy

    def type_name(text: str) -> str:
        try:
            return str(typer.prompt(text))
        except typer.Abort:
            return ""

    with _one_line_errors():
        deploy.destroy(spa, console, on_output=_echo_line, confirm_name=type_name, yes=yes)


@app.command()
def preflight(
    spa: Annotated[str, _SPA_ARG],
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile to use.")] = None,
    backend_url: Annotated[
        str | None,
        typer.Option(
            "--backend-url", help="Pulumi state backend (default: PULUMI_BACKEND_URL, pulumi login)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Read-only checks of the target AWS account before the first `medspa up`; exit 1 on any FAIL."""
    from scripts.preflight.backend import resolve_backend
    from scripts.preflight.report import render_json, render_table
    from scripts.preflight.runner import make_session, run_preflight

    config = load_config(spa)
    url, source = resolve_backend(backend_url)
    try:
        session = make_session(config, profile)
    except BadInput as error:
        fail(str(error))
    report = run_preflight(config, session, backend_url=url, backend_source=source)
    if as_json:
        sys.stdout.write(render_json(report))
    else:
        render_table(report, console)
    if not report.ok:
        raise typer.Exit(EXIT_FINDING)


CHECK_FORMATS = ("table", "json", "sarif", "junit")


class _StderrProgress:
    """The progress indicator of a multi-stack check, drawn on stderr so stdout stays a clean report."""

    def __init__(self, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err_console,
            transient=True,
        )
        self._task = self._progress.add_task(f"synthesizing {total} stacks", total=total)

    def __enter__(self) -> _StderrProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def stack_done(self, spa: str) -> None:
        self._progress.update(self._task, advance=1, description=f"synthesized {spa}")

    def phase(self, text: str) -> None:
        self._progress.update(self._task, description=text)


@app.command()
def check(
    spas: Annotated[list[str] | None, typer.Argument(help="Spa names: stacks/Pulumi.SPA.yaml.")] = None,
    all_stacks: Annotated[bool, typer.Option("--all", help="Check every stack in stacks/.")] = False,
    plan: Annotated[
        str | None, typer.Option("--plan", help="Check a plan JSON (medspa synth -o, terraform show -json).")
    ] = None,
    from_preview: Annotated[
        str | None, typer.Option("--from-preview", help="Check `pulumi preview --json` output (- for stdin).")
    ] = None,
    from_state: Annotated[
        str | None, typer.Option("--from-state", help="Check `pulumi stack export` output (- for stdin).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json | sarif | junit.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
) -> None:
    """The policy gate: checkov's built-in checks and ours, mapped to HIPAA; exit 1 on any failure."""
    from scripts import check as gate
    from scripts import reports

    names = list(spas or [])
    inputs = {"--plan": plan, "--from-preview": from_preview, "--from-state": from_state}
    given = [flag for flag, value in inputs.items() if value is not None]
    if fmt not in CHECK_FORMATS:
        fail(f"--format must be one of {', '.join(CHECK_FORMATS)}, got {fmt!r}")
    if len(given) > 1:
        fail(f"give only one of {', '.join(given)}")
    if given and (names or all_stacks):
        fail(f"{given[0]} checks a file; do not also name spas or --all")
    if not given and not names and not all_stacks:
        fail("name one or more spas, --all, or one of --plan, --from-preview, --from-state")
    try:
        if plan is not None:
            report = gate.check_plans([gate.plan_from_file(plan)])
        elif from_preview is not None:
            report = gate.check_plans([gate.plan_from_pulumi(from_preview, "preview")])
        elif from_state is not None:
            report = gate.check_plans([gate.plan_from_pulumi(from_state, "state")])
        else:
            stacks = gate.resolve_spas(names, all_stacks=all_stacks)
            if len(stacks) > 1:
                with _StderrProgress(len(stacks)) as progress:
                    report = gate.check_stacks(stacks, progress=progress)
            else:
                report = gate.check_stacks(stacks)
    except BadInput as error:
        fail(str(error))
    if output is not None:
        try:
            output.write_text(reports.render(report, fmt))
        except OSError as error:
            fail(f"cannot write {output}: {error.strerror}")
        err_console.print(reports.summary_line(report), markup=False, highlight=False)
    elif fmt == "table":
        reports.render_table(report, console)
    else:
        sys.stdout.write(reports.render(report, fmt))
    if not report.ok:
        raise typer.Exit(EXIT_FINDING)


def main() -> None:
    """Console-script entry point: map the operator's mistakes to exit 2 with one line."""
    try:
        app()
    except BadInput as error:
        err_console.print(f"medspa: error: {error}", markup=False, highlight=False)
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        err_console.print("medspa: interrupted", markup=False)
        sys.exit(130)


if __name__ == "__main__":
    main()
