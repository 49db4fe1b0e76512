"""Where the project's files live, so the CLI works from any directory."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def stacks_dir() -> Path:
    """`MEDSPA_STACKS_DIR` when set (tests, a contractor's own repo), else the bundled stacks/."""
    override = os.environ.get("MEDSPA_STACKS_DIR")
    return Path(override) if override else REPO_ROOT / "stacks"


def stack_source(spa: str) -> str:
    """Where a spa's findings point in code scanning: its stack file, relative to the repo."""
    return f"stacks/Pulumi.{spa}.yaml"
