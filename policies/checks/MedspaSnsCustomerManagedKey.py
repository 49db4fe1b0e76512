"""CKV_MEDSPA_5: alert topics are encrypted under a customer-managed key, not alias/aws/sns."""

from __future__ import annotations

from typing import Any

from _medspa_support import is_customer_managed_key
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class MedspaSnsCustomerManagedKey(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure SNS topics are encrypted with a customer-managed KMS key, not alias/aws/sns",
            id="CKV_MEDSPA_5",
            categories=(CheckCategories.ENCRYPTION,),
            supported_resources=("aws_sns_topic",),
            guideline=(
                "HIPAA 164.312(a)(2)(iv) encryption and decryption: alerts can name patients or resources "
                "holding PHI; kms_master_key_id must be the spa's key (alias/aws/sns cannot be restricted "
                "to the services that publish alarms)."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        key = conf.get("kms_master_key_id")
        return CheckResult.PASSED if is_customer_managed_key(key) else CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["kms_master_key_id"]


check = MedspaSnsCustomerManagedKey()
