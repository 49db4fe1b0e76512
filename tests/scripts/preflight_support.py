"""Shared pieces of the preflight tests: fake credentials, moto in-process, stubbed clients.

No test can reach AWS: every AWS_* variable is replaced by fake credentials, the shared config and
credentials files point at an empty file, the instance metadata lookup is off, and each test runs
under moto's ``mock_aws`` or against a botocore Stubber (which answers before anything is sent).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from infra.config import SpaConfig, list_stacks, load_stack
from scripts import paths
from scripts.preflight.model import CheckResult, PreflightContext, QuotaNeeds

FAKE = "testing"
ACCOUNT = "123456789012"  # moto's default account
STACKS = list_stacks(paths.stacks_dir())


@contextmanager
def fake_environment(**extra: str) -> Iterator[None]:
    """Only fake credentials (or none) in the environment; no profile, endpoint or backend of this machine."""
    saved = dict(os.environ)
    try:
        for key in [k for k in os.environ if k.startswith(("AWS_", "PULUMI_"))]:
            del os.environ[key]
        os.environ.update(
            {
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
                **extra,
            }
        )
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": FAKE,
    "AWS_SECRET_ACCESS_KEY": FAKE,
    "AWS_SESSION_TOKEN": FAKE,
}


@pytest.fixture(name="aws")
def aws_fixture() -> Iterator[None]:
    """moto in-process with fake credentials for one test."""
    with fake_environment(**FAKE_CREDENTIALS), mock_aws():
        yield


@pytest.fixture(name="stack_config", params=STACKS, ids=STACKS)
def stack_config_fixture(request: pytest.FixtureRequest) -> SpaConfig:
    """Every bundled stack is a preflight test case too."""
    return load_stack(paths.stacks_dir(), request.param)


def session(region: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id=FAKE, aws_secret_access_key=FAKE, aws_session_token=FAKE, region_name=region
    )


def context(config: SpaConfig, **changes: Any) -> PreflightContext:
    """A context as after a successful credentials check, on moto's account."""
    ctx = PreflightContext(config=config, session=session(config.region), **changes)
    ctx.account_id = ACCOUNT
    ctx.caller_arn = f"arn:aws:iam::{ACCOUNT}:user/contractor"
    return ctx


@contextmanager
def stub(ctx: PreflightContext, service: str, region: str | None = None) -> Iterator[Stubber]:
    """An active Stubber on the context's client for ``service``: the check under test will use it.

    Run the check inside the ``with`` block: on leaving it, every queued answer must have been
    asked for, so a check that stops calling AWS (and passes on a default) fails its test.
    """
    with Stubber(ctx.client(service, region)) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def adopting(config: SpaConfig, **flags: bool) -> SpaConfig:
    return config.model_copy(update=flags)


def only(results: list[CheckResult], item: str) -> CheckResult:
    found = [r for r in results if r.item == item]
    assert len(found) == 1, f"expected one line for {item!r}, got {[r.item for r in results]}"
    return found[0]


NEEDS = QuotaNeeds(vpcs=1, elastic_ips=0, interface_endpoints_per_vpc=7)
