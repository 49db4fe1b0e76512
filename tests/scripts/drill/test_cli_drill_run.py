"""`medspa drill SPA --local`: the run always writes evidence; PASS exits 0, FAIL and interrupts exit 1.

The engine is replaced by hand-built records here; test_drill_end_to_end.py runs the real one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scripts.cli import app
from scripts.drill import local
from scripts.drill.evidence import verify_evidence
from scripts.drill.model import DrillRecord
from tests.scripts.drill.records import database_result, record

runner = CliRunner()


def _engine_returns(monkeypatch: pytest.MonkeyPatch, result: DrillRecord | BaseException) -> None:
    def fake(config: Any, **_kwargs: Any) -> DrillRecord:
        if isinstance(result, BaseException):
            raise result
        return result

    monkeypatch.setattr(local, "run_local_drill", fake)


def test_pass_exits_0_and_writes_verified_evidence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _engine_returns(monkeypatch, record(emulator=True))
    result = runner.invoke(app, ["drill", "demo", "--local", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    sums = list(tmp_path.glob("*.sha256"))
    assert len(sums) == 1 and verify_evidence(sums[0]) == [], "evidence written and verifiable"
    assert "EMULATOR" in result.stdout, "the operator is told emulator timings mean nothing"


def test_fail_exits_1_with_reasons(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    late = database_result()
    late.reasons.append("RPO 30.0 h exceeds the 24 h target")
    _engine_returns(monkeypatch, record(resources=[late]))
    result = runner.invoke(app, ["drill", "demo", "--local", "--report-dir", str(tmp_path)])
    assert result.exit_code == 1, f"a FAIL verdict must exit 1: {result.output}"
    assert "RPO 30.0 h exceeds the 24 h target" in result.stdout
    data = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert data["verdict"] == "FAIL" and data["failure_reasons"], (
        "the FAIL and its reasons are in the evidence"
    )


def test_interrupt_still_writes_evidence_and_exits_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    interrupt = KeyboardInterrupt()
    interrupt.drill_record = record(reasons=["interrupted"])  # type: ignore[attr-defined]
    _engine_returns(monkeypatch, interrupt)
    result = runner.invoke(app, ["drill", "demo", "--local", "--report-dir", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "interrupted" in result.stderr
    assert json.loads(next(tmp_path.glob("*.json")).read_text())["reasons"] == ["interrupted"]


def test_json_output_is_the_record(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _engine_returns(monkeypatch, record())
    result = runner.invoke(app, ["drill", "demo", "--local", "--json", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["drill_id"] == "d20261123t101500z-a1b2c3" and len(data["evidence"]) == 4
