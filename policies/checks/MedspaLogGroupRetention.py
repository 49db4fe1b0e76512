"""CKV_MEDSPA_1: log groups keep a year of activity; CloudTrail's log group keeps six years."""

from __future__ import annotations

from typing import Any

from _medspa_support import attr, number, tags
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

LOG_FLOOR_DAYS = 365
CLOUDTRAIL_FLOOR_DAYS = 2192
# How a log group says it receives CloudTrail: its name contains "cloudtrail" (any case), or it carries
# the tag LogSource=CloudTrail. Both survive the bridge unchanged (name and tags are plain inputs), and
# the whole-plan trail check cross-checks the log group the trail actually delivers to.
CLOUDTRAIL_TAG = ("LogSource", "cloudtrail")


def is_cloudtrail_log_group(conf: dict[str, Any]) -> bool:
    name = str(attr(conf, "name") or attr(conf, "name_prefix") or "")
    source = {k.lower(): v.lower() for k, v in tags(conf).items()}.get(CLOUDTRAIL_TAG[0].lower(), "")
    return "cloudtrail" in name.lower() or source == CLOUDTRAIL_TAG[1]


class MedspaLogGroupRetention(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every log group is kept at least 365 days, and CloudTrail's at least 2192 days",
            id="CKV_MEDSPA_1",
            categories=(CheckCategories.LOGGING,),
            supported_resources=("aws_cloudwatch_log_group",),
            guideline=(
                "HIPAA 164.312(b) audit controls need a year of activity to review; 164.316(b)(2)(i) keeps "
                "the audit trail 6 years. Set retention_in_days >= 365 (2192 on the log group named "
                "*cloudtrail* or tagged LogSource=CloudTrail); 0 (never expire) also passes."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        days = number(conf.get("retention_in_days"))
        if days is None:
            # Absent means "never expire" in CloudWatch Logs; anything else is an unresolved reference.
            return (
                CheckResult.PASSED if conf.get("retention_in_days") in (None, [None]) else CheckResult.FAILED
            )
        if days == 0:
            return CheckResult.PASSED
        floor = CLOUDTRAIL_FLOOR_DAYS if is_cloudtrail_log_group(conf) else LOG_FLOOR_DAYS
        return CheckResult.PASSED if days >= floor else CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["retention_in_days", "name", "tags"]


check = MedspaLogGroupRetention()
