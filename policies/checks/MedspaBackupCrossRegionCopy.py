"""CKV_MEDSPA_8: every backup rule copies its recovery points to a vault in another region."""

from __future__ import annotations

import re
from typing import Any

from _medspa_support import attr, blocks
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

# Real vault ARNs end in `:backup-vault:<name>`; accept `vault/<name>` too (some tools render it so).
VAULT_ARN = re.compile(r"^arn:[\w-]+:backup:(?P<region>[a-z0-9-]+):\d*:(?:backup-vault:|vault/)(?P<name>.+)$")
ANY_ARN_REGION = re.compile(r"^arn:[\w-]+:[\w-]+:(?P<region>[a-z0-9-]+):")
# A vault is the disaster-recovery vault when its name or reference has a "dr" (or "disaster") word,
# e.g. `demo-dr-vault`, `aws_backup_vault.backups_dr_vault.arn`.
DR_WORD = re.compile(r"(^|[^a-z0-9])(dr|disaster)([^a-z0-9]|$)", re.IGNORECASE)


def plan_region(conf: dict[str, Any]) -> str | None:
    """The backup plan's own region: pulumi-aws 7's `region` argument, else its ARN when known."""
    region = attr(conf, "region")
    if isinstance(region, str) and region:
        return region
    arn = attr(conf, "arn")
    match = ANY_ARN_REGION.match(arn) if isinstance(arn, str) else None
    return match.group("region") if match else None


def copies_to_another_region(destination: Any, home: str | None) -> bool:
    if not isinstance(destination, str) or not destination.strip():
        return False
    match = VAULT_ARN.match(destination.strip())
    if match:
        if home:
            return match.group("region") != home
        return bool(DR_WORD.search(match.group("name")))
    # A Terraform-style reference (the bridge writes one when the ARN is another resource's output).
    return bool(DR_WORD.search(destination))


class MedspaBackupCrossRegionCopy(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every backup plan rule copies recovery points to a vault in another region",
            id="CKV_MEDSPA_8",
            categories=(CheckCategories.BACKUP_AND_RECOVERY,),
            supported_resources=("aws_backup_plan",),
            guideline=(
                "HIPAA 164.308(a)(7)(ii)(B) disaster recovery plan, 164.310(d)(2)(iv) data backup and "
                "storage: every rule has a copy_action whose destination_vault_arn is in a region other "
                "than the plan's (its `region` or ARN), or, when the region is not known yet, names the "
                "disaster-recovery vault (a 'dr' word in its name or reference)."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        rules = blocks(conf, "rule")
        if not rules:
            return CheckResult.FAILED
        home = plan_region(conf)
        for rule in rules:
            copies = blocks(rule, "copy_action")
            if not copies:
                return CheckResult.FAILED
            if not any(copies_to_another_region(attr(c, "destination_vault_arn"), home) for c in copies):
                return CheckResult.FAILED
        return CheckResult.PASSED

    def get_evaluated_keys(self) -> list[str]:
        return ["rule/[0]/copy_action"]


check = MedspaBackupCrossRegionCopy()
