"""Our checkov checks (policies/checks/), tested as checkov tests its own: each check runs over its
fixture plan (tests/policies/fixtures/<CHECK_ID>/plan.json) and the exact sets of passing and failing
resources are asserted. Resources named `pass*` must pass, `fail*` must fail, and any other name must
produce no result (for example an egress rule given to the ingress check).

checkov runs once per session, as a subprocess from its own environment (.venv-checkov/), over every
fixture directory, with only our checks enabled.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from scripts.checkov_runner import OFFLINE_ENV
from tests.policies.checks_support import (
    CHECKS_DIR,
    FIXTURES_DIR,
    all_check_ids,
    check_files,
    read_check,
)
from tests.scripts.gate_support import CHECKOV, needs_checkov

SECTION = re.compile(r"164\.3\d\d(?:\([a-zA-Z0-9]+\))+")
CHECK_IDS = all_check_ids()

Results = dict[str, dict[str, set[str]]]  # check id -> "passed"/"failed" -> resource names


def _checkov() -> str:
    return os.environ.get("MEDSPA_CHECKOV") or str(CHECKOV)


@pytest.fixture(scope="session")
def fixture_results() -> Results:
    """Run checkov once over all fixtures; keep each check's results on its own fixture only."""
    completed = subprocess.run(
        [
            _checkov(),
            "-d",
            str(FIXTURES_DIR),
            "--framework",
            "terraform_plan",
            "--skip-download",
            "--external-checks-dir",
            str(CHECKS_DIR),
            "-o",
            "json",
            "-c",
            ",".join(CHECK_IDS),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **OFFLINE_ENV},
        cwd=FIXTURES_DIR,
        timeout=600,
        check=False,
    )
    assert completed.returncode in (0, 1), f"checkov failed: {completed.stderr[-2000:]}"
    document: Any = json.loads(completed.stdout)
    reports = document if isinstance(document, list) else [document]
    results: Results = defaultdict(lambda: {"passed": set(), "failed": set()})
    for report in reports:
        for key, status in (("passed_checks", "passed"), ("failed_checks", "failed")):
            for result in report["results"][key]:
                fixture = Path(result["file_path"].lstrip("/")).parts[0]
                if fixture == result["check_id"]:
                    results[result["check_id"]][status].add(result["resource"].rsplit(".", 1)[-1])
    return results


def _fixture_names(check_id: str) -> set[str]:
    plan = json.loads((FIXTURES_DIR / check_id / "plan.json").read_text())
    return {r["name"] for r in plan["planned_values"]["root_module"]["resources"]}


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_every_check_has_a_fixture_with_pass_and_fail(check_id: str) -> None:
    names = _fixture_names(check_id)
    assert "pass" in names and "fail" in names, f"{check_id}: fixture needs resources `pass` and `fail`"


@needs_checkov
@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_passes_exactly_the_pass_resources(check_id: str, fixture_results: Results) -> None:
    expected = {n for n in _fixture_names(check_id) if n.startswith("pass")}
    assert fixture_results[check_id]["passed"] == expected, f"{check_id}: passing set"


@needs_checkov
@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_fails_exactly_the_fail_resources(check_id: str, fixture_results: Results) -> None:
    expected = {n for n in _fixture_names(check_id) if n.startswith("fail")}
    assert fixture_results[check_id]["failed"] == expected, f"{check_id}: failing set"


def test_there_are_checks() -> None:
    assert len(CHECK_IDS) >= 16, f"expected our 16+ checks, found {CHECK_IDS}"


@pytest.mark.parametrize("path", check_files(), ids=lambda p: p.name)
def test_each_file_defines_exactly_one_check(path: Path) -> None:
    source = read_check(path)
    assert len(source.classes) == 1, f"{path.name}: one check class per file, found {source.classes}"
    assert source.instances == source.classes, f"{path.name}: needs module-level `check = {source.classes}()`"
    assert len(source.ids) == 1, f"{path.name}: one id, found {source.ids}"
    assert re.fullmatch(r"CKV_MEDSPA_\d+", source.ids[0]), (
        f"{path.name}: id {source.ids[0]} not CKV_MEDSPA_<n>"
    )


def test_check_ids_are_unique() -> None:
    duplicates = {i for i in CHECK_IDS if CHECK_IDS.count(i) > 1}
    assert not duplicates, f"duplicate check ids: {sorted(duplicates)}"


@pytest.mark.parametrize("path", check_files(), ids=lambda p: p.name)
def test_guideline_names_a_hipaa_section(path: Path) -> None:
    guideline = read_check(path).guideline
    assert SECTION.search(guideline), f"{path.name}: guideline must name a section such as 164.312(b)"


def test_fixtures_belong_to_existing_checks() -> None:
    orphans = {p.name for p in FIXTURES_DIR.iterdir() if p.is_dir()} - set(CHECK_IDS)
    assert not orphans, f"fixtures for checks that do not exist: {sorted(orphans)}"


def test_checks_dir_is_a_package_so_checkov_loads_it() -> None:
    assert (CHECKS_DIR / "__init__.py").is_file(), "checkov skips a checks dir without __init__.py"
