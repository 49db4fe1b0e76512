"""Whole-plan checks (existence and coverage) that checkov's per-resource model cannot express.

Importable from the kit's own environment (no checkov import). `medspa check` runs ALL_PLAN_CHECKS on
every plan; ids share the CKV_MEDSPA_ namespace with policies/checks/ (1xx for whole-plan checks).
"""

from __future__ import annotations

from policies.plan_checks.alarms import SecurityAlarmsExist
from policies.plan_checks.base import PlanCheck, PlanFinding
from policies.plan_checks.coverage import (
    BackupVaultLockOnEveryVault,
    CloudTrailDataEventsCoverPhi,
    PhiBucketsTlsOnly,
    PhiBucketsUseCustomerManagedKey,
    TrailBucketObjectLock,
    TrailLogGroupRetention,
)
from policies.plan_checks.detection import ConfigRecorderEnabled, GuardDutyEnabled, SecurityHubEnabled

ALL_PLAN_CHECKS: tuple[PlanCheck, ...] = (
    SecurityAlarmsExist(),
    GuardDutyEnabled(),
    SecurityHubEnabled(),
    ConfigRecorderEnabled(),
    CloudTrailDataEventsCoverPhi(),
    BackupVaultLockOnEveryVault(),
    PhiBucketsUseCustomerManagedKey(),
    PhiBucketsTlsOnly(),
    TrailBucketObjectLock(),
    TrailLogGroupRetention(),
)

__all__ = ["ALL_PLAN_CHECKS", "PlanCheck", "PlanFinding"]
