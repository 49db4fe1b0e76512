"""The README promises a new user two commands and a map of the repo; CI must run what it promises."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "README Quick start must hold exactly one fenced sh block"
    return [line.strip() for line in blocks[0].splitlines() if line.strip()]


def test_quick_start_has_exactly_two_commands() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2, f"README Quick start must hold exactly two commands, found {commands}"


def test_ci_runs_both_quick_start_commands() -> None:
    ci_lines = [line.strip() for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()]
    for command in _quick_start_commands():
        assert command in ci_lines, f".ci/run must run the README's Quick start command `{command}`"


def test_every_path_the_readme_names_exists() -> None:
    named = set(
        re.findall(r"`((?:docs|infra|stacks|policies|scripts|tests|benchmarks|\.github)/[^`\s]*)`", README)
    )
    assert named, "README names no repository paths"
    concrete = {path for path in named if "SPA" not in path and "<" not in path}  # placeholders
    missing = sorted(path for path in concrete if not (REPO_ROOT / path).exists())
    assert not missing, f"README names paths that do not exist: {missing}"


def test_every_cli_command_is_in_the_readme() -> None:
    from scripts.cli import app

    names = {
        command.name or command.callback.__name__ for command in app.registered_commands if command.callback
    }
    missing = sorted(name for name in names if f"medspa {name}" not in README and f"|{name}" not in README)
    assert not missing, f"README's command table misses: {missing}"
