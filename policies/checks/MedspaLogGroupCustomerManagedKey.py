"""CKV_MEDSPA_4: log groups are encrypted under a customer-managed key."""

from __future__ import annotations

from typing import Any

from _medspa_support import is_customer_managed_key
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class MedspaLogGroupCustomerManagedKey(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every CloudWatch log group is encrypted with a customer-managed KMS key",
            id="CKV_MEDSPA_4",
            categories=(CheckCategories.ENCRYPTION,),
            supported_resources=("aws_cloudwatch_log_group",),
            guideline=(
                "HIPAA 164.312(a)(2)(iv) encryption and decryption, 164.312(b) audit controls: logs can "
                "carry PHI and are audit evidence; set kms_key_id to the spa's logs key."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        return CheckResult.PASSED if is_customer_managed_key(conf.get("kms_key_id")) else CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["kms_key_id"]


check = MedspaLogGroupCustomerManagedKey()
