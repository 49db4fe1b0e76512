"""Proof the policy gate catches things: weaken one control at a time in the demo plan, expect a failure.

The demo stack is synthesized and bridged once; each mutant is a deep copy of its plan with ONE control
weakened (rotation off, database public, trail single-region, vault lock removed, world-open ingress,
...). All mutants plus the unmutated plan go through the gate's own code (`scripts.check.check_plans`)
in one checkov run, and each mutant must show a NEW failure (one the unmutated plan does not have)
mapped to the HIPAA section the weakened control serves. A mutant the gate lets through is a hole in
the gate, never a reason to loosen the expectation here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts import check as gate
from scripts.plan_bridge import to_plan
from tests.conftest import synth_stack
from tests.scripts.gate_support import CHECKOV, medspa

pytestmark = pytest.mark.skipif(
    not CHECKOV.is_file(),
    reason="the real checkov is not installed in .venv-checkov/; run python3 bootstrap.py",
)

BASELINE = "demo"
Plan = dict[str, Any]


class MutationTargetMissing(LookupError):
    """The control a mutant weakens is not in the demo plan, so the mutant cannot be built."""


@dataclass(frozen=True)
class Mutant:
    """One control weakened in the demo plan, and the HIPAA sections a failure must name (any of)."""

    name: str
    weakens: str
    sections: tuple[str, ...]
    mutate: Callable[[Plan], None]


# ------------------------------------------------------------------------------------- plan editing


def _modules(plan: Plan) -> Iterator[dict[str, Any]]:
    """Every module of planned_values (root first), so resources can be edited or removed in place."""
    stack = [plan["planned_values"]["root_module"]]
    while stack:
        module = stack.pop()
        yield module
        stack.extend(module.get("child_modules") or [])


def _find(plan: Plan, resource_type: str, pulumi_name: str | None = None) -> list[dict[str, Any]]:
    """Resources of a type (and Pulumi name); none found means the mutant cannot be built."""
    found = [
        resource
        for module in _modules(plan)
        for resource in module.get("resources") or []
        if resource["type"] == resource_type
        and (pulumi_name is None or resource["values"].get("pulumi_name") == pulumi_name)
    ]
    if not found:
        raise MutationTargetMissing(
            f"no {resource_type}{f' named {pulumi_name!r}' if pulumi_name else ''} in the demo plan"
        )
    return found


def _values(plan: Plan, resource_type: str, pulumi_name: str | None = None) -> dict[str, Any]:
    """The values of the one resource a mutant edits."""
    found = _find(plan, resource_type, pulumi_name)
    assert len(found) == 1, f"expected one {resource_type} {pulumi_name!r}, found {len(found)}"
    values: dict[str, Any] = found[0]["values"]
    return values


def _remove(plan: Plan, resource_type: str, pulumi_name: str | None = None) -> None:
    """Delete resources from planned_values and from configuration, as if the program never made them."""
    names = {r["name"] for r in _find(plan, resource_type, pulumi_name)}

    def gone(resource: dict[str, Any]) -> bool:
        return resource.get("type") == resource_type and resource.get("name") in names

    for module in _modules(plan):
        module["resources"] = [r for r in module.get("resources") or [] if not gone(r)]
    config_stack = [(plan.get("configuration") or {}).get("root_module") or {}]
    while config_stack:
        module = config_stack.pop()
        module["resources"] = [r for r in module.get("resources") or [] if not gone(r)]
        config_stack.extend(
            (call.get("module") or {}) for call in (module.get("module_calls") or {}).values()
        )


def _set(resource_type: str, pulumi_name: str | None, **changes: Any) -> Callable[[Plan], None]:
    def mutate(plan: Plan) -> None:
        values = _values(plan, resource_type, pulumi_name)
        for key, value in changes.items():
            assert key in values, f"{pulumi_name or resource_type} has no {key!r} to weaken"
            values[key] = value

    return mutate


def _drop(resource_type: str, pulumi_name: str | None = None) -> Callable[[Plan], None]:
    def mutate(plan: Plan) -> None:
        _remove(plan, resource_type, pulumi_name)

    return mutate


def _db_unencrypted(plan: Plan) -> None:
    values = _values(plan, "aws_db_instance", "database-instance")
    values["storage_encrypted"] = False
    values.pop("kms_key_id", None)


def _copy_action_removed(plan: Plan) -> None:
    """The daily rule stops copying to the DR region (the other rules still copy: per-rule, not any)."""
    rules = _values(plan, "aws_backup_plan", "backups-plan")["rule"]
    daily = next(rule for rule in rules if rule.get("rule_name") == "daily")
    assert daily.pop("copy_action", None), "the daily backup rule has no copy_action to remove"


def _world_open_ingress(plan: Plan) -> None:
    values = _values(plan, "aws_security_group", "database-sg")
    values["ingress"] = [
        *values.get("ingress", []),
        {
            "description": "mutant: database port from anywhere",
            "from_port": 5432,
            "to_port": 5432,
            "protocol": "tcp",
            "cidr_blocks": ["0.0.0.0/0"],
            "ipv6_cidr_blocks": [],
            "prefix_list_ids": [],
            "security_groups": [],
            "self": False,
        },
    ]


def _tls_statement_removed(plan: Plan) -> None:
    values = _values(plan, "aws_s3_bucket_policy", "storage-documents-policy")
    document = json.loads(values["policy"])
    kept = [s for s in document["Statement"] if "aws:SecureTransport" not in json.dumps(s.get("Condition"))]
    assert len(kept) < len(document["Statement"]), "the documents bucket policy has no TLS-only statement"
    document["Statement"] = kept
    values["policy"] = json.dumps(document)


def _object_lock_removed(plan: Plan) -> None:
    _remove(plan, "aws_s3_bucket_object_lock_configuration", "audit-archive-object-lock")
    _values(plan, "aws_s3_bucket", "audit-archive-bucket")["object_lock_enabled"] = False


def _force_tls_off(plan: Plan) -> None:
    parameters = _values(plan, "aws_db_parameter_group", "database-params")["parameter"]
    forced = [p for p in parameters if p.get("name") == "rds.force_ssl"]
    assert forced, "the database parameter group does not set rds.force_ssl"
    forced[0]["value"] = "0"


def _phi_bucket_aws_managed_key(plan: Plan) -> None:
    values = _values(
        plan, "aws_s3_bucket_server_side_encryption_configuration", "storage-documents-encryption"
    )
    values["rule"][0]["apply_server_side_encryption_by_default"] = [{"sse_algorithm": "AES256"}]


def _data_events_miss_photos(plan: Plan) -> None:
    selectors = _values(plan, "aws_cloudtrail", "audit-trail")["event_selector"]
    for selector in selectors:
        for data_resource in selector.get("data_resource") or []:
            data_resource["values"] = [v for v in data_resource["values"] if "photos" not in v]


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "kms-rotation-off",
        "the PHI data key has enable_key_rotation = false",
        ("164.312(a)(2)(iv)",),
        _set("aws_kms_key", "keys-data", enable_key_rotation=False),
    ),
    Mutant(
        "db-public",
        "the PHI database is publicly accessible",
        ("164.312(a)(1)", "164.312(e)(1)"),
        _set("aws_db_instance", "database-instance", publicly_accessible=True),
    ),
    Mutant(
        "db-unencrypted",
        "the PHI database's storage is not encrypted",
        ("164.312(a)(2)(iv)",),
        _db_unencrypted,
    ),
    Mutant(
        "trail-single-region",
        "CloudTrail records one region only",
        ("164.312(b)",),
        _set("aws_cloudtrail", "audit-trail", is_multi_region_trail=False),
    ),
    Mutant(
        "trail-validation-off",
        "CloudTrail log file validation is off",
        ("164.312(c)(1)",),
        _set("aws_cloudtrail", "audit-trail", enable_log_file_validation=False),
    ),
    Mutant(
        "vault-lock-removed",
        "the primary backup vault has no vault lock",
        ("164.310(d)(2)(iv)", "164.308(a)(7)(ii)(A)"),
        _drop("aws_backup_vault_lock_configuration", "backups-vault-lock"),
    ),
    Mutant(
        "backup-copy-removed",
        "the daily backup rule no longer copies to the DR region",
        ("164.308(a)(7)(ii)(B)",),
        _copy_action_removed,
    ),
    Mutant(
        "world-open-ingress",
        "the database security group admits 0.0.0.0/0 on the database port",
        ("164.312(a)(1)", "164.312(e)(1)"),
        _world_open_ingress,
    ),
    Mutant(
        "tls-statement-removed",
        "the documents bucket policy no longer denies plaintext (aws:SecureTransport) requests",
        ("164.312(e)(1)",),
        _tls_statement_removed,
    ),
    Mutant(
        "log-retention-30d",
        "the VPC flow log group keeps events 30 days",
        ("164.312(b)",),
        _set("aws_cloudwatch_log_group", "network-flow-logs", retention_in_days=30),
    ),
    Mutant(
        "trail-log-retention-30d",
        "the log group CloudTrail delivers to keeps events 30 days",
        ("164.312(b)",),
        _set("aws_cloudwatch_log_group", "audit-trail-logs", retention_in_days=30),
    ),
    Mutant(
        "phi-bucket-unprotected",
        "the documents PHI bucket has pulumi_protect and pulumi_retain_on_delete false",
        ("164.310(d)(2)(iv)", "164.312(c)(1)"),
        _set("aws_s3_bucket", "storage-documents", pulumi_protect=False, pulumi_retain_on_delete=False),
    ),
    Mutant(
        "object-lock-removed",
        "the CloudTrail log archive has no Object Lock",
        ("164.316(b)(2)(i)",),
        _object_lock_removed,
    ),
    Mutant(
        "object-lock-config-removed",
        "the log archive keeps object_lock_enabled but loses its default COMPLIANCE retention",
        ("164.316(b)(2)(i)",),
        _drop("aws_s3_bucket_object_lock_configuration", "audit-archive-object-lock"),
    ),
    Mutant(
        "alarm-removed",
        "the root-usage security alarm is gone (its metric filter stays)",
        ("164.308(a)(1)(ii)(D)",),
        _drop("aws_cloudwatch_metric_alarm", "audit-alarms-root-usage-alarm"),
    ),
    Mutant(
        "guardduty-removed",
        "no GuardDuty detector",
        ("164.308(a)(6)(i)", "164.308(a)(6)(ii)", "164.308(a)(1)(ii)(D)"),
        _drop("aws_guardduty_detector"),
    ),
    Mutant(
        "flow-log-removed",
        "the VPC has no flow log",
        ("164.312(b)",),
        _drop("aws_flow_log"),
    ),
    Mutant(
        "db-force-tls-off",
        "the database parameter group sets rds.force_ssl = 0",
        ("164.312(e)(1)", "164.312(e)(2)(ii)"),
        _force_tls_off,
    ),
    Mutant(
        "phi-bucket-aws-managed-key",
        "the documents PHI bucket is encrypted with SSE-S3 instead of the spa's KMS key",
        ("164.312(a)(2)(iv)",),
        _phi_bucket_aws_managed_key,
    ),
    Mutant(
        "phi-bucket-access-logging-removed",
        "the documents PHI bucket no longer sends server access logs (a scoped skip must not hide it)",
        ("164.312(b)",),
        _drop("aws_s3_bucket_logging", "storage-documents-logging"),
    ),
    Mutant(
        "phi-bucket-public-acls-allowed",
        "the documents PHI bucket's public access block no longer blocks public ACLs",
        ("164.312(a)(1)",),
        _set(
            "aws_s3_bucket_public_access_block",
            "storage-documents-public-access",
            block_public_acls=False,
            ignore_public_acls=False,
        ),
    ),
    Mutant(
        "db-deletion-protection-off",
        "the PHI database can be deleted (deletion_protection = false)",
        ("164.310(d)(2)(iv)",),
        _set("aws_db_instance", "database-instance", deletion_protection=False),
    ),
    Mutant(
        "security-hub-removed",
        "Security Hub is not enabled",
        ("164.308(a)(1)(ii)(D)", "164.308(a)(8)"),
        _drop("aws_securityhub_account"),
    ),
    Mutant(
        "config-recorder-removed",
        "AWS Config has no recorder",
        ("164.308(a)(8)", "164.312(b)"),
        _drop("aws_config_configuration_recorder"),
    ),
    Mutant(
        "password-policy-short",
        "the account password policy accepts 8-character passwords",
        ("164.308(a)(5)(ii)(D)", "164.312(d)"),
        _set("aws_iam_account_password_policy", None, minimum_password_length=8),
    ),
    Mutant(
        "data-events-miss-photos",
        "CloudTrail S3 data events no longer cover the photos PHI bucket",
        ("164.312(b)",),
        _data_events_miss_photos,
    ),
)


# ------------------------------------------------------------------------------------------ fixtures


@dataclass(frozen=True)
class Built:
    """The mutants that could be built (by name) and why the others could not."""

    plans: dict[str, Plan]
    missing: dict[str, str]


@pytest.fixture(scope="module")
def demo_plan() -> Plan:
    return to_plan(synth_stack(BASELINE).resources, spa=BASELINE)


@pytest.fixture(scope="module")
def built(demo_plan: Plan) -> Built:
    plans: dict[str, Plan] = {}
    missing: dict[str, str] = {}
    for mutant in MUTANTS:
        plan = copy.deepcopy(demo_plan)
        try:
            mutant.mutate(plan)
        except MutationTargetMissing as error:
            missing[mutant.name] = str(error)
            continue
        assert plan != demo_plan, f"mutant {mutant.name} changed nothing"
        plans[mutant.name] = plan
    return Built(plans=plans, missing=missing)


@pytest.fixture(scope="module")
def report(demo_plan: Plan, built: Built) -> gate.CheckReport:
    """The unmutated plan and every mutant, each as `<name>.json`, through ONE checkov run."""
    return gate.check_plans([(BASELINE, demo_plan), *built.plans.items()])


def _failures(report: gate.CheckReport, spa: str) -> list[gate.Finding]:
    return [f for f in report.findings if f.spa == spa and f.status == "failed"]


def _describe(findings: list[gate.Finding]) -> str:
    return "; ".join(f"{f.check_id} on {f.display_name} {list(f.hipaa)}" for f in findings) or "none"


# ------------------------------------------------------------------------------------------------ tests


def test_mutant_names_are_unique_plan_file_names() -> None:
    names = [m.name for m in MUTANTS]
    assert len(set(names)) == len(names), "each mutant is written as its own <name>.json"
    assert BASELINE not in names


def test_unmutated_demo_plan_passes_the_gate(report: gate.CheckReport) -> None:
    failures = _failures(report, BASELINE)
    assert not failures, f"the unmutated demo plan must pass every check, but fails: {_describe(failures)}"


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_gate_catches_mutant(mutant: Mutant, built: Built, report: gate.CheckReport) -> None:
    assert mutant.name not in built.missing, (
        f"{mutant.name}: cannot weaken the control ({built.missing.get(mutant.name)}); the demo plan "
        f"lacks what {', '.join(mutant.sections)} needs"
    )
    baseline = {(f.check_id, f.address) for f in _failures(report, BASELINE)}
    new = [f for f in _failures(report, mutant.name) if (f.check_id, f.address) not in baseline]
    named = [f for f in new if set(f.hipaa) & set(mutant.sections)]
    assert named, (
        f"{mutant.name} ({mutant.weakens}) must fail a check mapped to {' or '.join(mutant.sections)}; "
        f"new failures: {_describe(new)}"
    )


# --------------------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def plan_files(tmp_path_factory: pytest.TempPathFactory, demo_plan: Plan, built: Built) -> Path:
    directory = tmp_path_factory.mktemp("mutant-plans")
    (directory / f"{BASELINE}.json").write_text(json.dumps(demo_plan))
    for name, plan in built.plans.items():
        (directory / f"{name}.json").write_text(json.dumps(plan))
    return directory


def test_cli_exits_0_on_the_unmutated_demo_plan(plan_files: Path) -> None:
    result = medspa("check", "--plan", str(plan_files / f"{BASELINE}.json"), "--format", "json")
    failed = [f for f in json.loads(result.stdout or "{}").get("findings", []) if f["status"] == "failed"]
    assert result.returncode == 0, (
        f"medspa check --plan demo.json must exit 0, got {result.returncode}: "
        f"{[(f['check_id'], f['address'], f['hipaa']) for f in failed]} {result.stderr.strip()}"
    )


def test_cli_exits_1_on_a_public_database(plan_files: Path) -> None:
    result = medspa("check", "--plan", str(plan_files / "db-public.json"), "--format", "json")
    assert result.returncode == 1, (
        f"a public PHI database must exit 1, got {result.returncode}: {result.stderr}"
    )
    failed = [f for f in json.loads(result.stdout)["findings"] if f["status"] == "failed"]
    assert any(
        f["address"].endswith("aws_db_instance.database_instance")
        and {"164.312(a)(1)", "164.312(e)(1)"} & set(f["hipaa"])
        for f in failed
    ), f"database-instance must fail under 164.312(a)(1) or 164.312(e)(1): {failed}"
