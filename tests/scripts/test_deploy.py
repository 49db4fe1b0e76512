"""`medspa preview|up|destroy`: no Pulumi CLI is exit 2, the gate guards `up`, destroy says what stays."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from scripts import cli, deploy, paths
from scripts.synth import Synthesis
from tests.scripts.gate_support import medspa

runner = CliRunner()
REASON = "The clinic opens Monday; the WAF finding is fixed in next week's change window."
FAILING = deploy.GateOutcome(ok=False, failed_check_ids=("CKV_AWS_18", "CKV_MEDSPA_7"), summary="FAIL")
PASSING = deploy.GateOutcome(ok=True, failed_check_ids=(), summary="PASS")


class FakeStack:
    """Stands in for pulumi.automation.Stack and records each call (no CLI, no cloud)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def preview(self, **kwargs: Any) -> None:
        self.calls.append(("preview", kwargs))

    def up(self, **kwargs: Any) -> None:
        self.calls.append(("up", kwargs))

    def destroy(self, **kwargs: Any) -> None:
        self.calls.append(("destroy", kwargs))


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the bundled stacks, so risk records never land in the repository."""
    directory = tmp_path / "stacks"
    shutil.copytree(paths.REPO_ROOT / "stacks", directory, ignore=shutil.ignore_patterns(".*"))
    monkeypatch.setenv("MEDSPA_STACKS_DIR", str(directory))
    return directory


@pytest.fixture
def fake_stack(monkeypatch: pytest.MonkeyPatch) -> FakeStack:
    """A `pulumi` on PATH and an automation stack that records calls instead of running the CLI."""
    stack = FakeStack()
    monkeypatch.setattr(deploy.shutil, "which", lambda name: f"/opt/pulumi/bin/{name}")
    monkeypatch.setattr(deploy, "open_stack", lambda spa, config_path: stack)
    monkeypatch.setattr(deploy, "checkov_available", lambda: True)
    return stack


def invoke(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(cli.app, list(args), input=stdin)


def assert_one_line(result: Result, code: int, fragment: str) -> str:
    assert result.exit_code == code, f"expected exit {code}, got {result.exit_code}: {result.output}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {result.stderr!r}"
    assert "Traceback" not in result.output
    assert fragment in lines[0], f"error should mention {fragment!r}: {lines[0]}"
    return lines[0]


# --------------------------------------------------------------------------- no Pulumi CLI on PATH


@pytest.mark.parametrize("command", ["preview", "up", "destroy"])
def test_without_the_pulumi_cli_exit_2_with_how_to_install(
    command: str, stacks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("pulumi") is None
    result = invoke(command, "demo")
    assert_one_line(result, 2, "https://www.pulumi.com/docs/install/")


def test_preview_without_pulumi_in_a_real_process_is_one_line(tmp_path: Path) -> None:
    result = medspa("preview", "demo", env={"PATH": str(tmp_path)})
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "pulumi.com/docs/install" in lines[0]


def test_invalid_stack_is_exit_2_and_runs_nothing(stacks: Path, fake_stack: FakeStack) -> None:
    assert_one_line(invoke("preview", "nosuchspa"), 2, "no stack file")
    assert fake_stack.calls == []


# ------------------------------------------------------------------------------------------ preview


def test_preview_drives_the_stack_with_the_spa_stack_file(stacks: Path, fake_stack: FakeStack) -> None:
    result = invoke("preview", "demo")
    assert result.exit_code == 0, result.output
    assert [name for name, _ in fake_stack.calls] == ["preview"]
    assert fake_stack.calls[0][1]["config_file"] == str(stacks / "Pulumi.demo.yaml")


def test_pulumi_errors_are_one_line_exit_1(
    stacks: Path, fake_stack: FakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi.automation._cmd import CommandResult
    from pulumi.automation.errors import CommandError

    def broken(**kwargs: Any) -> None:
        raise CommandError(
            CommandResult("", "Previewing update (demo):\nerror: no credentials found\nmore detail\n", 255)
        )

    monkeypatch.setattr(fake_stack, "preview", broken)
    line = assert_one_line(invoke("preview", "demo"), 1, "no credentials found")
    assert line.startswith("medspa: error: pulumi preview demo failed")


# ----------------------------------------------------------------------------------------------- up


def test_up_refuses_a_failing_gate_and_deploys_nothing(
    stacks: Path, fake_stack: FakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy, "run_gate", lambda spa, console=None: FAILING)
    line = assert_one_line(invoke("up", "demo", "--yes"), 1, "CKV_AWS_18, CKV_MEDSPA_7")
    assert "medspa check demo" in line, "the refusal must say how to see the report"
    assert fake_stack.calls == [], "a failing gate must deploy nothing (164.308(a)(1)(ii)(B))"
    assert not (stacks / ".risk-acceptances").exists()


def test_up_with_accepted_risk_records_the_reason_in_history_and_jsonl(
    stacks: Path, fake_stack: FakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy, "run_gate", lambda spa, console=None: FAILING)
    monkeypatch.setattr(deploy, "caller_identity", lambda: "contractor@it.example")
    result = invoke("up", "demo", "--yes", "--accept-risk", REASON)
    assert result.exit_code == 0, result.output
    assert [name for name, _ in fake_stack.calls] == ["up"]
    message = fake_stack.calls[0][1]["message"]
    assert REASON in message and "CKV_AWS_18" in message and "contractor@it.example" in message, (
        f"the update message (stack history) must carry who, the failing checks and the reason: {message}"
    )
    lines = (stacks / ".risk-acceptances" / "demo.jsonl").read_text().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["reason"] == REASON
    assert entry["failing_checks"] == ["CKV_AWS_18", "CKV_MEDSPA_7"]
    assert entry["who"] == "contractor@it.example"
    assert entry["when"].endswith("+00:00")


def test_risk_acceptances_append(
    stacks: Path, fake_stack: FakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy, "run_gate", lambda spa, console=None: FAILING)
    for _ in range(2):
        assert invoke("up", "demo", "--yes", "--accept-risk", REASON).exit_code == 0
    assert len((stacks / ".risk-acceptances" / "demo.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize("reason", ["ok", "fix later", "   short reason     "])
def test_accept_risk_needs_a_real_sentence(
    reason: str, stacks: Path, fake_stack: FakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy, "run_gate", lambda spa, console=None: FAILING)
    assert_one_line(invoke("up", "demo", "--yes", "--accept-risk", reason), 2, "at least 20 characters")
    assert fake_stack.calls == []
    assert not (stacks / ".risk-acceptances").exists()


def test_up_with_a_passing_gate_deploys_with_a_plain_message(
    stacks: Path, fake_stack: FakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy, "run_gate", lambda spa, console=None: PASSING)
    result = invoke("up", "demo", "--yes")
    assert result.exit_code == 0, result.output
    assert fake_stack.calls[0][1]["message"] == "medspa up demo: policy gate passed"
    assert not (stacks / ".risk-acceptances").exists(), "nothing to record when no risk was accepted"


def test_up_asks_for_confirmation_and_a_no_deploys_nothing(
    stacks: Path, fake_stack: FakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy, "run_gate", lambda spa, console=None: PASSING)
    assert_one_line(invoke("up", "demo", stdin="n\n"), 2, "nothing deployed")
    assert fake_stack.calls == []


def test_up_without_checkov_refuses_because_the_gate_cannot_run(
    stacks: Path, fake_stack: FakeStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(deploy, "checkov_available", lambda: False)
    assert_one_line(invoke("up", "demo", "--yes"), 2, "bootstrap.py")
    assert fake_stack.calls == []


def test_caller_falls_back_to_user_when_git_has_no_email(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_git(*args: Any, **kwargs: Any) -> Any:
        raise FileNotFoundError("git")

    monkeypatch.setattr(deploy.subprocess, "run", no_git)
    monkeypatch.setenv("USER", "contractor")
    assert deploy.caller_identity() == "contractor"


# ------------------------------------------------------------------------------------------ destroy


# Stateless network resources the program creates: destroy deletes them, so they are never listed as kept.
DELETED_BY_DESTROY = ("aws:ec2/vpc:Vpc", "aws:ec2/securityGroup:SecurityGroup")


def test_destroy_lists_the_stores_that_stay_and_not_the_network(
    stack_synthesis: Synthesis, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.config import load_stack

    monkeypatch.setattr("scripts.synth.synthesize", lambda config: stack_synthesis)
    kept = deploy.kept_resources(load_stack(paths.REPO_ROOT / "stacks", stack_synthesis.spa))
    assert kept, f"{stack_synthesis.spa}: PHI, audit and backup stores must be protected (164.316(b)(2)(i))"
    kinds = {k.type for k in kept}
    for kind in ("aws:s3/bucket:Bucket", "aws:rds/instance:Instance", "aws:kms/key:Key"):
        assert kind in kinds, f"{stack_synthesis.spa}: destroy must say that {kind} resources stay"
    for kind in DELETED_BY_DESTROY:
        synthesized = stack_synthesis.of_type(kind)
        assert synthesized, (
            f"{stack_synthesis.spa}: the synthesis must hold a {kind} for this check to mean anything"
        )
        listed = [k.name for k in kept if k.type == kind]
        assert listed == [], (
            f"{stack_synthesis.spa}: {kind} {listed} is not protected and is deleted by destroy; "
            "listing it as remaining would mislead the operator (164.310(d)(2)(iv))"
        )


def test_destroy_explains_what_stays_and_requires_the_spa_name(
    stack_synthesis: Synthesis, stacks: Path, fake_stack: FakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.config import load_stack

    monkeypatch.setattr("scripts.synth.synthesize", lambda config: stack_synthesis)
    monkeypatch.setattr(cli, "console", Console(width=400))
    spa = stack_synthesis.spa
    result = invoke("destroy", spa, stdin="not-the-name\n")
    assert_one_line(result, 2, "does not match")
    assert fake_stack.calls == [], "a wrong name must destroy nothing"
    kept = deploy.kept_resources(load_stack(stacks, spa))
    assert kept, f"{spa}: PHI, audit and backup stores must be protected (164.316(b)(2)(i))"
    for item in kept:
        assert item.name in result.stdout, (
            f"{spa}: {item.type} {item.name}: destroy must list it as remaining"
        )
    for section in ("164.316(b)(2)(i)", "164.310(d)(2)(iv)", "Vault Lock", "pulumi state unprotect"):
        assert section in result.stdout, f"destroy must explain why resources stay ({section})"


def test_destroy_after_the_name_runs_with_exclude_protected(
    stack_synthesis: Synthesis, stacks: Path, fake_stack: FakeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scripts.synth.synthesize", lambda config: stack_synthesis)
    spa = stack_synthesis.spa
    result = invoke("destroy", spa, stdin=f"{spa}\n")
    assert result.exit_code == 0, result.output
    assert [name for name, _ in fake_stack.calls] == ["destroy"]
    assert fake_stack.calls[0][1]["exclude_protected"] is True, (
        "destroy must leave protected PHI, audit and backup resources in place (164.316(b)(2)(i))"
    )
