"""CKV_MEDSPA_15: the database is not reachable from the internet and cannot be deleted by one call."""

from __future__ import annotations

from typing import Any

from _medspa_support import truthy
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class MedspaRdsPrivateAndProtected(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure RDS is not publicly accessible and has deletion protection",
            id="CKV_MEDSPA_15",
            categories=(CheckCategories.NETWORKING, CheckCategories.BACKUP_AND_RECOVERY),
            supported_resources=("aws_db_instance", "aws_rds_cluster"),
            guideline=(
                "HIPAA 164.312(a)(1) access control, 164.310(d)(2)(iv) data backup and storage: "
                "publicly_accessible is false (or unset) and deletion_protection is true."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if truthy(conf.get("publicly_accessible")):
            return CheckResult.FAILED
        return CheckResult.PASSED if truthy(conf.get("deletion_protection")) else CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["publicly_accessible", "deletion_protection"]


check = MedspaRdsPrivateAndProtected()
