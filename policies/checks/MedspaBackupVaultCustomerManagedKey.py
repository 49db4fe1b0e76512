"""CKV_MEDSPA_6: backup vaults encrypt recovery points under a customer-managed key."""

from __future__ import annotations

from typing import Any

from _medspa_support import is_customer_managed_key
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class MedspaBackupVaultCustomerManagedKey(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every AWS Backup vault is encrypted with a customer-managed KMS key",
            id="CKV_MEDSPA_6",
            categories=(CheckCategories.ENCRYPTION, CheckCategories.BACKUP_AND_RECOVERY),
            supported_resources=("aws_backup_vault",),
            guideline=(
                "HIPAA 164.312(a)(2)(iv) encryption and decryption, 164.308(a)(7)(ii)(A) data backup plan: "
                "recovery points are full copies of PHI; set kms_key_arn to the spa's backup key "
                "(without it AWS Backup uses the AWS-managed aws/backup key)."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        return CheckResult.PASSED if is_customer_managed_key(conf.get("kms_key_arn")) else CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["kms_key_arn"]


check = MedspaBackupVaultCustomerManagedKey()
