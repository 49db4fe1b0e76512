"""`medspa preflight SPA`: one check's failure never stops the run; exit codes 0 / 1 / 2; the emulator run.

In-process tests use moto's ``mock_aws``; one test starts ``moto_server`` on 127.0.0.1 and points the CLI
at it with ``AWS_ENDPOINT_URL``, as a contractor would point it at an emulator.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.iam.models import iam_backends
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from infra.config import SpaConfig
from scripts import paths
from scripts.cli import app
from scripts.preflight import quotas
from scripts.preflight.model import Check, CheckResult, PreflightContext, Status
from scripts.preflight.runner import run_checks
from tests.conftest import STACKS, synth_stack
from tests.scripts.preflight_support import (
    ACCOUNT,
    FAKE_CREDENTIALS,
    aws_fixture,  # noqa: F401
    context,
    fake_environment,
    stack_config_fixture,  # noqa: F401
)

runner = CliRunner()


@pytest.fixture(autouse=True)
def cached_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI counts quota needs from the spa's synthesis; reuse the session's cached one (same program)."""
    monkeypatch.setattr(
        quotas, "needs_for", lambda config: quotas.needs_from_resources(synth_stack(config.spa).resources)
    )


@pytest.fixture
def no_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Pulumi login of this machine leaks in: an empty PULUMI_HOME."""
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path))


def root_mfa_on() -> None:
    iam_backends[ACCOUNT]["global"].account_summary._account_mfa_enabled = 1


def preflight(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, ["preflight", *args], env=env)


def test_unexpected_client_error_is_a_warn_for_that_item_only(stack_config: SpaConfig) -> None:
    def broken(_: PreflightContext) -> list[CheckResult]:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "DescribeThings"
        )

    def fine(_: PreflightContext) -> list[CheckResult]:
        return [CheckResult("Fine", Status.OK, "ok")]

    checks = (Check("Broken", broken, "look in the console"), Check("Fine", fine, "n/a"))
    results = run_checks(context(stack_config), checks)
    assert [(r.item, r.status) for r in results] == [("Broken", Status.WARN), ("Fine", Status.OK)], (
        f"{results}"
    )
    assert "ThrottlingException" in results[0].detail and "look in the console" in results[0].action, results[
        0
    ]


def test_an_unimplemented_call_is_a_warn_not_a_crash(stack_config: SpaConfig) -> None:
    def emulator(_: PreflightContext) -> list[CheckResult]:
        raise NotImplementedError("The get_thing action has not been implemented")

    results = run_checks(context(stack_config), (Check("Emulated", emulator, "by hand"),))
    assert results[0].status is Status.WARN and "not checked" in results[0].detail, f"{results}"


@pytest.mark.parametrize("spa", STACKS)
def test_a_fail_exits_1(aws: None, no_backend: None, spa: str) -> None:
    """moto's new account has no root MFA (FAIL, 164.312(d))."""
    result = preflight(spa, "--json")
    assert result.exit_code == 1, f"preflight {spa}: a FAIL exits 1, got {result.exit_code}: {result.output}"
    report = json.loads(result.stdout)
    failed = [i["item"] for i in report["items"] if i["status"] == "FAIL"]
    assert failed == ["Root user MFA"], f"preflight {spa}: only root MFA fails on moto's account: {failed}"


@pytest.mark.parametrize("spa", STACKS)
def test_only_ok_and_warn_exits_0(aws: None, no_backend: None, spa: str) -> None:
    root_mfa_on()
    result = preflight(spa, "--json")
    assert result.exit_code == 0, (
        f"preflight {spa}: WARNs alone exit 0, got {result.exit_code}: {result.output}"
    )
    assert json.loads(result.stdout)["ok"] is True, f"preflight {spa}: report says ok"


def test_unknown_spa_exits_2() -> None:
    result = preflight("no-such-spa")
    assert result.exit_code == 2 and "no stack file" in result.stderr, f"preflight: {result.output}"


def test_unknown_profile_exits_2(stack_config: SpaConfig) -> None:
    with fake_environment():
        result = preflight(stack_config.spa, "--profile", "no-such-profile")
    assert result.exit_code == 2 and "no-such-profile" in result.stderr, f"preflight: {result.output}"
    assert "Traceback" not in result.output, "preflight: one line, never a traceback"


def test_no_credentials_exit_1_with_one_clear_line(stack_config: SpaConfig, no_backend: None) -> None:
    with fake_environment():
        result = preflight(stack_config.spa, "--json")
    assert result.exit_code == 1, f"preflight: missing credentials are a FAIL: {result.output}"
    first = json.loads(result.stdout)["items"][0]
    assert (first["item"], first["status"]) == ("Credentials", "FAIL"), f"preflight: {first}"
    assert "no usable AWS credentials" in first["detail"] and "Traceback" not in result.output, first


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def moto_server() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_cli_against_moto_server(moto_server: str, tmp_path: Path) -> None:
    """The whole command in its own process against an emulator, as a contractor would run it.

    Artifact is not emulated, so the BAA line must be a WARN saying how to check by hand, not a crash.
    """
    env = {
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "HOME": str(tmp_path),
        "PULUMI_HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", ""),
    }
    command = [
        sys.executable,
        "-m",
        "scripts.cli",
        "preflight",
        "demo",
        "--json",
        "--backend-url",
        "s3://demo-state-missing",
    ]
    done = subprocess.run(
        command, cwd=paths.REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1, (
        f"preflight demo: root MFA and the missing state bucket fail: {done.stderr[-2000:]}"
    )
    items = {i["item"]: i for i in json.loads(done.stdout)["items"]}
    expected = {
        "Credentials": "OK",
        "Region us-east-1 (primary)": "OK",
        "Region us-west-2 (DR)": "OK",
        "AWS Business Associate Addendum": "WARN",
        "AWS Config recorder": "OK",
        "GuardDuty detector": "OK",
        "Security Hub": "OK",
        "Default VPC (us-east-1)": "WARN",
        "S3 account public access block": "WARN",
        "EBS encryption by default": "WARN",
        "Root user access keys": "OK",
        "Root user MFA": "FAIL",
        "Quota: VPCs per region": "OK",
        "Pulumi state backend": "FAIL",
    }
    got = {name: items.get(name, {}).get("status") for name in expected}
    assert got == expected, f"preflight demo against moto_server: {got}"
    assert "AWS Artifact > Agreements" in items["AWS Business Associate Addendum"]["action"], (
        "BAA (164.308(b)(1)): the WARN says where to check by hand"
    )
