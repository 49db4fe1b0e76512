"""The AWS Business Associate Addendum, read from the AWS Artifact agreements API.

AWS may hold PHI for the spa only under a business associate contract: 164.308(b)(1) and 164.314(a)(1).
An account accepts the BAA itself, or is covered by its organization's (AWS Organizations BAA).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scripts.preflight.errors import error_code, is_access_denied
from scripts.preflight.model import CheckResult, PreflightContext, Status

ITEM = "AWS Business Associate Addendum"
HIPAA = "164.308(b)(1)"
BY_HAND = (
    "check by hand: AWS console > AWS Artifact > Agreements; the 'AWS Business Associate Addendum' "
    "(or the organization's) must show Active"
)
NO_BAA = "No PHI resource should be deployed before the BAA is accepted (164.308(b)(1))"


def is_baa(agreement: dict[str, Any]) -> bool:
    return "business associate" in str(agreement.get("name", "")).lower()


def list_agreements(ctx: PreflightContext) -> list[dict[str, Any]]:
    client = ctx.client("artifact")
    agreements: list[dict[str, Any]] = []
    for page in client.get_paginator("list_customer_agreements").paginate():
        agreements.extend(page.get("customerAgreements", []))
    return agreements


def check_baa(ctx: PreflightContext) -> list[CheckResult]:
    """ACTIVE BAA: OK. None, or only terminated ones: FAIL. Cannot ask Artifact: WARN with the console path."""
    try:
        agreements = list_agreements(ctx)
    except (ClientError, BotoCoreError, NotImplementedError) as error:
        code = error_code(error)
        why = (
            "the caller may not read AWS Artifact"
            if is_access_denied(error)
            else "AWS Artifact did not answer"
        )
        action = BY_HAND + ("; or allow artifact:ListCustomerAgreements" if is_access_denied(error) else "")
        return [CheckResult(ITEM, Status.WARN, f"not checked: {why} ({code})", action, HIPAA)]
    baas = [a for a in agreements if is_baa(a)]
    active = [a for a in baas if a.get("state") == "ACTIVE"]
    if active:
        agreement = active[0]
        scope = "the organization" if agreement.get("organizationArn") else "this account"
        since = agreement.get("effectiveStart")
        when = f" since {since:%Y-%m-%d}" if hasattr(since, "strftime") else ""
        return [
            CheckResult(ITEM, Status.OK, f"{agreement.get('name')} active for {scope}{when}", hipaa=HIPAA)
        ]
    detail = "no accepted BAA for this account"
    if baas:
        detail = f"the BAA was terminated ({baas[0].get('state')})"
    return [
        CheckResult(
            ITEM,
            Status.FAIL,
            f"{detail}. {NO_BAA}",
            "accept it: AWS console > AWS Artifact > Agreements > AWS Business Associate Addendum > Accept "
            "(in the organization's management account to cover every member account)",
            HIPAA,
        )
    ]
