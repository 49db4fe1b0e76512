"""CKV_MEDSPA_11: Object Lock in COMPLIANCE mode keeps the log archive at least six years."""

from __future__ import annotations

from typing import Any

from _medspa_support import attr, blocks, number
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

FLOOR_DAYS = 2192
DAYS_PER_YEAR = 365.25


class MedspaLogArchiveObjectLock(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure S3 Object Lock uses COMPLIANCE mode with a default retention of at least 2192 days",
            id="CKV_MEDSPA_11",
            categories=(CheckCategories.LOGGING, CheckCategories.BACKUP_AND_RECOVERY),
            supported_resources=("aws_s3_bucket_object_lock_configuration",),
            guideline=(
                "HIPAA 164.312(c)(1) integrity, 164.316(b)(2)(i) six-year retention: the log archive's "
                "default retention is mode COMPLIANCE (GOVERNANCE can be bypassed) with days >= 2192 or "
                "years >= 6. That the trail's bucket has Object Lock at all is the whole-plan check "
                "CKV_MEDSPA_109."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        enabled = attr(conf, "object_lock_enabled")
        if enabled not in (None, "Enabled"):
            return CheckResult.FAILED
        for rule in blocks(conf, "rule"):
            for retention in blocks(rule, "default_retention"):
                if attr(retention, "mode") != "COMPLIANCE":
                    return CheckResult.FAILED
                days = number(retention.get("days"))
                years = number(retention.get("years"))
                kept = days if days is not None else (years * DAYS_PER_YEAR if years is not None else None)
                if kept is None or kept < FLOOR_DAYS:
                    return CheckResult.FAILED
                return CheckResult.PASSED
        return CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["rule/[0]/default_retention"]


check = MedspaLogArchiveObjectLock()
