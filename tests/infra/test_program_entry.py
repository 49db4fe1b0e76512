"""The program `pulumi up` runs validates config itself and stops with one line, before any resource."""

from __future__ import annotations

import contextvars
import runpy
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config import load_stack, to_pulumi_config
from scripts import paths

ENTRY = str(paths.REPO_ROOT / "infra" / "__main__.py")


class _CountingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.created.append(args.typ)
        return f"{args.name}-id", {**args.inputs, "arn": f"arn:aws:mock:::{args.name}"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return ({"accountId": "123456789012"} if "getCallerIdentity" in args.token else {}), []


def _run_entry(config: dict[str, str], mocks: _CountingMocks | None = None) -> _CountingMocks:
    mocks = mocks if mocks is not None else _CountingMocks()

    def program() -> None:
        runpy.run_path(ENTRY, run_name="__main__")

    def run() -> None:
        pulumi_settings.ROOT.set(None)
        pulumi.runtime.set_all_config(config, [])
        pulumi.runtime.set_mocks(mocks, project="medspa", stack="demo", preview=False)
        _sync_await(run_pulumi_func(program))

    contextvars.copy_context().run(run)
    return mocks


def test_bad_config_stops_the_program_with_a_run_error_naming_the_key() -> None:
    config = to_pulumi_config(load_stack(paths.stacks_dir(), "demo"))
    config["medspa:officeCidrs"] = '["0.0.0.0/0"]'
    with pytest.raises(pulumi.RunError, match=r"medspa:officeCidrs: '0.0.0.0/0' opens access"):
        _run_entry(config)


def test_typo_key_stops_the_program_before_any_resource() -> None:
    config = to_pulumi_config(load_stack(paths.stacks_dir(), "demo"))
    config["medspa:skipInterfaceEndpoint"] = "true"
    mocks = _CountingMocks()
    with pytest.raises(pulumi.RunError, match="unknown key"):
        _run_entry(config, mocks)
    assert mocks.created == [], "no resource may be created from an invalid config"


def test_valid_config_runs_the_program() -> None:
    config = to_pulumi_config(load_stack(paths.stacks_dir(), "demo"))
    mocks = _run_entry(config)
    assert "aws:kms/key:Key" in mocks.created, "the entry point must build the environment"
