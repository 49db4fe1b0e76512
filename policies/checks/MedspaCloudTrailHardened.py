"""CKV_MEDSPA_16: the trail covers every region, proves its files intact, and encrypts them with a CMK."""

from __future__ import annotations

from typing import Any

from _medspa_support import is_customer_managed_key, truthy
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class MedspaCloudTrailHardened(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure CloudTrail is multi-region, validates log files and encrypts with a customer-managed key",
            id="CKV_MEDSPA_16",
            categories=(CheckCategories.LOGGING,),
            supported_resources=("aws_cloudtrail",),
            guideline=(
                "HIPAA 164.312(b) audit controls, 164.312(c)(1) integrity, 164.312(a)(2)(iv) encryption: "
                "is_multi_region_trail and enable_log_file_validation are true and kms_key_id is the "
                "spa's own key."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        hardened = (
            truthy(conf.get("is_multi_region_trail"))
            and truthy(conf.get("enable_log_file_validation"))
            and is_customer_managed_key(conf.get("kms_key_id"))
        )
        return CheckResult.PASSED if hardened else CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["is_multi_region_trail", "enable_log_file_validation", "kms_key_id"]


check = MedspaCloudTrailHardened()
