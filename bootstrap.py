#!/usr/bin/env python3
"""Set up everything on a fresh machine, then run the main job on the bundled demo spa, offline.

Needs only Python 3.11+. Creates `.venv/` (the kit, with `medspa` in `.venv/bin/`) and
`.venv-checkov/` (checkov in its own environment: its pins cannot share one with pulumi's).
Re-running is cheap: an environment whose requirements did not change is not reinstalled.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
KIT_VENV = ROOT / ".venv"
CHECKOV_VENV = ROOT / ".venv-checkov"
CHECKOV_REQUIREMENTS = ROOT / "policies" / "checkov-requirements.txt"
DEMO_SPA = "demo"


def _say(message: str) -> None:
    print(f"[bootstrap] {message}", flush=True)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"[bootstrap] error: {' '.join(command[:4])} ... failed with exit code {result.returncode}")


def _fingerprint(*files: Path) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _ensure_venv(target: Path, install: list[str], inputs: list[Path], label: str) -> None:
    stamp = target / ".medspa-installed"
    wanted = _fingerprint(*inputs)
    if stamp.is_file() and stamp.read_text() == wanted:
        _say(f"{label}: up to date ({target.name}/)")
        return
    if not (target / "bin" / "python").exists():
        _say(f"{label}: creating {target.name}/")
        venv.EnvBuilder(with_pip=True, clear=True).create(target)
    python = str(target / "bin" / "python")
    _say(f"{label}: installing (a minute or two on a fresh machine)")
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *install])
    stamp.write_text(wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="set up only; do not run the demo job")
    args = parser.parse_args()
    if sys.version_info < (3, 11):  # noqa: UP036 - users may run an older python3
        sys.exit("[bootstrap] error: Python 3.11 or newer is required")

    _ensure_venv(KIT_VENV, ["-e", ".[dev]"], [ROOT / "pyproject.toml"], "kit")
    _ensure_venv(CHECKOV_VENV, ["-r", str(CHECKOV_REQUIREMENTS)], [CHECKOV_REQUIREMENTS], "checkov")
    if args.no_run:
        return
    medspa = str(KIT_VENV / "bin" / "medspa")
    # The main job: synthesize the demo spa offline and run the policy gate on it (HIPAA-mapped table).
    _say(f"running: medspa check {DEMO_SPA}")
    _run([medspa, "check", DEMO_SPA])


if __name__ == "__main__":
    main()
