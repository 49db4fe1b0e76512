"""CKV_MEDSPA_13: every resource belongs to a HIPAA-eligible AWS service (or a PHI-free control plane)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TABLE_FILE = DATA_DIR / "hipaa_service_prefixes.yaml"


def _service_names(list_file: Path) -> set[str]:
    """Service names of AWS's dated list, without their [scope notes]."""
    names: set[str] = set()
    for line in list_file.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(re.sub(r"\s*\[.*\]\s*$", "", line))
    return names


@lru_cache(maxsize=1)
def service_table() -> dict[str, str | None]:
    """Type prefix -> eligible service name (None for an allowed control-plane service).

    A name that is not in the dated list is dropped, so a typo in the table fails closed.
    """
    document = yaml.safe_load(TABLE_FILE.read_text())
    listed = _service_names(DATA_DIR / document["eligible_list"])
    table: dict[str, str | None] = {
        prefix: service for prefix, service in document["eligible"].items() if service in listed
    }
    for prefix in document.get("control_plane") or {}:
        table[prefix] = None
    return table


def service_for(resource_type: str) -> tuple[bool, str | None]:
    """(known, service) for a Terraform type, by the longest matching prefix."""
    matches = [p for p in service_table() if resource_type == p or resource_type.startswith(p + "_")]
    if not matches:
        return False, None
    return True, service_table()[max(matches, key=len)]


class MedspaHipaaEligibleService(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every resource belongs to an AWS service on AWS's HIPAA-eligible list",
            id="CKV_MEDSPA_13",
            categories=(CheckCategories.GENERAL_SECURITY,),
            supported_resources=("aws_*",),
            guideline=(
                "HIPAA 164.308(a)(1)(ii)(B) risk management: under the AWS Business Associate Addendum, "
                "PHI may only touch HIPAA-eligible services. policies/data/hipaa_service_prefixes.yaml "
                "maps Terraform types to the services of AWS's list as of 2025-04-16 "
                "(policies/data/hipaa-eligible-services-2025-04-16.txt); PHI-free control-plane services "
                "(IAM, Access Analyzer) are allowed explicitly with a reason. Any other type fails."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        known, _service = service_for(self.entity_type)
        return CheckResult.PASSED if known else CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return []


check = MedspaHipaaEligibleService()
