"""`--history`: past drills, oldest first, with RTO/RPO against targets (164.308(a)(7)(ii)(D) trend)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from rich.console import Console

from scripts.drill.evidence import write_evidence
from scripts.drill.history import history_json, history_table, load_history, summarize
from tests.scripts.drill.records import START, database_result, record


def _render(table: object) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def _two_drills(directory: Path) -> None:
    write_evidence(record(drill_id="d20261123t101500z-bbbbbb", started=START), directory)
    write_evidence(
        record(drill_id="d20260823t101500z-aaaaaa", started=START - timedelta(days=92), emulator=True),
        directory,
    )


def test_history_lists_drills_oldest_first(tmp_path: Path) -> None:
    _two_drills(tmp_path)
    history = load_history(tmp_path, "demo")
    assert [r.drill_id for r in history.records] == ["d20260823t101500z-aaaaaa", "d20261123t101500z-bbbbbb"]


def test_history_table_shows_figures_and_targets(tmp_path: Path) -> None:
    _two_drills(tmp_path)
    text = _render(history_table(load_history(tmp_path, "demo"), "demo"))
    assert "25.0 min / 240 min" in text, "RTO against target per drill"
    assert "3.5 h / 24 h" in text, "RPO against target per drill"
    assert "EMULATOR" in text, "emulator drills are marked in the trend"
    assert text.index("2026-08-23") < text.index("2026-11-23"), "oldest first, so the trend reads down"


def test_history_skips_other_spas_and_reports_junk(tmp_path: Path) -> None:
    _two_drills(tmp_path)
    write_evidence(record(drill_id="d20261124t101500z-cccccc", spa="other"), tmp_path)
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    history = load_history(tmp_path, "demo")
    assert len(history.records) == 2, "another spa's drills must not appear"
    assert history.unreadable == ["notes.json"]


def test_history_of_missing_directory_is_empty(tmp_path: Path) -> None:
    assert load_history(tmp_path / "nowhere", "demo").records == []


def test_summary_takes_the_worst_resource() -> None:
    slow = database_result(rto_seconds=9000.0, rpo_seconds=100.0)
    row = summarize(record(resources=[slow, database_result()]))
    assert row["rto_seconds"] == 9000.0 and row["rpo_seconds"] == 3.5 * 3600, "the trend shows the worst case"
    assert (row["resources"], row["resources_passed"]) == (2, 2)


def test_history_json_is_machine_readable(tmp_path: Path) -> None:
    _two_drills(tmp_path)
    data = json.loads(history_json(load_history(tmp_path, "demo")))
    assert [d["verdict"] for d in data["drills"]] == ["PASS", "PASS"]
    assert data["drills"][0]["rto_target_minutes"] == 240
