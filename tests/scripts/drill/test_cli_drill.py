"""`medspa drill`: exit codes (0 PASS, 1 FAIL, 2 bad input), one-line errors, `--history`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scripts.cli import app
from scripts.drill.evidence import write_evidence
from tests.scripts.drill.records import record

runner = CliRunner()


def _assert_bad_input(args: list[str], fragment: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, f"{args}: bad input must exit 2, got {result.exit_code}: {result.output}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, f"{args}: one error line: {result.stderr}"
    assert fragment in lines[0], f"{args}: error should say {fragment!r}: {lines[0]}"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["drill", "demo", "--resource", "disk"], "--resource must be database or bucket"),
        (["drill", "demo", "--cleanup", "--local"], "--cleanup and --local cannot be combined"),
        (["drill", "demo", "--history", "--upload"], "--history cannot be combined with --upload"),
        (
            ["drill", "demo", "--cleanup", "--resource", "bucket"],
            "--cleanup cannot be combined with --resource",
        ),
        (["drill", "demo", "--local", "--upload"], "emulator evidence is never uploaded"),
        (["drill", "demo", "--local", "--from-dr-region"], "--local seeds the primary region only"),
        (["drill", "demo", "--timeout-minutes", "0"], "--timeout-minutes must be 1 to 1440"),
        (["drill", "nowhere", "--history"], "no stack file Pulumi.nowhere.yaml"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], fragment: str) -> None:
    _assert_bad_input(args, fragment)


def test_without_credentials_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere: the drill refuses before touching AWS, never with a traceback."""
    for key in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    _assert_bad_input(["drill", "demo", "--report-dir", str(tmp_path)], "no AWS credentials found")
    assert list(tmp_path.glob("*.json")) == [], "no evidence for a drill that never started"


def test_history_of_empty_dir_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["drill", "demo", "--history", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "no drills recorded for demo" in result.stdout


def test_history_lists_recorded_drills(tmp_path: Path) -> None:
    write_evidence(record(), tmp_path)
    result = runner.invoke(app, ["drill", "demo", "--history", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "d20261123t101500z-a1b2c3" in result.stdout and "PASS" in result.stdout


def test_history_json(tmp_path: Path) -> None:
    write_evidence(record(), tmp_path)
    result = runner.invoke(app, ["drill", "demo", "--history", "--json", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [d["drill_id"] for d in json.loads(result.stdout)["drills"]] == ["d20261123t101500z-a1b2c3"]
