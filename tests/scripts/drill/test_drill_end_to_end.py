"""`medspa drill demo --local` end to end: the real engine against the emulator, evidence, history.

This is the path a new user takes first; it must pass, write all three formats with a verifiable
SHA-256 file, and accumulate in `--history` (164.308(a)(7)(ii)(D) evidence of a tested plan).
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from scripts.cli import app
from scripts.drill.evidence import EMULATOR_NOTICE, verify_evidence

runner = CliRunner()


def test_local_demo_drill_passes_writes_evidence_and_shows_in_history(tmp_path: Path) -> None:
    report_dir = tmp_path / "tmp"
    first = runner.invoke(app, ["drill", "demo", "--local", "--report-dir", str(report_dir)])
    assert first.exit_code == 0, f"the demo drill must PASS against the emulator: {first.output}"
    records = sorted(report_dir.glob("*.json"))
    assert len(records) == 1
    stem = records[0].stem
    for suffix in (".json", ".md", ".html"):
        text = (report_dir / f"{stem}{suffix}").read_text(encoding="utf-8")
        assert EMULATOR_NOTICE in text, f"{stem}{suffix}: emulator evidence must say so"
    assert verify_evidence(report_dir / f"{stem}.sha256") == [], "the .sha256 file must verify"
    data = json.loads(records[0].read_text())
    assert data["verdict"] == "PASS" and data["emulator"] is True
    assert {r["kind"] for r in data["resources"]} == {"database", "bucket"}, "database and buckets drilled"

    second = runner.invoke(app, ["drill", "demo", "--local", "--report-dir", str(report_dir)])
    assert second.exit_code == 0, second.output
    history = runner.invoke(app, ["drill", "demo", "--history", "--json", "--report-dir", str(report_dir)])
    assert history.exit_code == 0, history.output
    assert len(json.loads(history.stdout)["drills"]) == 2, "two drills, two rows in --history"
