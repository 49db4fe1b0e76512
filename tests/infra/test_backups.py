"""Backups invariants for every bundled stack.

164.308(a)(7)(ii)(A) data backup plan, 164.308(a)(7)(ii)(B) disaster recovery plan,
164.308(a)(7)(ii)(D) testing of restores, 164.310(d)(2)(iv) data backup and storage,
164.312(a)(2)(iv) encryption.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.backups import CONTINUOUS_BACKUP_MAX_RETENTION_DAYS
from infra.config import BACKUP_RETENTION_FLOOR_DAYS, SpaConfig, VaultLockMode, load_stack
from infra.context import BACKUP_TAG_KEY, BACKUP_TAG_VALUE
from scripts import paths
from scripts.synth import ResourceRecord, Synthesis, synthesize
from tests.conftest import STACKS
from tests.support import depends_on, policy_document, statements

VAULT = "aws:backup/vault:Vault"
LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
VAULT_POLICY = "aws:backup/vaultPolicy:VaultPolicy"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
RESTORE_PLAN = "aws:backup/restoreTestingPlan:RestoreTestingPlan"
RESTORE_SELECTION = "aws:backup/restoreTestingSelection:RestoreTestingSelection"
KEY = "aws:kms/key:Key"

# Vault events AWS Backup still delivers (the *_JOB_FAILED ones are accepted but never sent).
DELIVERED_VAULT_EVENTS = {
    "BACKUP_JOB_STARTED",
    "BACKUP_JOB_COMPLETED",
    "COPY_JOB_STARTED",
    "COPY_JOB_SUCCESSFUL",
    "COPY_JOB_FAILED",
    "RESTORE_JOB_STARTED",
    "RESTORE_JOB_COMPLETED",
    "RECOVERY_POINT_MODIFIED",
    "S3_BACKUP_OBJECT_FAILED",
    "S3_RESTORE_OBJECT_FAILED",
    "CONTINUOUS_BACKUP_INTERRUPTED",
}


def _config(synthesis: Synthesis) -> SpaConfig:
    return load_stack(paths.stacks_dir(), synthesis.spa)


def _one(synthesis: Synthesis, type_token: str, name: str) -> ResourceRecord:
    return synthesis.one(type_token, name)


def _vaults(synthesis: Synthesis) -> dict[str, ResourceRecord]:
    return {
        "primary": _one(synthesis, VAULT, "backups-vault"),
        "dr": _one(synthesis, VAULT, "backups-dr-vault"),
    }


def _provider_of(synthesis: Synthesis, record: ResourceRecord) -> ResourceRecord | None:
    """The explicit provider a resource was registered with (`<urn>::<id>`), if any."""
    if not record.provider:
        return None
    return synthesis.by_urn().get(record.provider.rsplit("::", 1)[0])


def _rules(synthesis: Synthesis) -> dict[str, dict[str, Any]]:
    plan = _one(synthesis, PLAN, "backups-plan")
    return {rule["ruleName"]: rule for rule in plan.inputs["rules"]}


def _lock_for(synthesis: Synthesis, vault: ResourceRecord) -> ResourceRecord:
    locks = [lock for lock in synthesis.of_type(LOCK) if depends_on(lock, vault, "backupVaultName")]
    assert len(locks) == 1, (
        f"{vault.name}: exactly one Vault Lock expected, found {len(locks)} (164.310(d)(2)(iv))"
    )
    return locks[0]


def _restore_selection(synthesis: Synthesis, resource_type: str) -> ResourceRecord:
    found = [
        s
        for s in synthesis.of_type(RESTORE_SELECTION)
        if s.inputs.get("protectedResourceType") == resource_type
    ]
    assert len(found) == 1, (
        f"restore testing: one {resource_type} selection expected, found {len(found)} (164.308(a)(7)(ii)(D))"
    )
    return found[0]


def test_vaults_are_encrypted_with_customer_managed_keys(stack_synthesis: Synthesis) -> None:
    keys = stack_synthesis.of_type(KEY)
    for vault in _vaults(stack_synthesis).values():
        arn = vault.inputs.get("kmsKeyArn") or ""
        assert arn and "alias/aws/" not in arn, (
            f"{vault.name}: vault must name a customer-managed key, not the aws/backup key (164.312(a)(2)(iv))"
        )
        assert any(depends_on(vault, key, "kmsKeyArn") for key in keys), (
            f"{vault.name}: vault key must be one of the kit's KMS keys (164.312(a)(2)(iv))"
        )


def test_dr_vault_uses_its_own_key_in_the_dr_region(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis)
    vaults = _vaults(stack_synthesis)
    dr_key = _one(stack_synthesis, KEY, "backups-dr-key")
    assert depends_on(vaults["dr"], dr_key, "kmsKeyArn"), (
        f"{vaults['dr'].name}: DR vault must be encrypted with the DR region's own key (164.312(a)(2)(iv))"
    )
    assert not depends_on(vaults["dr"], _one(stack_synthesis, KEY, "keys-backup")), (
        f"{vaults['dr'].name}: a key cannot encrypt across regions; the DR vault needs its own (164.308(a)(7)(ii)(B))"
    )
    for record in (vaults["dr"], dr_key):
        provider = _provider_of(stack_synthesis, record)
        assert provider is not None and provider.inputs.get("region") == config.dr_region, (
            f"{record.name}: must be created by the DR-region provider ({config.dr_region}) (164.308(a)(7)(ii)(B))"
        )
        assert record.inputs.get("region") in (None, config.dr_region), (
            f"{record.name}: region must be {config.dr_region} (164.308(a)(7)(ii)(B))"
        )
    primary_provider = _provider_of(stack_synthesis, vaults["primary"])
    assert primary_provider is None or primary_provider.inputs.get("region") == config.region, (
        f"{vaults['primary'].name}: primary vault must stay in {config.region} (164.308(a)(7)(ii)(A))"
    )


def test_dr_key_rotates_and_serves_only_aws_backup_in_the_dr_region(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis)
    dr_key = _one(stack_synthesis, KEY, "backups-dr-key")
    assert (
        dr_key.inputs.get("enableKeyRotation") is True and dr_key.inputs.get("deletionWindowInDays") == 30
    ), f"{dr_key.name}: DR key must rotate and have a 30-day deletion window (164.312(a)(2)(iv))"
    via_services = [
        s["Condition"]["StringEquals"]["kms:ViaService"]
        for s in statements(policy_document(dr_key.inputs["policy"]))
        if "kms:ViaService" in s.get("Condition", {}).get("StringEquals", {})
    ]
    assert via_services == [[f"backup.{config.dr_region}.amazonaws.com"]], (
        f"{dr_key.name}: only AWS Backup in {config.dr_region} may use the DR key, found {via_services} "
        "(164.312(a)(2)(iv))"
    )


def test_vaults_keys_and_locks_are_protected_from_deletion(stack_synthesis: Synthesis) -> None:
    vaults = _vaults(stack_synthesis)
    kept = [
        *vaults.values(),
        _one(stack_synthesis, KEY, "backups-dr-key"),
        *(_lock_for(stack_synthesis, v) for v in vaults.values()),
    ]
    for record in kept:
        assert record.protect and record.retain_on_delete, (
            f"{record.name}: must be protected and retained on delete (164.310(d)(2)(iv))"
        )


def test_both_vaults_are_locked_in_compliance_mode_by_default(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis)
    for vault in _vaults(stack_synthesis).values():
        lock = _lock_for(stack_synthesis, vault).inputs
        assert lock.get("minRetentionDays", 0) >= BACKUP_RETENTION_FLOOR_DAYS, (
            f"{vault.name}: Vault Lock minimum retention must be at least {BACKUP_RETENTION_FLOOR_DAYS} days, "
            f"got {lock.get('minRetentionDays')} (164.308(a)(7)(ii)(A))"
        )
        assert lock.get("maxRetentionDays", 0) >= config.long_backup_retention_days, (
            f"{vault.name}: Vault Lock maximum retention must allow the long retention "
            f"({config.long_backup_retention_days} days) (164.310(d)(2)(iv))"
        )
        if config.vault_lock_mode is VaultLockMode.COMPLIANCE:
            assert lock.get("changeableForDays") == config.vault_lock_changeable_days, (
                f"{vault.name}: compliance-mode Vault Lock needs changeableForDays = "
                f"{config.vault_lock_changeable_days} (164.310(d)(2)(iv))"
            )


def test_every_rule_fits_inside_the_vault_locks(stack_synthesis: Synthesis) -> None:
    """A recovery point kept shorter or longer than the lock allows makes its backup job fail."""
    locks = [_lock_for(stack_synthesis, v).inputs for v in _vaults(stack_synthesis).values()]
    low = max(lock["minRetentionDays"] for lock in locks)
    high = min(lock["maxRetentionDays"] for lock in locks)
    for name, rule in _rules(stack_synthesis).items():
        lifecycles = [rule["lifecycle"], *(c.get("lifecycle", {}) for c in rule.get("copyActions", []))]
        for lifecycle in lifecycles:
            assert low <= lifecycle.get("deleteAfter", 0) <= high, (
                f"backups-plan rule {name}: retention {lifecycle.get('deleteAfter')} is outside the Vault Lock "
                f"range {low}-{high} days, so its jobs would fail (164.308(a)(7)(ii)(A))"
            )


def test_vault_policies_deny_recovery_point_deletion_to_everyone(stack_synthesis: Synthesis) -> None:
    for vault in _vaults(stack_synthesis).values():
        policies = [
            p for p in stack_synthesis.of_type(VAULT_POLICY) if depends_on(p, vault, "backupVaultName")
        ]
        assert len(policies) == 1, f"{vault.name}: one vault access policy expected (164.310(d)(2)(iv))"
        unconditional_denies: set[str] = set()
        for statement in statements(policy_document(policies[0].inputs["policy"])):
            actions = statement.get("Action", [])
            actions = actions if isinstance(actions, list) else [actions]
            if statement.get("Effect") == "Deny":
                assert "backup:CopyIntoBackupVault" not in actions, (
                    f"{vault.name}: the vault policy must not stop copies into the vault (164.308(a)(7)(ii)(B))"
                )
                if statement.get("Principal") == "*" and not statement.get("Condition"):
                    unconditional_denies.update(actions)
        for action in ("backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"):
            assert action in unconditional_denies, (
                f"{vault.name}: vault policy must deny {action} to every principal (164.310(d)(2)(iv))"
            )


def test_vault_policy_is_applied_after_the_lock(stack_synthesis: Synthesis) -> None:
    """The policy denies lock changes to all but root, so the deployer must set the lock first."""
    for vault in _vaults(stack_synthesis).values():
        lock = _lock_for(stack_synthesis, vault)
        policy = next(
            p for p in stack_synthesis.of_type(VAULT_POLICY) if depends_on(p, vault, "backupVaultName")
        )
        assert depends_on(policy, lock), (
            f"{policy.name}: must depend on {lock.name}, or the deploy cannot set the lock (164.310(d)(2)(iv))"
        )


def test_every_plan_rule_copies_to_the_dr_vault(stack_synthesis: Synthesis) -> None:
    plan = _one(stack_synthesis, PLAN, "backups-plan")
    dr_vault = _vaults(stack_synthesis)["dr"]
    assert depends_on(plan, dr_vault, "rules"), (
        f"{plan.name}: plan rules must reference the DR vault (164.308(a)(7)(ii)(B))"
    )
    rules = _rules(stack_synthesis)
    assert rules, f"{plan.name}: the plan has no rules (164.308(a)(7)(ii)(A))"
    for name, rule in rules.items():
        targets = [c.get("destinationVaultArn", "") for c in rule.get("copyActions", [])]
        assert any(t.endswith(dr_vault.inputs["name"]) for t in targets), (
            f"{plan.name} rule {name}: needs a copy action to the DR vault, found {targets} (164.308(a)(7)(ii)(B))"
        )
        for copy in rule.get("copyActions", []):
            assert copy.get("lifecycle", {}).get("deleteAfter"), (
                f"{plan.name} rule {name}: the DR copy needs its own retention (164.308(a)(7)(ii)(B))"
            )


def test_daily_rule_keeps_at_least_five_weeks(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis)
    daily = _rules(stack_synthesis).get("daily")
    assert daily is not None and "?" in daily["schedule"] and daily["schedule"].startswith("cron("), (
        "backups-plan: a daily rule with a cron schedule is required (164.308(a)(7)(ii)(A))"
    )
    delete_after = daily["lifecycle"].get("deleteAfter", 0)
    assert delete_after >= BACKUP_RETENTION_FLOOR_DAYS and delete_after == config.backup_retention_days, (
        f"backups-plan daily rule: keeps {delete_after} days, expected backupRetentionDays "
        f"({config.backup_retention_days}) and at least {BACKUP_RETENTION_FLOOR_DAYS} (164.308(a)(7)(ii)(A))"
    )


def test_monthly_rule_keeps_long_retention_with_cold_storage(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis)
    monthly = _rules(stack_synthesis).get("monthly")
    assert monthly is not None, "backups-plan: a monthly rule is required (164.310(d)(2)(iv))"
    lifecycle = monthly["lifecycle"]
    assert lifecycle.get("deleteAfter") == config.long_backup_retention_days, (
        f"backups-plan monthly rule: keeps {lifecycle.get('deleteAfter')} days, expected "
        f"longBackupRetentionDays ({config.long_backup_retention_days}) (164.310(d)(2)(iv))"
    )
    assert lifecycle.get("coldStorageAfter") == config.cold_storage_after_days, (
        f"backups-plan monthly rule: must move to cold storage after {config.cold_storage_after_days} days "
        "(164.310(d)(2)(iv))"
    )


def test_continuous_backup_rule_is_present(stack_synthesis: Synthesis) -> None:
    continuous = [r for r in _rules(stack_synthesis).values() if r.get("enableContinuousBackup") is True]
    assert len(continuous) == 1, (
        "backups-plan: one continuous (point-in-time) backup rule expected (164.308(a)(7)(ii)(A))"
    )
    delete_after = continuous[0]["lifecycle"].get("deleteAfter", 0)
    assert BACKUP_RETENTION_FLOOR_DAYS <= delete_after <= CONTINUOUS_BACKUP_MAX_RETENTION_DAYS, (
        f"backups-plan continuous rule: retention {delete_after} must be 35 days, AWS's maximum "
        "(164.308(a)(7)(ii)(A))"
    )


def test_every_rule_has_windows_and_recovery_point_tags(stack_synthesis: Synthesis) -> None:
    for name, rule in _rules(stack_synthesis).items():
        assert rule.get("startWindow", 0) >= 60 and rule.get("completionWindow", 0) > rule["startWindow"], (
            f"backups-plan rule {name}: start and completion windows must be set (164.308(a)(7)(ii)(A))"
        )
        assert rule.get("recoveryPointTags", {}).get("DataClassification"), (
            f"backups-plan rule {name}: recovery points must carry the classification tags (164.310(d)(2)(iv))"
        )


def test_selection_picks_every_phi_store_by_tag_with_the_backup_role(stack_synthesis: Synthesis) -> None:
    selection = _one(stack_synthesis, SELECTION, "backups-phi-selection")
    tags = selection.inputs.get("selectionTags", [])
    assert {"type": "STRINGEQUALS", "key": BACKUP_TAG_KEY, "value": BACKUP_TAG_VALUE} in tags, (
        f"{selection.name}: must select by tag {BACKUP_TAG_KEY}={BACKUP_TAG_VALUE} (164.308(a)(7)(ii)(A))"
    )
    assert depends_on(selection, _one(stack_synthesis, PLAN, "backups-plan"), "planId"), (
        f"{selection.name}: must belong to the backup plan (164.308(a)(7)(ii)(A))"
    )
    assert depends_on(selection, _one(stack_synthesis, "aws:iam/role:Role", "backups-role"), "iamRoleArn"), (
        f"{selection.name}: must use the kit's backup service role (164.308(a)(7)(ii)(A))"
    )


def test_backup_role_is_assumable_only_by_aws_backup_for_this_account(stack_synthesis: Synthesis) -> None:
    role = _one(stack_synthesis, "aws:iam/role:Role", "backups-role")
    for statement in statements(policy_document(role.inputs["assumeRolePolicy"])):
        assert statement.get("Principal") == {"Service": "backup.amazonaws.com"}, (
            f"{role.name}: only backup.amazonaws.com may assume the role (164.308(a)(4))"
        )
        assert "aws:SourceAccount" in statement.get("Condition", {}).get("StringEquals", {}), (
            f"{role.name}: trust must be limited by aws:SourceAccount (164.308(a)(4))"
        )
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in stack_synthesis.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if depends_on(a, role, "role")
    }
    needed = {
        "AWSBackupServiceRolePolicyForBackup",
        "AWSBackupServiceRolePolicyForRestores",
        "AWSBackupServiceRolePolicyForS3Backup",
        "AWSBackupServiceRolePolicyForS3Restore",
    }
    assert needed <= attached, (
        f"{role.name}: needs backup and restore permissions incl. S3, missing {sorted(needed - attached)} "
        "(164.308(a)(7)(ii)(A))"
    )


def test_vault_notifications_go_to_the_alert_topic(stack_synthesis: Synthesis) -> None:
    topic = _one(stack_synthesis, "aws:sns/topic:Topic", "alerts-topic")
    notifications = stack_synthesis.of_type("aws:backup/vaultNotifications:VaultNotifications")
    primary = _vaults(stack_synthesis)["primary"]
    on_primary = [n for n in notifications if depends_on(n, primary, "backupVaultName")]
    assert len(on_primary) == 1 and depends_on(on_primary[0], topic, "snsTopicArn"), (
        "backups-vault: vault notifications must go to the alert topic (164.308(a)(7)(ii)(A))"
    )
    events = set(on_primary[0].inputs["backupVaultEvents"])
    assert events <= DELIVERED_VAULT_EVENTS, (
        f"backups-vault: {sorted(events - DELIVERED_VAULT_EVENTS)} are deprecated and never sent "
        "(164.308(a)(7)(ii)(A))"
    )
    assert {"COPY_JOB_FAILED", "S3_BACKUP_OBJECT_FAILED"} <= events, (
        "backups-vault: copy and S3 object failures must be notified (164.308(a)(7)(ii)(B))"
    )


def test_failed_backup_copy_and_restore_jobs_raise_alerts(stack_synthesis: Synthesis) -> None:
    topic = _one(stack_synthesis, "aws:sns/topic:Topic", "alerts-topic")
    rules = [
        r
        for r in stack_synthesis.of_type("aws:cloudwatch/eventRule:EventRule")
        if r.parent.endswith("::backups")
    ]
    targets = stack_synthesis.of_type("aws:cloudwatch/eventTarget:EventTarget")
    watched: dict[str, set[str]] = {}
    for rule in rules:
        if not any(depends_on(t, rule, "rule") and depends_on(t, topic, "arn") for t in targets):
            continue
        pattern = json.loads(rule.inputs["eventPattern"])
        detail = pattern.get("detail", {})
        for detail_type in pattern.get("detail-type", []):
            watched.setdefault(detail_type, set()).update(detail.get("state", []), detail.get("status", []))
    for detail_type in ("Backup Job State Change", "Copy Job State Change", "Restore Job State Change"):
        assert "FAILED" in watched.get(detail_type, set()), (
            f"backups: FAILED '{detail_type}' events must reach the alert topic (164.308(a)(7)(ii)(A))"
        )
    assert {"ABORTED", "EXPIRED"} <= watched["Backup Job State Change"], (
        "backups: aborted and expired backup jobs must reach the alert topic (164.308(a)(7)(ii)(A))"
    )


def test_restore_testing_plan_tests_the_latest_recovery_points_of_the_primary_vault(
    stack_synthesis: Synthesis,
) -> None:
    plan = _one(stack_synthesis, RESTORE_PLAN, "backups-restore-testing-plan")
    selection = plan.inputs["recoveryPointSelection"]
    assert selection.get("algorithm") == "LATEST_WITHIN_WINDOW", (
        f"{plan.name}: restore tests must use the latest recovery point (164.308(a)(7)(ii)(D))"
    )
    assert depends_on(plan, _vaults(stack_synthesis)["primary"], "recoveryPointSelection"), (
        f"{plan.name}: restore tests must draw from the primary vault (164.308(a)(7)(ii)(D))"
    )
    assert "*" not in selection.get("includeVaults", []), (
        f"{plan.name}: restore tests must name the vault, not every vault (164.308(a)(7)(ii)(D))"
    )
    assert plan.inputs.get("scheduleExpression", "").startswith("cron("), (
        f"{plan.name}: restore tests must run on a schedule (164.308(a)(7)(ii)(D))"
    )
    for resource_type in ("RDS", "S3"):
        restore = _restore_selection(stack_synthesis, resource_type)
        assert depends_on(restore, plan, "restoreTestingPlanName"), (
            f"{restore.name}: must belong to the restore testing plan (164.308(a)(7)(ii)(D))"
        )
        assert 1 <= restore.inputs.get("validationWindowHours", 0) <= 168, (
            f"{restore.name}: validation window hours must be set (164.308(a)(7)(ii)(D))"
        )
        condition = restore.inputs.get("protectedResourceConditions", {}).get("stringEquals", [])
        assert {"key": f"aws:ResourceTag/{BACKUP_TAG_KEY}", "value": BACKUP_TAG_VALUE} in condition, (
            f"{restore.name}: restore tests must cover the PHI-tagged stores (164.308(a)(7)(ii)(D))"
        )


def test_rds_restore_tests_stay_in_the_isolated_subnets_under_the_data_key(
    stack_synthesis: Synthesis,
) -> None:
    restore = _restore_selection(stack_synthesis, "RDS")
    overrides = restore.inputs.get("restoreMetadataOverrides", {})
    subnet_group = _one(stack_synthesis, "aws:rds/subnetGroup:SubnetGroup", "database-subnets")
    assert overrides.get("dbSubnetGroupName") == subnet_group.inputs["name"], (
        f"{restore.name}: must restore into the database's isolated subnet group, not the default VPC "
        "(164.308(a)(7)(ii)(D), 164.312(e)(1))"
    )
    data_key = _one(stack_synthesis, KEY, "keys-data")
    assert depends_on(restore, data_key, "restoreMetadataOverrides") and data_key.id in str(
        overrides.get("kmsKeyId")
    ), f"{restore.name}: the restored database must be encrypted with the data key (164.312(a)(2)(iv))"
    assert overrides.get("publiclyAccessible") == "false", (
        f"{restore.name}: the restored database must not be publicly accessible (164.308(a)(7)(ii)(D))"
    )
    group_ids = json.loads(overrides.get("vpcSecurityGroupIds") or "[]")
    groups = [g for g in stack_synthesis.of_type("aws:ec2/securityGroup:SecurityGroup") if g.id in group_ids]
    assert groups and len(groups) == len(group_ids), (
        f"{restore.name}: must attach the kit's restore-test security group (164.308(a)(7)(ii)(D))"
    )
    for group in groups:
        assert group.inputs.get("ingress") == [], (
            f"{group.name}: the restore-test security group must have no ingress (164.312(a)(1))"
        )


def test_s3_restore_tests_are_encrypted_with_the_data_key(stack_synthesis: Synthesis) -> None:
    restore = _restore_selection(stack_synthesis, "S3")
    overrides = restore.inputs.get("restoreMetadataOverrides", {})
    data_key = _one(stack_synthesis, KEY, "keys-data")
    assert overrides.get("encryptionType") == "SSE_KMS", (
        f"{restore.name}: restored buckets must use SSE-KMS, not SSE-S3 (164.312(a)(2)(iv))"
    )
    assert depends_on(restore, data_key, "restoreMetadataOverrides") and data_key.id in str(
        overrides.get("kmsKey")
    ), f"{restore.name}: restored buckets must be encrypted with the data key (164.312(a)(2)(iv))"


_GOVERNANCE: dict[str, Synthesis] = {}


@pytest.fixture(params=STACKS, ids=STACKS)
def governance_synthesis(request: pytest.FixtureRequest) -> Synthesis:
    """The stack with the loud opt-out `vaultLockMode: governance`."""
    spa = str(request.param)
    if spa not in _GOVERNANCE:
        config = load_stack(paths.stacks_dir(), spa)
        _GOVERNANCE[spa] = synthesize(config.model_copy(update={"vault_lock_mode": VaultLockMode.GOVERNANCE}))
    return _GOVERNANCE[spa]


def test_governance_mode_omits_the_changeable_window(governance_synthesis: Synthesis) -> None:
    for vault in _vaults(governance_synthesis).values():
        lock = _lock_for(governance_synthesis, vault).inputs
        assert lock.get("changeableForDays") is None, (
            f"{vault.name}: governance mode is expressed by omitting changeableForDays (164.310(d)(2)(iv))"
        )
        assert lock.get("minRetentionDays", 0) >= BACKUP_RETENTION_FLOOR_DAYS, (
            f"{vault.name}: governance mode keeps the retention floor (164.308(a)(7)(ii)(A))"
        )
