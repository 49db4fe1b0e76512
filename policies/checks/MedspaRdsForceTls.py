"""CKV_MEDSPA_9: the database parameter group refuses connections without TLS."""

from __future__ import annotations

from typing import Any

from _medspa_support import attr, blocks
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

# parameter name -> values that force TLS; PostgreSQL uses rds.force_ssl, MySQL/MariaDB the other.
FORCE_TLS = {
    "rds.force_ssl": ("1", "true", "on"),
    "require_secure_transport": ("on", "1", "true"),
}
FAMILY_PARAMETER = {"postgres": "rds.force_ssl", "aurora-postgresql": "rds.force_ssl"}


class MedspaRdsForceTls(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the RDS parameter group forces TLS (rds.force_ssl=1 / require_secure_transport=ON)",
            id="CKV_MEDSPA_9",
            categories=(CheckCategories.ENCRYPTION, CheckCategories.NETWORKING),
            supported_resources=("aws_db_parameter_group", "aws_rds_cluster_parameter_group"),
            guideline=(
                "HIPAA 164.312(e)(1) transmission security, 164.312(e)(2)(ii) encryption: PostgreSQL "
                "families set rds.force_ssl = 1, MySQL and MariaDB families set require_secure_transport "
                "= ON, so a client cannot fall back to plaintext."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        family = str(attr(conf, "family") or "").lower()
        wanted = next((p for f, p in FAMILY_PARAMETER.items() if family.startswith(f)), None)
        if wanted is None and family.startswith(("mysql", "mariadb", "aurora-mysql")):
            wanted = "require_secure_transport"
        for parameter in blocks(conf, "parameter"):
            name = str(attr(parameter, "name") or "").lower()
            value = str(attr(parameter, "value") or "").strip().lower()
            if name in FORCE_TLS and (wanted is None or name == wanted) and value in FORCE_TLS[name]:
                return CheckResult.PASSED
        return CheckResult.FAILED

    def get_evaluated_keys(self) -> list[str]:
        return ["family", "parameter"]


check = MedspaRdsForceTls()
