"""Run checkov once over a directory of Terraform-plan-shaped JSON files and parse its results.

checkov lives in its own environment (`.venv-checkov/`: its pins cannot share one with pulumi), so it
runs as a subprocess. Starting it costs seconds, so one `medspa check` starts it exactly once, however
many stacks it checks: every plan is written as `<spa>.json` into one directory and scanned with `-d`.
It runs offline: `--skip-download` plus the environment variables that stop checkov's platform
mapping and its package-update check from reaching the network.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scripts import paths
from scripts.errors import BadInput

Status = Literal["passed", "failed", "skipped"]
CHECKS_DIR = paths.REPO_ROOT / "policies" / "checks"
RESULTS_FILE = "results_json.json"
PRESTART_DRIVER = Path(__file__).with_name("checkov_prestart.py")
# checkov scans on one core; the prestarted driver forks this many scanners after its one import.
SCAN_WORKERS = max(1, min(os.cpu_count() or 1, 4))
_STATUS_KEYS: dict[str, Status] = {
    "passed_checks": "passed",
    "failed_checks": "failed",
    "skipped_checks": "skipped",
}
# Offline and quiet: no guideline download, no platform mapping, no PyPI update check, no log noise.
OFFLINE_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
    "LOG_LEVEL": "ERROR",
}


class CheckovFailed(BadInput):
    """checkov itself failed (not a policy failure): reported as one line, exit 2."""


@dataclass(frozen=True)
class CheckovResult:
    """One check on one resource of one plan file."""

    check_id: str
    check_name: str
    status: Status
    file: str
    address: str
    guideline: str | None


def checkov_executable() -> Path:
    """`MEDSPA_CHECKOV` when set, else the repo's own `.venv-checkov/bin/checkov`."""
    override = os.environ.get("MEDSPA_CHECKOV")
    candidate = Path(override) if override else paths.REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        raise BadInput("checkov is not installed; run python3 bootstrap.py")
    return candidate


def checkov_command(plans_dir: Path, output_dir: Path, checks_dir: Path | None = CHECKS_DIR) -> list[str]:
    """The one checkov invocation: every plan in `plans_dir`, built-in checks plus ours, JSON out."""
    command = [
        str(checkov_executable()),
        "-d",
        str(plans_dir),
        "--framework",
        "terraform_plan",
        "--skip-download",
        "-o",
        "json",
        "--compact",
        "--output-file-path",
        str(output_dir),
    ]
    if checks_dir is not None and checks_dir.is_dir():
        if any(checks_dir.glob("*.py")) and not (checks_dir / "__init__.py").is_file():
            # checkov imports external checks as a package; without it, ours would silently not run.
            raise BadInput(f"{checks_dir.name}/ has no __init__.py, so checkov would skip our checks")
        command += ["--external-checks-dir", str(checks_dir)]
    return command


class PrestartedCheckov:
    """checkov started ahead of the scan, importing itself while the caller synthesizes.

    Falls back to a cold start when the checkov environment has no `python` beside `checkov` (a
    `MEDSPA_CHECKOV` override pointing at some other install). Always use it as a context manager: an
    unused or abandoned process is told to give up and then killed.
    """

    def __init__(self, plans_dir: Path) -> None:
        self.plans_dir = plans_dir
        self._process: subprocess.Popen[str] | None = None
        try:
            python = checkov_executable().parent / "python"
        except BadInput:
            return  # the scan itself reports the missing checkov
        if python.is_file() and os.access(python, os.X_OK) and PRESTART_DRIVER.is_file():
            try:
                self._process = subprocess.Popen(
                    [str(python), str(PRESTART_DRIVER)],
                    cwd=plans_dir,
                    env={**os.environ, **OFFLINE_ENV},
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            except OSError:
                self._process = None

    def __enter__(self) -> PrestartedCheckov:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def take(self) -> subprocess.Popen[str] | None:
        """The running process, handed over once; None when there is none (then start cold)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is not None:
            return None  # died early (broken environment): a cold start reports the real error
        return process

    def close(self) -> None:
        """Stop an unused process at once: it is only importing checkov, nothing to lose."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.communicate()


def run_checkov(
    plans_dir: Path,
    *,
    checks_dir: Path | None = CHECKS_DIR,
    timeout: float = 1800,
    prestarted: PrestartedCheckov | None = None,
) -> list[CheckovResult]:
    """Scan every `<name>.json` plan in `plans_dir` in one checkov process and return its results.

    Runs with the plans' directory as working directory so no stray `.checkov.yaml` changes the scan.
    With `prestarted`, the already-imported checkov does the scan; otherwise checkov starts now.
    """
    output_dir = plans_dir.parent / f"{plans_dir.name}-checkov-out"
    output_dir.mkdir(exist_ok=True)
    command = checkov_command(plans_dir, output_dir, checks_dir)
    env = {**os.environ, **OFFLINE_ENV}
    process = prestarted.take() if prestarted is not None else None
    try:
        if process is None:
            process = subprocess.Popen(
                command,
                cwd=plans_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            _, stderr = process.communicate(timeout=timeout)
        else:
            request = {"argv": command[1:], "workers": SCAN_WORKERS}
            _, stderr = process.communicate(json.dumps(request) + "\n", timeout=timeout)
    except subprocess.TimeoutExpired:
        if process is not None:
            process.kill()
            process.wait()
        raise CheckovFailed(f"checkov did not finish within {int(timeout)} s") from None
    except OSError as error:
        raise CheckovFailed(f"cannot start checkov: {error.strerror}") from None
    if process.returncode not in (0, 1):
        raise CheckovFailed(f"checkov failed (exit {process.returncode}): {_last_line(stderr)}")
    results_path = output_dir / RESULTS_FILE
    try:
        document = json.loads(results_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CheckovFailed(f"checkov wrote no readable results ({error}): {_last_line(stderr)}") from None
    return parse_results(document)


def parse_results(document: Any) -> list[CheckovResult]:
    """Parse checkov's `-o json` document: one report dict, a list of them, or a bare summary.

    A bare summary (no `results`) is what checkov prints when nothing was checked; parsing errors in
    a plan we wrote are our bug or a malformed input, never a silent pass.
    """
    reports = document if isinstance(document, list) else [document]
    results: list[CheckovResult] = []
    for report in reports:
        if not isinstance(report, dict):
            raise CheckovFailed("checkov output is not a JSON report")
        if report.get("check_type", "terraform_plan") != "terraform_plan":
            continue
        body = report.get("results") or {}
        parsing_errors = body.get("parsing_errors") or []
        if parsing_errors:
            names = ", ".join(sorted(Path(str(p)).name for p in parsing_errors))
            raise CheckovFailed(f"checkov could not parse plan file(s): {names}")
        for key, status in _STATUS_KEYS.items():
            for item in body.get(key) or []:
                results.append(_result(item, status))
    return results


def _result(item: Mapping[str, Any], status: Status) -> CheckovResult:
    file_path = str(item.get("file_abs_path") or item.get("file_path") or "")
    address = str(item.get("resource_address") or item.get("resource") or "")
    guideline = item.get("guideline")
    return CheckovResult(
        check_id=str(item.get("check_id") or ""),
        check_name=" ".join(str(item.get("check_name") or "").split()),
        status=status,
        file=Path(file_path).stem,
        address=address,
        guideline=str(guideline) if guideline else None,
    )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no error output"
