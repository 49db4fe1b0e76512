"""Preflight: credentials, caller identity and regions, with moto and, for refusals, botocore's Stubber.

moto implements sts:GetCallerIdentity, but it always answers with an IAM user (``user/moto`` or a user
it created): it cannot refuse the call with ExpiredToken or AccessDenied, nor name the root user. Those
tests answer from botocore's Stubber (validated against botocore's service model); moto also lacks
account:GetRegionOptStatus. Every queued Stubber answer must be used (``stub`` checks on exit).
"""

from __future__ import annotations

import boto3
from botocore.exceptions import EndpointConnectionError, TokenRetrievalError

from infra.config import SpaConfig
from scripts.preflight.identity import CALLER, CREDENTIALS, check_credentials, check_regions
from scripts.preflight.model import PreflightContext, Status
from scripts.preflight.runner import run_preflight
from tests.scripts.preflight_support import (
    ACCOUNT,
    aws_fixture,  # noqa: F401
    fake_environment,
    only,
    session,
    stack_config_fixture,  # noqa: F401
    stub,
)


def fresh(config: SpaConfig) -> PreflightContext:
    """A context before the credentials check has run."""
    return PreflightContext(config=config, session=session(config.region))


def test_working_credentials_report_the_account(aws: None, stack_config: SpaConfig) -> None:
    ctx = fresh(stack_config)
    result = only(check_credentials(ctx), CREDENTIALS)
    assert result.status is Status.OK and ACCOUNT in result.detail, f"{CREDENTIALS}: {result}"
    assert ctx.account_id == ACCOUNT, "credentials: the account id must be kept for later checks"


def test_no_credentials_fail_without_running_other_checks(stack_config: SpaConfig) -> None:
    with fake_environment():  # no keys, no profile, no metadata service: nothing is sent anywhere
        report = run_preflight(stack_config, boto3.session.Session(region_name=stack_config.region))
    assert [r.item for r in report.results] == [CREDENTIALS, "Other checks"], "credentials: stop after FAIL"
    assert report.results[0].status is Status.FAIL and not report.ok, f"{CREDENTIALS}: {report.results[0]}"
    assert "aws sso login" in report.results[0].action, f"{CREDENTIALS}: must say how to sign in"


def test_expired_token_is_a_fail_saying_expired(stack_config: SpaConfig) -> None:
    """Stubber: moto's GetCallerIdentity never answers ExpiredToken."""
    ctx = fresh(stack_config)
    with stub(ctx, "sts") as stubber:
        stubber.add_client_error(
            "get_caller_identity", "ExpiredToken", "The security token included in the request is expired"
        )
        result = only(check_credentials(ctx), CREDENTIALS)
    assert result.status is Status.FAIL and "expired" in result.detail, f"{CREDENTIALS}: {result}"


def test_denied_caller_identity_is_a_fail(stack_config: SpaConfig) -> None:
    """Stubber: moto's GetCallerIdentity never answers AccessDenied (no SCPs are evaluated)."""
    ctx = fresh(stack_config)
    with stub(ctx, "sts") as stubber:
        stubber.add_client_error(
            "get_caller_identity", "AccessDenied", "explicit deny in a service control policy", 403
        )
        result = only(check_credentials(ctx), CREDENTIALS)
    assert result.status is Status.FAIL and "AccessDenied" in result.detail, f"{CREDENTIALS}: {result}"


def test_root_caller_is_a_warning(stack_config: SpaConfig) -> None:
    """Stubber: moto's GetCallerIdentity always names an IAM user, never the account's root user."""
    ctx = fresh(stack_config)
    with stub(ctx, "sts") as stubber:
        stubber.add_response(
            "get_caller_identity",
            {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:root"},
        )
        result = only(check_credentials(ctx), CALLER)
    assert result.status is Status.WARN, f"{CALLER}: root use must be flagged (164.312(a)(2)(i)): {result}"
    assert result.hipaa == "164.312(a)(2)(i)", f"{CALLER}: names the section"


def test_iam_user_caller_is_ok(aws: None, stack_config: SpaConfig) -> None:
    ctx = fresh(stack_config)
    result = only(check_credentials(ctx), CALLER)
    assert result.status is Status.OK, f"{CALLER}: a non-root caller is fine (164.312(a)(2)(i)): {result}"


def test_enabled_regions_are_ok(aws: None, stack_config: SpaConfig) -> None:
    results = check_regions(fresh(stack_config))
    assert [r.status for r in results] == [Status.OK, Status.OK], f"regions: {results}"


def test_dr_region_not_opted_in_fails(aws: None, stack_config: SpaConfig) -> None:
    """moto lists ap-east-1 as an opt-in region this account has not enabled."""
    config = stack_config.model_copy(update={"dr_region": "ap-east-1"})
    result = only(check_regions(fresh(config)), "Region ap-east-1 (DR)")
    assert result.status is Status.FAIL, (
        f"Region ap-east-1: a disabled DR region (164.308(a)(7)(ii)(B)): {result}"
    )
    assert "enable-region --region-name ap-east-1" in result.action, "regions: says how to enable it"


def test_region_status_from_the_account_api_when_allowed(stack_config: SpaConfig) -> None:
    """account:GetRegionOptStatus (real response shape; moto does not implement it) is asked first."""
    ctx = fresh(stack_config)
    with stub(ctx, "account") as stubber:
        stubber.add_response(
            "get_region_opt_status",
            {"RegionName": stack_config.region, "RegionOptStatus": "ENABLED_BY_DEFAULT"},
        )
        stubber.add_response(
            "get_region_opt_status", {"RegionName": stack_config.dr_region, "RegionOptStatus": "DISABLED"}
        )
        primary, dr = check_regions(ctx)
    assert primary.status is Status.OK, f"{primary.item}: {primary}"
    assert dr.status is Status.FAIL and dr.hipaa == "164.308(a)(7)(ii)(B)", f"{dr.item}: {dr}"


def failing_sts(config: SpaConfig, error: Exception) -> PreflightContext:
    """The STS call raises ``error`` before anything is sent (as botocore does for these errors)."""
    ctx = fresh(config)

    def raise_error(**_: object) -> None:
        raise error

    ctx.client("sts").meta.events.register("before-call.sts.GetCallerIdentity", raise_error)
    return ctx


def test_expired_sso_session_is_a_fail_saying_expired(stack_config: SpaConfig) -> None:
    ctx = failing_sts(stack_config, TokenRetrievalError(provider="sso", error_msg="token expired"))
    result = only(check_credentials(ctx), CREDENTIALS)
    assert result.status is Status.FAIL and "expired" in result.detail, f"{CREDENTIALS}: {result}"


def test_unreachable_sts_is_a_fail_naming_the_network(stack_config: SpaConfig) -> None:
    ctx = failing_sts(stack_config, EndpointConnectionError(endpoint_url="https://sts.example.invalid"))
    result = only(check_credentials(ctx), CREDENTIALS)
    assert result.status is Status.FAIL and "cannot reach" in result.detail, f"{CREDENTIALS}: {result}"
