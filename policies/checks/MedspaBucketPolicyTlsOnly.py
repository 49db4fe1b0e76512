"""CKV_MEDSPA_10: every bucket policy denies requests that do not use TLS."""

from __future__ import annotations

from typing import Any

from _medspa_support import as_list, policy_document, scalar
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def _as_dict(value: Any) -> dict[str, Any]:
    value = scalar(value)
    return value if isinstance(value, dict) else {}


def _denies_plaintext(statement: dict[str, Any]) -> bool:
    if str(scalar(statement.get("Effect"))) != "Deny":
        return False
    principal = scalar(statement.get("Principal"))
    if isinstance(principal, dict):
        principal = scalar(principal.get("AWS"))
    if principal != "*":
        return False
    actions = [str(a) for a in as_list(scalar(statement.get("Action")))]
    if not any(a in ("*", "s3:*") for a in actions):
        return False
    condition = _as_dict(statement.get("Condition"))
    for operator in ("Bool", "BoolIfExists"):
        flag = scalar(_as_dict(condition.get(operator)).get("aws:SecureTransport"))
        if str(flag).lower() == "false":
            return True
    return False


class MedspaBucketPolicyTlsOnly(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every S3 bucket policy denies any request made without TLS",
            id="CKV_MEDSPA_10",
            categories=(CheckCategories.ENCRYPTION, CheckCategories.NETWORKING),
            supported_resources=("aws_s3_bucket_policy",),
            guideline=(
                "HIPAA 164.312(e)(1) transmission security, 164.312(e)(2)(ii) encryption: the policy has a "
                "Deny statement for Principal *, Action s3:* with Condition Bool aws:SecureTransport = "
                "false. That every PHI bucket has such a policy is the whole-plan check CKV_MEDSPA_108."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        document = policy_document(conf)
        if document is None:
            return CheckResult.FAILED
        statements = [s for s in as_list(scalar(document.get("Statement"))) if isinstance(s, dict)]
        return CheckResult.PASSED if any(_denies_plaintext(s) for s in statements) else CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["policy/Statement"]


check = MedspaBucketPolicyTlsOnly()
