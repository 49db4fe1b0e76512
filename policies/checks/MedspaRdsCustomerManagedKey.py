"""CKV_MEDSPA_3: the database's storage is encrypted under a customer-managed key."""

from __future__ import annotations

from typing import Any

from _medspa_support import is_customer_managed_key, truthy
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class MedspaRdsCustomerManagedKey(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure RDS storage is encrypted with a customer-managed KMS key",
            id="CKV_MEDSPA_3",
            categories=(CheckCategories.ENCRYPTION,),
            supported_resources=("aws_db_instance", "aws_rds_cluster"),
            guideline=(
                "HIPAA 164.312(a)(2)(iv) encryption and decryption: storage_encrypted is true and kms_key_id "
                "names the spa's own key (without it RDS uses the AWS-managed aws/rds key)."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if not truthy(conf.get("storage_encrypted")):
            return CheckResult.FAILED
        return CheckResult.PASSED if is_customer_managed_key(conf.get("kms_key_id")) else CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["storage_encrypted", "kms_key_id"]


check = MedspaRdsCustomerManagedKey()
