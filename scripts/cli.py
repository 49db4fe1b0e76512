"""`medspa`: the operator's command line (synth today; check, new, preflight, drill as they land)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from infra.config import ConfigError, SpaConfig, load_stack
from scripts import paths
from scripts.errors import EXIT_BAD_INPUT, BadInput

app = typer.Typer(
    name="medspa",
    help="HIPAA-ready AWS environment for a medical spa: synthesize, check, provision, drill.",
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)


@app.callback()
def _root() -> None:
    """HIPAA-ready AWS environment for a medical spa: synthesize, check, provision, drill."""


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """One line on stderr and a non-zero exit; never a traceback for the operator's mistakes."""
    err_console.print(f"medspa: error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


def load_config(spa: str) -> SpaConfig:
    try:
        return load_stack(paths.stacks_dir(), spa)
    except ConfigError as error:
        fail(str(error))


@app.command()
def synth(
    spa: Annotated[str, typer.Argument(help="Spa (stack) name: stacks/Pulumi.SPA.yaml.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the Terraform-plan-shaped JSON (for checkov) to FILE."),
    ] = None,
) -> None:
    """Run the spa's Pulumi program offline under mocks and list what it would create."""
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
    from scripts.errors import EXIT_FINDING

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
