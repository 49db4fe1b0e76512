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
        Path | None, typer.Option("--output", "-o", help="Write the resource records as JSON to FILE.")
    ] = None,
) -> None:
    """Run the spa's Pulumi program offline under mocks and list what it would create."""
    from scripts.synth import synthesize

    config = load_config(spa)
    synthesis = synthesize(config)
    if output is not None:
        try:
            output.write_text(
                json.dumps({"spa": spa, "resources": [r.to_dict() for r in synthesis.resources]}, indent=2)
            )
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
