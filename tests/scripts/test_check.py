"""`medspa check`: parsing checkov, merging plan checks and skips, HIPAA mapping, exit codes 0 / 1 / 2."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scripts import check as gate
from scripts import paths
from scripts.catalog import default_catalog
from scripts.checkov_runner import CheckovFailed, CheckovResult, checkov_executable, parse_results
from scripts.cli import app
from scripts.errors import BadInput
from tests.scripts.gate_support import (
    PLAN_DEMO,
    assert_one_line_error,
    load_fixture,
    medspa,
    needs_checkov,
)


@dataclass(frozen=True)
class _Finding:
    check_id: str
    check_name: str
    status: str
    address: str
    message: str


class _AlarmsExist:
    """A stand-in whole-plan check (the real ones live in policies/plan_checks/)."""

    id = "CKV_MEDSPA_PLAN_TEST"
    name = "Security alarms exist"
    hipaa = ("164.308(a)(6)(ii)",)

    def run(self, plan: dict[str, Any]) -> list[_Finding]:
        return [_Finding(self.id, self.name, "failed", "plan", "no security alarm in the plan")]


@pytest.fixture
def no_plan_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate, "_plan_checks", lambda: ())


@pytest.fixture
def no_skips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(gate, "SKIPS_PATH", tmp_path / "absent-skips.yaml")


def _prepared(spa: str = "demo") -> gate.PreparedPlan:
    plan = json.loads(PLAN_DEMO.read_text())
    return gate.PreparedPlan(
        spa=spa, source=gate.stack_source(spa), resources=gate.resource_index(plan), plan_findings=()
    )


def _results(name: str) -> list[CheckovResult]:
    return parse_results(load_fixture(name))


# ----------------------------------------------------------------------------------- parsing checkov


def test_parse_one_plan_reports_passed_and_failed_per_resource() -> None:
    results = _results("checkov_one_plan.json")
    assert {r.status for r in results} == {"passed", "failed"}
    failed = {(r.check_id, r.address) for r in results if r.status == "failed"}
    assert ("CKV_AWS_24", "aws_security_group.admin") in failed, "SSH open to the world must fail"
    assert {r.file for r in results} == {"demo"}, "the plan file name is the spa"


def test_parse_several_plans_keeps_results_per_file() -> None:
    results = _results("checkov_two_plans.json")
    rotation = {r.file: r.status for r in results if r.check_id == "CKV_AWS_7"}
    assert rotation == {"demo": "passed", "other": "failed"}, "CKV_AWS_7 (164.312(a)(2)(iv)) per plan file"


def test_parse_bare_summary_means_nothing_checked() -> None:
    assert parse_results({"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0}) == []


def test_parse_list_of_reports_reads_only_terraform_plan() -> None:
    document = [{"check_type": "secrets", "results": {"failed_checks": [{"check_id": "CKV_SECRET_2"}]}}]
    document.append(load_fixture("checkov_one_plan.json"))
    assert all(r.check_id != "CKV_SECRET_2" for r in parse_results(document))


def test_parse_errors_in_a_plan_are_not_a_silent_pass() -> None:
    document = {"check_type": "terraform_plan", "results": {"parsing_errors": ["/scan/plans/demo.json"]}}
    with pytest.raises(CheckovFailed, match=r"demo\.json"):
        parse_results(document)


def test_missing_checkov_is_bad_input(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDSPA_CHECKOV", str(tmp_path / "no-checkov"))
    with pytest.raises(BadInput, match=r"checkov is not installed; run python3 bootstrap\.py"):
        checkov_executable()


# -------------------------------------------------------------------------------------------- merge


def test_merge_maps_findings_to_hipaa_sections_and_severity() -> None:
    report = gate.merge([_prepared()], _results("checkov_one_plan.json"), default_catalog(), {})
    ssh = next(f for f in report.findings if f.check_id == "CKV_AWS_24")
    assert ssh.status == "failed"
    assert "164.312(a)(1)" in ssh.hipaa, "world-open SSH is an access-control failure, 164.312(a)(1)"
    assert ssh.severity == "HIGH"


def test_merge_takes_urn_and_pulumi_name_from_the_plan() -> None:
    report = gate.merge([_prepared()], _results("checkov_one_plan.json"), default_catalog(), {})
    key = next(f for f in report.findings if f.address == "module.keys.aws_kms_key.keys_data")
    assert key.urn == "urn:pulumi:demo::medspa::medspa:keys:Keys$aws:kms/key:Key::keys-data"
    assert key.pulumi_name == "keys-data"


def test_merge_urn_is_none_without_pulumi_urn() -> None:
    report = gate.merge([_prepared()], _results("checkov_one_plan.json"), default_catalog(), {})
    bare = [f for f in report.findings if f.address == "aws_sns_topic.bare"]
    assert bare, "the fixture's bare topic must be checked"
    assert all(f.urn is None for f in bare)


def test_merge_shows_a_skipped_check_with_its_reason() -> None:
    reason = (
        "S3 cross-region replication is covered by AWS Backup's cross-region copy (164.308(a)(7)(ii)(B))."
    )
    report = gate.merge(
        [_prepared()],
        _results("checkov_one_plan.json"),
        default_catalog(),
        {"CKV_AWS_144": gate.Skip(reason)},
    )
    skipped = [f for f in report.findings if f.check_id == "CKV_AWS_144"]
    assert skipped, "a skipped check must still appear in the report"
    assert {f.status for f in skipped} == {"skipped"}
    assert {f.message for f in skipped} == {reason}


def test_scoped_skip_covers_only_the_named_resources() -> None:
    results = _results("checkov_one_plan.json")
    skipped_address = "aws_s3_bucket.phi_documents"
    other = next(r for r in results if r.check_id == "CKV_AWS_144" and r.address == skipped_address)
    twin = dataclasses.replace(other, address="aws_s3_bucket.phi_twin")
    skip = gate.Skip("Covered by AWS Backup's cross-region copy.", resources=(skipped_address,))
    report = gate.merge([_prepared()], [*results, twin], default_catalog(), {"CKV_AWS_144": skip})
    status = {f.address: f.status for f in report.findings if f.check_id == "CKV_AWS_144"}
    assert status[skipped_address] == "skipped", f"{skipped_address}: the scoped skip must apply"
    assert status["aws_s3_bucket.phi_twin"] == "failed", "a resource outside the scope must still fail"


def test_skip_pattern_matches_the_pulumi_name() -> None:
    skip = gate.Skip("Reason.", resources=("*-access-logs",))
    assert skip.covers("module.storage.aws_s3_bucket.storage_access_logs", "storage-access-logs")
    assert not skip.covers("module.storage.aws_s3_bucket.storage_photos", "storage-photos")


def test_skips_file_with_unknown_key_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "skips.yaml"
    path.write_text("- id: CKV_AWS_144\n  reason: Covered elsewhere.\n  resource: [x]\n")
    with pytest.raises(BadInput, match="unknown keys"):
        gate.load_skips(path)


def test_skips_file_listing_an_id_twice_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "skips.yaml"
    path.write_text("- {id: CKV_AWS_144, reason: One.}\n- {id: CKV_AWS_144, reason: Two.}\n")
    with pytest.raises(BadInput, match="listed twice"):
        gate.load_skips(path)


def test_merge_includes_plan_check_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate, "_plan_checks", lambda: (_AlarmsExist(),))
    prepared = _prepared()
    prepared = gate.PreparedPlan(
        prepared.spa,
        prepared.source,
        prepared.resources,
        gate.run_plan_checks(json.loads(PLAN_DEMO.read_text())),
    )
    report = gate.merge([prepared], [], default_catalog(), {})
    (finding,) = report.findings
    assert (finding.check_id, finding.status, finding.address, finding.urn) == (
        "CKV_MEDSPA_PLAN_TEST",
        "failed",
        "plan",
        None,
    )
    assert finding.guideline == "HIPAA 164.308(a)(6)(ii): Security alarms exist"


def test_summary_counts_resources_and_statuses() -> None:
    report = gate.merge([_prepared()], _results("checkov_one_plan.json"), default_catalog(), {})
    assert report.summary() == {"resources": 4, "passed": 12, "failed": 11, "skipped": 0}
    assert not report.ok


def test_messages_are_one_line() -> None:
    reason = "First line.\n  Second line covers the risk."
    report = gate.merge(
        [_prepared()], _results("checkov_one_plan.json"), default_catalog(), {"CKV_AWS_18": gate.Skip(reason)}
    )
    assert all("\n" not in f.message for f in report.findings)


# -------------------------------------------------------------------------------------------- inputs


def test_skips_file_without_reason_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "skips.yaml"
    path.write_text("- id: CKV_AWS_144\n")
    with pytest.raises(BadInput, match="entry #1 needs an id and a reason"):
        gate.load_skips(path)


def test_spa_comes_from_the_urn() -> None:
    assert gate.spa_from_urns(["urn:pulumi:clinic-a::medspa::aws:s3/bucket:Bucket::x"], "file") == "clinic-a"
    assert gate.spa_from_urns([None], "plan") == "plan"


def test_plan_with_no_resources_is_bad_input(tmp_path: Path) -> None:
    plan: dict[str, Any] = {"planned_values": {"root_module": {"resources": []}}}
    with pytest.raises(BadInput, match="no resources"):
        gate.prepare_plan("demo", plan, tmp_path, source="stacks/Pulumi.demo.yaml")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["check", "nowhere"], "no stack file Pulumi.nowhere.yaml"),
        (["check"], "name one or more spas, --all"),
        (["check", "demo", "--plan", "x.json"], "--plan checks a file; do not also name spas"),
        (["check", "--plan", "a.json", "--from-state", "b.json"], "give only one of --plan, --from-state"),
        (["check", "demo", "--format", "xml"], "--format must be one of table, json, sarif, junit"),
        (["check", "--plan", "does-not-exist.json"], "cannot read does-not-exist.json"),
        (["check", "--all", "demo"], "give spa names or --all, not both"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], fragment: str) -> None:
    assert_one_line_error(medspa(*args), fragment)


def test_malformed_plan_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert_one_line_error(medspa("check", "--plan", str(path)), "malformed JSON at line 1")


def test_plan_file_without_planned_values_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"resources": []}')
    assert_one_line_error(medspa("check", "--plan", str(path)), "no planned_values.root_module")


def test_empty_preview_on_stdin_exits_2() -> None:
    assert_one_line_error(medspa("check", "--from-preview", "-", stdin=""), "stdin: empty input")


def test_missing_checkov_exits_2_naming_bootstrap(tmp_path: Path) -> None:
    result = medspa("check", "--plan", str(PLAN_DEMO), env={"MEDSPA_CHECKOV": str(tmp_path / "none")})
    assert_one_line_error(result, "checkov is not installed; run python3 bootstrap.py")


# ------------------------------------------------------------------------------- exit codes, end to end


def _fake_checkov(results: list[CheckovResult]) -> Any:
    def run(plans_dir: Path, **_: Any) -> list[CheckovResult]:
        assert sorted(p.name for p in plans_dir.iterdir()) == ["demo.json"], "one plan file per spa"
        return results

    return run


def test_exit_0_when_everything_passes(
    monkeypatch: pytest.MonkeyPatch, no_plan_checks: None, no_skips: None
) -> None:
    passed = [r for r in _results("checkov_one_plan.json") if r.status == "passed"]
    monkeypatch.setattr(gate, "run_checkov", _fake_checkov(passed))
    result = CliRunner().invoke(app, ["check", "--plan", str(PLAN_DEMO), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["failed"] == 0


def test_exit_1_when_a_check_fails(
    monkeypatch: pytest.MonkeyPatch, no_plan_checks: None, no_skips: None
) -> None:
    monkeypatch.setattr(gate, "run_checkov", _fake_checkov(_results("checkov_one_plan.json")))
    result = CliRunner().invoke(app, ["check", "--plan", str(PLAN_DEMO), "--format", "json"])
    assert result.exit_code == 1, result.output


def test_exit_1_when_only_a_plan_check_fails(monkeypatch: pytest.MonkeyPatch, no_skips: None) -> None:
    monkeypatch.setattr(gate, "_plan_checks", lambda: (_AlarmsExist(),))
    passed = [r for r in _results("checkov_one_plan.json") if r.status == "passed"]
    monkeypatch.setattr(gate, "run_checkov", _fake_checkov(passed))
    result = CliRunner().invoke(app, ["check", "--plan", str(PLAN_DEMO), "--format", "json"])
    assert result.exit_code == 1, "an absent security alarm (164.308(a)(6)(ii)) must fail the gate"


def test_skips_turn_every_failure_into_a_visible_skip(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_plan_checks: None
) -> None:
    results = _results("checkov_one_plan.json")
    failing = sorted({r.check_id for r in results if r.status == "failed"})
    skips = tmp_path / "skips.yaml"
    skips.write_text(
        "".join(f"- id: {c}\n  reason: Covered by another control in this test.\n" for c in failing)
    )
    monkeypatch.setattr(gate, "SKIPS_PATH", skips)
    monkeypatch.setattr(gate, "run_checkov", _fake_checkov(results))
    result = CliRunner().invoke(app, ["check", "--plan", str(PLAN_DEMO), "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert summary["skipped"] == sum(r.status == "failed" for r in results)


def test_output_file_gets_the_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_plan_checks: None, no_skips: None
) -> None:
    monkeypatch.setattr(gate, "run_checkov", _fake_checkov(_results("checkov_one_plan.json")))
    target = tmp_path / "report.sarif"
    result = CliRunner().invoke(
        app, ["check", "--plan", str(PLAN_DEMO), "--format", "sarif", "--output", str(target)]
    )
    assert result.exit_code == 1
    assert json.loads(target.read_text())["version"] == "2.1.0"
    assert result.stdout == "", "with --output the report goes to the file only"


# ----------------------------------------------------------------------------------- with real checkov


@needs_checkov
def test_real_checkov_fails_the_fixture_plan(
    monkeypatch: pytest.MonkeyPatch, no_plan_checks: None, no_skips: None
) -> None:
    result = CliRunner().invoke(app, ["check", "--plan", str(PLAN_DEMO), "--format", "json"])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    ssh = [f for f in findings if f["check_id"] == "CKV_AWS_24"]
    assert ssh and ssh[0]["status"] == "failed", "world-open SSH must fail (164.312(a)(1))"
    assert "164.312(a)(1)" in ssh[0]["hipaa"]
    assert any(f["status"] == "passed" for f in findings), "passed findings are part of the JSON report"


@needs_checkov
def test_real_checkov_scans_several_plans_in_one_run(tmp_path: Path) -> None:
    from scripts.checkov_runner import run_checkov

    plans = tmp_path / "plans"
    plans.mkdir()
    plan = json.loads(PLAN_DEMO.read_text())
    (plans / "clinic-a.json").write_text(json.dumps(plan))
    plan["planned_values"]["child_modules"] = []
    plan["planned_values"]["root_module"]["child_modules"][0]["resources"][0]["values"][
        "enable_key_rotation"
    ] = False
    (plans / "clinic-b.json").write_text(json.dumps(plan))
    results = run_checkov(plans)
    rotation = {r.file: r.status for r in results if r.check_id == "CKV_AWS_7"}
    assert rotation == {"clinic-a": "passed", "clinic-b": "failed"}, "CKV_AWS_7 (164.312(a)(2)(iv)) per spa"


@needs_checkov
def test_check_demo_stack_end_to_end() -> None:
    pytest.importorskip(
        "scripts.plan_bridge", reason="the plan bridge (scripts/plan_bridge.py) is not present yet"
    )
    pytest.importorskip(
        "policies.plan_checks", reason="the plan checks (policies/plan_checks/) are not present yet"
    )
    result = medspa("check", "demo", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["resources"] > 0
    assert result.returncode == (1 if document["summary"]["failed"] else 0)


def _fake_prepare_stack(spa: str, stacks_dir: str, plans_dir: str) -> gate.PreparedPlan:
    """Stands in for synthesis + bridge in a pool worker: writes the fixture plan as `<spa>.json`."""
    plan = json.loads(PLAN_DEMO.read_text().replace("urn:pulumi:demo::", f"urn:pulumi:{spa}::"))
    return gate.prepare_plan(spa, plan, Path(plans_dir), source=gate.stack_source(spa))


class _Recorder:
    def __init__(self) -> None:
        self.done: list[str] = []
        self.phases: list[str] = []

    def stack_done(self, spa: str) -> None:
        self.done.append(spa)

    def phase(self, text: str) -> None:
        self.phases.append(text)


def test_several_stacks_use_a_pool_and_one_checkov_run(
    monkeypatch: pytest.MonkeyPatch, no_plan_checks: None, no_skips: None
) -> None:
    runs: list[list[str]] = []
    fixture = _results("checkov_one_plan.json")

    def fake_checkov(plans_dir: Path, **_: Any) -> list[CheckovResult]:
        files = sorted(p.stem for p in plans_dir.iterdir())
        runs.append(files)
        return [
            CheckovResult(r.check_id, r.check_name, r.status, f, r.address, None)
            for f in files
            for r in fixture
        ]

    monkeypatch.setattr(gate, "_prepare_stack", _fake_prepare_stack)
    monkeypatch.setattr(gate, "run_checkov", fake_checkov)
    progress = _Recorder()
    report = gate.check_stacks(["clinic-a", "clinic-b", "clinic-c"], progress=progress)
    assert runs == [["clinic-a", "clinic-b", "clinic-c"]], "checkov starts once for all stacks"
    assert report.spas == ("clinic-a", "clinic-b", "clinic-c")
    assert sorted(progress.done) == ["clinic-a", "clinic-b", "clinic-c"] and len(progress.phases) == 1
    urns = {f.spa: f.urn for f in report.findings if f.pulumi_name == "keys-data"}
    assert urns["clinic-b"] == "urn:pulumi:clinic-b::medspa::medspa:keys:Keys$aws:kms/key:Key::keys-data"


def test_ci_workflow_runs_tests_gate_and_uploads_sarif_even_on_failure() -> None:
    import yaml

    from scripts import paths

    workflow = yaml.safe_load((paths.REPO_ROOT / ".github" / "workflows" / "policy-gate.yml").read_text())
    assert "pull_request" in workflow[True], "the gate runs on pull requests"
    steps = workflow["jobs"]["gate"]["steps"]
    commands = [step.get("run", "") for step in steps]
    assert "python3 bootstrap.py" in commands
    assert ".venv/bin/python -m pytest" in commands
    assert ".venv/bin/medspa check --all --format sarif --output medspa.sarif" in commands
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif"))
    assert "always()" in upload["if"], "SARIF must be uploaded even when the gate fails"


def test_batch_synthesis_does_not_hang_after_an_in_process_synthesis(tmp_path: Path) -> None:
    """A process that already synthesized holds Pulumi's gRPC threads; forking workers from it deadlocked."""
    import shutil
    import subprocess
    import sys

    stacks = tmp_path / "stacks"
    stacks.mkdir()
    for name in ("demo", "demo-copy"):
        shutil.copy(paths.stacks_dir() / "Pulumi.demo.yaml", stacks / f"Pulumi.{name}.yaml")
    script = (
        "import sys; from pathlib import Path\n"
        "from infra.config import load_stack\nfrom scripts import check, paths\n"
        "from scripts.synth import synthesize\n"
        "synthesize(load_stack(paths.stacks_dir(), 'demo'))\n"
        "out = Path(sys.argv[1]); out.mkdir()\n"
        "prepared = check._prepare_stacks(['demo', 'demo-copy'], out, None)\n"
        "print(sorted(p.spa for p in prepared))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "plans")],
        env={**os.environ, "MEDSPA_STACKS_DIR": str(stacks)},
        cwd=paths.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and "['demo', 'demo-copy']" in result.stdout, (
        f"batch synthesis after an in-process synthesis must finish: {result.stderr[-500:]}"
    )


@needs_checkov
def test_prestarted_parallel_scan_gives_the_same_results_as_a_cold_scan(tmp_path: Path) -> None:
    from scripts.checkov_runner import PrestartedCheckov, run_checkov

    plan = json.loads(PLAN_DEMO.read_text())
    cold_dir, warm_dir = tmp_path / "cold", tmp_path / "warm"
    for directory in (cold_dir, warm_dir):
        directory.mkdir()
        for name in ("clinic-a", "clinic-b", "clinic-c"):
            (directory / f"{name}.json").write_text(json.dumps(plan))
    cold = run_checkov(cold_dir)
    with PrestartedCheckov(warm_dir) as prestarted:
        warm = run_checkov(warm_dir, prestarted=prestarted)

    def key(r: CheckovResult) -> tuple[str, str, str, str]:
        return (r.check_id, r.file, r.address, r.status)

    assert sorted(map(key, warm)) == sorted(map(key, cold)), "splitting the scan by file changed results"
    assert {r.file for r in warm} == {"clinic-a", "clinic-b", "clinic-c"}
