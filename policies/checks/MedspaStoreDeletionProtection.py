"""CKV_MEDSPA_12: PHI, log, backup and key stores cannot be deleted by `pulumi destroy` or by accident."""

from __future__ import annotations

from typing import Any

from _medspa_support import truthy
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class MedspaStoreDeletionProtection(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every data, log, backup and key store has Pulumi protect or retainOnDelete set",
            id="CKV_MEDSPA_12",
            categories=(CheckCategories.BACKUP_AND_RECOVERY,),
            supported_resources=(
                "aws_s3_bucket",
                "aws_db_instance",
                "aws_rds_cluster",
                "aws_cloudwatch_log_group",
                "aws_backup_vault",
                "aws_kms_key",
            ),
            guideline=(
                "HIPAA 164.310(d)(2)(iv) data backup and storage, 164.316(b)(2)(i) six-year retention: the "
                "plan bridge carries Pulumi's resource options as pulumi_protect and "
                "pulumi_retain_on_delete; at least one must be true (the kit sets both with ctx.keep)."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        kept = truthy(conf.get("pulumi_protect")) or truthy(conf.get("pulumi_retain_on_delete"))
        return CheckResult.PASSED if kept else CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["pulumi_protect", "pulumi_retain_on_delete"]


check = MedspaStoreDeletionProtection()
