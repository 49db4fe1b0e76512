"""``medspa drill SPA --history``: past drills from their JSON records, so the trend is visible.

A quarterly drill whose RTO creeps towards its target is a finding before it is a failure; the
privacy officer reviews this table when revising the contingency plan (164.308(a)(7)(ii)(D)).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from scripts.drill.evidence import format_duration
from scripts.drill.model import DrillRecord, Verdict, iso_z


@dataclass(frozen=True)
class History:
    """The drills found in a report directory, oldest first, and the files that could not be read."""

    records: list[DrillRecord]
    unreadable: list[str]


def load_history(report_dir: Path, spa: str) -> History:
    """Read every ``<drill id>.json`` record of this spa in ``report_dir``; never raises on a bad file."""
    records: list[DrillRecord] = []
    unreadable: list[str] = []
    if not report_dir.is_dir():
        return History(records=[], unreadable=[])
    for path in sorted(report_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            record = DrillRecord.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError):
            unreadable.append(path.name)
            continue
        if record.spa == spa:
            records.append(record)
    records.sort(key=lambda r: r.started_at)
    return History(records=records, unreadable=unreadable)


def _worst(values: list[float | None]) -> float | None:
    measured = [v for v in values if v is not None]
    return max(measured) if measured else None


def summarize(record: DrillRecord) -> dict[str, Any]:
    """One row of the trend: the worst RTO and RPO of the drill's resources against the targets."""
    rto = _worst([r.rto_seconds for r in record.resources])
    rpo = _worst([r.rpo_seconds for r in record.resources])
    passed = sum(1 for r in record.resources if r.verdict is Verdict.PASS)
    return {
        "drill_id": record.drill_id,
        "started_at": iso_z(record.started_at),
        "verdict": record.verdict.value,
        "emulator": record.emulator,
        "from_dr_region": record.from_dr_region,
        "rto_seconds": rto,
        "rto_target_minutes": record.targets.rto_minutes,
        "rpo_seconds": rpo,
        "rpo_target_hours": record.targets.rpo_hours,
        "resources": len(record.resources),
        "resources_passed": passed,
        "reasons": record.failure_reasons(),
    }


def history_json(history: History) -> str:
    return json.dumps(
        {"drills": [summarize(r) for r in history.records], "unreadable": history.unreadable}, indent=2
    )


def history_table(history: History, spa: str) -> Table:
    """Date, verdict, RTO and RPO against targets, resources: one row per drill, oldest first."""
    table = Table(title=f"{spa}: {len(history.records)} restore drill(s)")
    for column in ("date (UTC)", "drill", "verdict"):
        table.add_column(column, no_wrap=True)  # the identifiers stay copy-pasteable on a narrow terminal
    for column in ("mode", "RTO / target", "RPO / target", "resources"):
        table.add_column(column)
    for record in history.records:
        row = summarize(record)
        mode = "EMULATOR" if record.emulator else ("DR region" if record.from_dr_region else "AWS")
        verdict = row["verdict"]
        style = "green" if verdict == Verdict.PASS.value else "red"
        table.add_row(
            record.started_at.strftime("%Y-%m-%d %H:%M"),
            record.drill_id,
            f"[{style}]{verdict}[/{style}]",
            mode,
            f"{format_duration(row['rto_seconds'])} / {record.targets.rto_minutes} min",
            f"{format_duration(row['rpo_seconds'])} / {record.targets.rpo_hours} h",
            f"{row['resources_passed']}/{row['resources']} passed",
        )
    return table
