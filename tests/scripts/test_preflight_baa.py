"""Preflight: the AWS Business Associate Addendum (164.308(b)(1)) from the AWS Artifact agreements API.

moto does not implement AWS Artifact, so these tests answer ``list_customer_agreements`` with botocore's
Stubber, which validates each response against botocore's own service model (the real response shape).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from infra.config import SpaConfig
from scripts.preflight.baa import HIPAA, ITEM, NO_BAA, check_baa
from scripts.preflight.model import Status
from tests.scripts.preflight_support import (
    ACCOUNT,
    context,
    only,
    stack_config_fixture,  # noqa: F401
    stub,
)


def agreement(name: str, state: str, **extra: Any) -> dict[str, Any]:
    """One ``customerAgreements[]`` entry as AWS Artifact returns it."""
    return {
        "name": name,
        "arn": f"arn:aws:artifact::{ACCOUNT}:customer-agreement/customer-agreement-a1b2c3d4e5f6a7b8",
        "id": "customer-agreement-a1b2c3d4e5f6a7b8",
        "agreementArn": "arn:aws:artifact:::agreement/agreement-b1c2d3e4f5a6b7c8",
        "awsAccountId": ACCOUNT,
        "effectiveStart": datetime(2026, 1, 15, tzinfo=UTC),
        "state": state,
        "description": "Business associate addendum under HIPAA",
        "acceptanceTerms": ["I have read and agree to the terms"],
        "terminateTerms": ["I understand that terminating ends coverage"],
        "type": "DEFAULT",
        **extra,
    }


def run(config: SpaConfig, response: dict[str, Any] | None = None, error: str | None = None) -> Any:
    ctx = context(config)
    with stub(ctx, "artifact") as stubber:  # checks on exit that the agreements were asked for
        if error is not None:
            stubber.add_client_error("list_customer_agreements", error, "User is not authorized", 403)
        else:
            stubber.add_response("list_customer_agreements", response or {"customerAgreements": []})
        return only(check_baa(ctx), ITEM)


def test_active_baa_is_ok(stack_config: SpaConfig) -> None:
    response = {"customerAgreements": [agreement("AWS Business Associate Addendum", "ACTIVE")]}
    result = run(stack_config, response)
    assert result.status is Status.OK and "2026-01-15" in result.detail, f"{ITEM}: {result}"


def test_organization_baa_counts_for_the_account(stack_config: SpaConfig) -> None:
    org = "arn:aws:organizations::111122223333:organization/o-exampleorgid"
    response = {
        "customerAgreements": [
            agreement("AWS Organizations Business Associate Addendum", "ACTIVE", organizationArn=org)
        ]
    }
    result = run(stack_config, response)
    assert result.status is Status.OK and "organization" in result.detail, f"{ITEM}: {result}"


def test_no_baa_fails_and_says_no_phi_before_it(stack_config: SpaConfig) -> None:
    response = {"customerAgreements": [agreement("AWS Small Business Agreement", "ACTIVE")]}
    result = run(stack_config, response)
    assert result.status is Status.FAIL, f"{ITEM}: no BAA must FAIL ({HIPAA}): {result}"
    assert NO_BAA in result.detail and result.hipaa == "164.308(b)(1)", f"{ITEM}: {result.detail}"


def test_terminated_baa_fails(stack_config: SpaConfig) -> None:
    response = {"customerAgreements": [agreement("AWS Business Associate Addendum", "CUSTOMER_TERMINATED")]}
    result = run(stack_config, response)
    assert result.status is Status.FAIL and "terminated" in result.detail, f"{ITEM}: {result}"


def test_access_denied_warns_how_to_check_by_hand(stack_config: SpaConfig) -> None:
    result = run(stack_config, error="AccessDeniedException")
    assert result.status is Status.WARN, f"{ITEM}: not allowed to ask is a WARN ({HIPAA}): {result}"
    assert "AWS Artifact > Agreements" in result.action, f"{ITEM}: must say where to look: {result.action}"
