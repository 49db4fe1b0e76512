"""`medspa synth`: the CLI contract (exit 0 / 2, one-line errors, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scripts import paths

DEMO_TEXT = (paths.stacks_dir() / "Pulumi.demo.yaml").read_text()


def _medspa(*args: str, stacks: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if stacks is not None:
        env["MEDSPA_STACKS_DIR"] = str(stacks)
    return subprocess.run(
        [sys.executable, "-m", "scripts.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def _assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, f"bad input must exit 2, got {result.returncode}: {result.stderr}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {result.stderr}"
    assert "Traceback" not in result.stderr
    assert fragment in lines[0], f"error should mention {fragment!r}: {lines[0]}"


def test_synth_demo_succeeds() -> None:
    result = _medspa("synth", "demo")
    assert result.returncode == 0, result.stderr
    assert "aws:kms/key:Key" in result.stdout


def test_unknown_spa_exits_2(tmp_path: Path) -> None:
    _assert_one_line_error(_medspa("synth", "nowhere", stacks=tmp_path), "no stack file Pulumi.nowhere.yaml")


def test_malformed_yaml_exits_2(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  medspa:officeCidrs: [\n")
    _assert_one_line_error(_medspa("synth", "broken", stacks=tmp_path), "malformed YAML")


def test_world_open_cidr_exits_2_naming_key_and_value(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.open.yaml").write_text(DEMO_TEXT.replace("203.0.113.0/24", "0.0.0.0/0"))
    _assert_one_line_error(_medspa("synth", "open", stacks=tmp_path), "medspa:officeCidrs: '0.0.0.0/0'")


def test_typo_key_exits_2(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.typo.yaml").write_text(DEMO_TEXT.replace("medspa:dbMultiAz", "medspa:dbMultiAZ"))
    _assert_one_line_error(_medspa("synth", "typo", stacks=tmp_path), "medspa:dbMultiAZ: unknown key")


def test_unwritable_output_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "plan.json"
    _assert_one_line_error(_medspa("synth", "demo", "-o", str(target)), "cannot write")
