"""The preflight report: a table for the contractor, JSON for scripts. No PHI is ever read, so none is shown."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from scripts.preflight.model import PreflightReport, Status

STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}


def render_json(report: PreflightReport) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def summary_line(report: PreflightReport) -> str:
    counts = report.counts()
    verdict = "READY" if report.ok else "NOT READY"
    return f"{verdict}: {counts['OK']} OK, {counts['WARN']} WARN, {counts['FAIL']} FAIL"


def render_table(report: PreflightReport, console: Console) -> None:
    account = report.account_id or "unknown account"
    table = Table(title=f"preflight {report.spa}: {account}", title_justify="left", show_lines=True)
    table.add_column("status")
    table.add_column("item", overflow="fold")
    table.add_column("detail", overflow="fold")
    table.add_column("what to do", overflow="fold")
    table.add_column("HIPAA", overflow="fold")
    for result in report.results:
        table.add_row(
            Text(result.status.value, style=STYLE[result.status]),
            Text(result.item),
            Text(result.detail),
            Text(result.action),
            Text(result.hipaa),
        )
    console.print(table)
    style = "green" if report.ok else "bold red"
    console.print(Text(summary_line(report), style=style))
