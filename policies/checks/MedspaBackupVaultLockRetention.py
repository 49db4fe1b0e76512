"""CKV_MEDSPA_7: backup vault lock keeps every recovery point at least 35 days."""

from __future__ import annotations

from typing import Any

from _medspa_support import number
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

MIN_RETENTION_FLOOR_DAYS = 35


class MedspaBackupVaultLockRetention(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure backup vault lock sets a minimum retention of at least 35 days",
            id="CKV_MEDSPA_7",
            categories=(CheckCategories.BACKUP_AND_RECOVERY,),
            supported_resources=("aws_backup_vault_lock_configuration",),
            guideline=(
                "HIPAA 164.308(a)(7)(ii)(A) data backup plan, 164.312(c)(1) integrity: min_retention_days "
                ">= 35 so no one, not even the account root, can delete recent recovery points early; "
                "max_retention_days, when set, is not below the minimum. Every vault having a lock at all "
                "is the whole-plan check CKV_MEDSPA_106."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        minimum = number(conf.get("min_retention_days"))
        if minimum is None or minimum < MIN_RETENTION_FLOOR_DAYS:
            return CheckResult.FAILED
        maximum = number(conf.get("max_retention_days"))
        if maximum is not None and maximum < minimum:
            return CheckResult.FAILED
        return CheckResult.PASSED

    def get_evaluated_keys(self) -> list[str]:
        return ["min_retention_days", "max_retention_days"]


check = MedspaBackupVaultLockRetention()
