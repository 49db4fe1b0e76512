"""Shared helpers for the policy-gate tests: fixtures on disk, the real checkov when installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts import paths

FIXTURES = Path(__file__).parent / "fixtures" / "gate"
PLAN_DEMO = FIXTURES / "plan_demo.json"
CHECKOV = paths.REPO_ROOT / ".venv-checkov" / "bin" / "checkov"

needs_checkov = pytest.mark.skipif(
    not CHECKOV.is_file() and not os.environ.get("MEDSPA_CHECKOV"),
    reason="checkov is not installed in .venv-checkov/ (run python3 bootstrap.py)",
)


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def medspa(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as an operator or CI would."""
    return subprocess.run(
        [sys.executable, "-m", "scripts.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **(env or {})},
        timeout=600,
        cwd=paths.REPO_ROOT,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, f"bad input must exit 2, got {result.returncode}: {result.stderr}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {result.stderr}"
    assert "Traceback" not in result.stderr
    assert fragment in lines[0], f"error should mention {fragment!r}: {lines[0]}"
