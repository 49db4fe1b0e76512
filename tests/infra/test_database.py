"""Database invariants for every bundled stack.

164.312(a)(2)(iv) encryption (storage, Performance Insights, master secret under the data key),
164.312(e)(1) transmission security (TLS forced), 164.312(a)(1) access control (private, narrow ingress,
IAM auth, no password anywhere), 164.312(b) audit controls (log exports to encrypted, retained groups),
164.308(a)(7)(ii)(A) backups and 164.312(c)(1) integrity (deletion protection, final snapshot).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.config import SpaConfig, from_pulumi_runtime, load_stack, to_pulumi_config
from infra.network import db_port
from scripts import paths
from scripts.synth import ResourceRecord, Synthesis, synthesize
from tests.conftest import synth_stack
from tests.support import depends_on

INSTANCE = "aws:rds/instance:Instance"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
OPTION_GROUP = "aws:rds/optionGroup:OptionGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SUBNET = "aws:ec2/subnet:Subnet"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
WORLD = {"0.0.0.0/0", "::/0"}
PASSWORD_INPUTS = ("password", "masterPassword", "passwordWo", "masterUserPassword")
EXPECTED_EXPORTS = {
    "postgres": {"postgresql", "upgrade"},
    "mysql": {"audit", "error", "general", "slowquery"},
    "mariadb": {"audit", "error", "general", "slowquery"},
}


def _config(synthesis: Synthesis) -> SpaConfig:
    return load_stack(paths.stacks_dir(), synthesis.spa)


def _instance(synthesis: Synthesis) -> ResourceRecord:
    instances = synthesis.of_type(INSTANCE)
    assert len(instances) == 1, f"{synthesis.spa}: one RDS instance expected, found {len(instances)}"
    return instances[0]


def _security_group(synthesis: Synthesis) -> ResourceRecord:
    return synthesis.one(SECURITY_GROUP, "database-sg")


def _parameter_group(synthesis: Synthesis) -> ResourceRecord:
    return synthesis.one(PARAMETER_GROUP, "database-params")


def _parameters(synthesis: Synthesis) -> dict[str, str]:
    return {p["name"]: p["value"] for p in _parameter_group(synthesis).inputs.get("parameters", [])}


def _key(synthesis: Synthesis, purpose: str) -> ResourceRecord:
    return synthesis.one(KEY, f"keys-{purpose}")


def _db_log_groups(synthesis: Synthesis) -> list[ResourceRecord]:
    identifier = _instance(synthesis).inputs["identifier"]
    prefix = f"/aws/rds/instance/{identifier}/"
    return [g for g in synthesis.of_type(LOG_GROUP) if str(g.inputs.get("name", "")).startswith(prefix)]


# --- Engine and sizing from config ---


def test_database_uses_the_configured_engine(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis)
    inputs = _instance(stack_synthesis).inputs
    actual = (inputs["engine"], inputs["engineVersion"], inputs["instanceClass"], inputs["multiAz"])
    expected = (
        config.db_engine.value,
        config.db_engine_version,
        config.db_instance_class,
        config.db_multi_az,
    )
    assert actual == expected, (
        f"database-instance: {actual} differs from config {expected} (164.308(a)(7)(ii)(B))"
    )


def test_database_storage_is_gp3_of_the_configured_size(stack_synthesis: Synthesis) -> None:
    inputs = _instance(stack_synthesis).inputs
    size = _config(stack_synthesis).db_allocated_storage_gb
    assert inputs["storageType"] == "gp3" and inputs["allocatedStorage"] == size, (
        f"database-instance: gp3 storage of {size} GB expected (164.308(a)(7)(ii)(B))"
    )


# --- Encryption ---


def test_database_storage_is_encrypted_with_the_data_key(stack_synthesis: Synthesis) -> None:
    instance = _instance(stack_synthesis)
    assert instance.inputs.get("storageEncrypted") is True and depends_on(
        instance, _key(stack_synthesis, "data"), "kmsKeyId"
    ), "database-instance: storage must be encrypted with the PHI data key (164.312(a)(2)(iv))"


def test_performance_insights_is_encrypted_with_the_data_key(stack_synthesis: Synthesis) -> None:
    instance = _instance(stack_synthesis)
    assert instance.inputs.get("performanceInsightsEnabled") is True and depends_on(
        instance, _key(stack_synthesis, "data"), "performanceInsightsKmsKeyId"
    ), (
        "database-instance: Performance Insights must be on and encrypted with the data key (164.312(a)(2)(iv))"
    )


def test_master_password_is_managed_by_secrets_manager_under_the_data_key(stack_synthesis: Synthesis) -> None:
    instance = _instance(stack_synthesis)
    assert instance.inputs.get("manageMasterUserPassword") is True and depends_on(
        instance, _key(stack_synthesis, "data"), "masterUserSecretKmsKeyId"
    ), "database-instance: the master secret must be RDS-managed under the data key (164.312(a)(2)(iv))"


def test_no_password_appears_in_database_inputs(stack_synthesis: Synthesis) -> None:
    inputs = _instance(stack_synthesis).inputs
    present = [k for k in PASSWORD_INPUTS if k in inputs]
    assert not present, f"database-instance: password inputs {present} must never be set (164.312(a)(1))"


def test_no_resource_carries_a_password_input(stack_synthesis: Synthesis) -> None:
    carriers = [r.name for r in stack_synthesis.resources if any(k in r.inputs for k in PASSWORD_INPUTS)]
    assert not carriers, f"{carriers}: no resource may hold a password in config or state (164.312(a)(1))"


# --- Network placement and access control ---


def test_database_is_not_publicly_accessible(stack_synthesis: Synthesis) -> None:
    assert _instance(stack_synthesis).inputs.get("publiclyAccessible") is False, (
        "database-instance: must not be publicly accessible (164.312(a)(1))"
    )


def test_database_lives_in_the_isolated_data_subnets(stack_synthesis: Synthesis) -> None:
    subnet_group = stack_synthesis.one(SUBNET_GROUP, "database-subnets")
    data_subnets = [
        s for s in stack_synthesis.of_type(SUBNET) if s.inputs["tags"].get("Tier") == "data-isolated"
    ]
    assert len(data_subnets) >= 2 and all(depends_on(subnet_group, s, "subnetIds") for s in data_subnets), (
        f"{subnet_group.name}: must span the isolated data subnets of two AZs (164.312(e)(1))"
    )
    others = [s for s in stack_synthesis.of_type(SUBNET) if s not in data_subnets]
    assert not any(depends_on(subnet_group, s, "subnetIds") for s in others), (
        f"{subnet_group.name}: must not include a non-isolated subnet (164.312(e)(1))"
    )


def test_database_uses_its_subnet_group_and_security_group(stack_synthesis: Synthesis) -> None:
    instance = _instance(stack_synthesis)
    assert depends_on(
        instance, stack_synthesis.one(SUBNET_GROUP, "database-subnets"), "dbSubnetGroupName"
    ) and depends_on(instance, _security_group(stack_synthesis), "vpcSecurityGroupIds"), (
        "database-instance: must sit in its subnet group behind its own security group (164.312(a)(1))"
    )


def test_database_ingress_is_only_the_database_port(stack_synthesis: Synthesis) -> None:
    port = db_port(_config(stack_synthesis).db_engine.value)
    group = _security_group(stack_synthesis)
    ports = {(r["protocol"], r["fromPort"], r["toPort"]) for r in group.inputs["ingress"]}
    assert ports == {("tcp", port, port)}, (
        f"{group.name}: ingress {ports} must be tcp/{port} only (164.312(a)(1))"
    )


def test_database_ingress_comes_only_from_the_app_tier_and_admin_prefix_list(
    stack_synthesis: Synthesis,
) -> None:
    group = _security_group(stack_synthesis)
    app = stack_synthesis.one(SECURITY_GROUP, "network-app-sg")
    admin = stack_synthesis.one(PREFIX_LIST, "allowlist-admin-ipv4")
    sources = set()
    for rule in group.inputs["ingress"]:
        sources |= {("sg", s) for s in rule.get("securityGroups", [])}
        sources |= {("pl", p) for p in rule.get("prefixListIds", [])}
        sources |= {("cidr", c) for c in rule.get("cidrBlocks", []) + rule.get("ipv6CidrBlocks", [])}
        assert not rule.get("self"), f"{group.name}: self-referencing ingress is not expected (164.312(a)(1))"
    admin_lists = {
        ("pl", p.id) for p in stack_synthesis.of_type(PREFIX_LIST) if p.name.startswith("allowlist-admin")
    }
    assert ("sg", app.id) in sources and ("pl", admin.id) in sources, (
        f"{group.name}: the app tier and the admin prefix list must reach the database (164.312(a)(1))"
    )
    assert sources <= {("sg", app.id)} | admin_lists, (
        f"{group.name}: ingress sources {sorted(sources)} beyond the app tier and admin list (164.312(a)(1))"
    )


def test_database_ingress_is_never_open_to_the_world(stack_synthesis: Synthesis) -> None:
    group = _security_group(stack_synthesis)
    for rule in group.inputs["ingress"]:
        cidrs = set(rule.get("cidrBlocks", [])) | set(rule.get("ipv6CidrBlocks", []))
        assert not cidrs & WORLD, f"{group.name}: ingress open to {cidrs & WORLD} (164.312(a)(1))"


def test_database_security_group_has_no_egress(stack_synthesis: Synthesis) -> None:
    group = _security_group(stack_synthesis)
    assert group.inputs.get("egress") == [], (
        f"{group.name}: the database never initiates connections (164.312(e)(1))"
    )


def test_iam_database_authentication_is_on(stack_synthesis: Synthesis) -> None:
    assert _instance(stack_synthesis).inputs.get("iamDatabaseAuthenticationEnabled") is True, (
        "database-instance: IAM database authentication must be enabled (164.312(a)(1))"
    )


# --- Transmission security ---


def test_parameter_group_family_matches_the_engine(stack_synthesis: Synthesis) -> None:
    family = _parameter_group(stack_synthesis).inputs["family"]
    expected = _config(stack_synthesis).db_parameter_family
    assert family == expected, f"database-params: family {family} must be {expected} (164.312(e)(1))"


def test_parameter_group_forces_tls(stack_synthesis: Synthesis) -> None:
    parameters = _parameters(stack_synthesis)
    engine = _config(stack_synthesis).db_engine.value
    forced = (
        parameters.get("rds.force_ssl") == "1"
        if engine == "postgres"
        else parameters.get("require_secure_transport", "").upper() == "ON"
    )
    assert forced, f"database-params: {engine} must refuse connections without TLS (164.312(e)(1))"


def test_postgres_logs_connections_and_disconnections(stack_synthesis: Synthesis) -> None:
    if _config(stack_synthesis).db_engine.value != "postgres":
        pytest.skip("connection logging parameters are PostgreSQL's; MySQL/MariaDB use the audit plugin")
    parameters = _parameters(stack_synthesis)
    assert parameters.get("log_connections") == "1" and parameters.get("log_disconnections") == "1", (
        "database-params: PostgreSQL must log connections and disconnections (164.312(b))"
    )


def test_mysql_family_loads_the_audit_plugin(stack_synthesis: Synthesis) -> None:
    if _instance(stack_synthesis).inputs["engine"] == "postgres":
        pytest.skip("the MariaDB audit plugin applies to MySQL and MariaDB only")
    groups = stack_synthesis.of_type(OPTION_GROUP)
    options = {o["optionName"] for g in groups for o in g.inputs.get("options", [])}
    assert "MARIADB_AUDIT_PLUGIN" in options and depends_on(
        _instance(stack_synthesis), groups[0], "optionGroupName"
    ), "database-instance: MySQL/MariaDB need the audit plugin for the audit log export (164.312(b))"


def test_database_uses_the_tls_parameter_group(stack_synthesis: Synthesis) -> None:
    assert depends_on(_instance(stack_synthesis), _parameter_group(stack_synthesis), "parameterGroupName"), (
        "database-instance: must use the TLS-forcing parameter group (164.312(e)(1))"
    )


def test_database_uses_the_rsa2048_ca(stack_synthesis: Synthesis) -> None:
    assert _instance(stack_synthesis).inputs.get("caCertIdentifier") == "rds-ca-rsa2048-g1", (
        "database-instance: server certificate must come from rds-ca-rsa2048-g1 (164.312(e)(1))"
    )


# --- Audit logs ---


def test_database_exports_its_engine_logs(stack_synthesis: Synthesis) -> None:
    engine = _config(stack_synthesis).db_engine.value
    exports = set(_instance(stack_synthesis).inputs.get("enabledCloudwatchLogsExports", []))
    assert exports == EXPECTED_EXPORTS[engine], (
        f"database-instance: {engine} must export {sorted(EXPECTED_EXPORTS[engine])}, found {sorted(exports)} "
        "(164.312(b))"
    )


def test_every_exported_log_has_a_precreated_log_group(stack_synthesis: Synthesis) -> None:
    identifier = _instance(stack_synthesis).inputs["identifier"]
    exports = _instance(stack_synthesis).inputs.get("enabledCloudwatchLogsExports", [])
    names = {g.inputs["name"] for g in _db_log_groups(stack_synthesis)}
    missing = [log for log in exports if f"/aws/rds/instance/{identifier}/{log}" not in names]
    assert not missing, f"database-instance: no encrypted log group created ahead for {missing} (164.312(b))"


def test_database_log_groups_are_encrypted_with_the_logs_key(stack_synthesis: Synthesis) -> None:
    logs_key = _key(stack_synthesis, "logs")
    for group in _db_log_groups(stack_synthesis):
        assert depends_on(group, logs_key, "kmsKeyId"), (
            f"{group.name}: database log group must be encrypted with the logs key (164.312(a)(2)(iv))"
        )


def test_database_log_groups_keep_the_configured_retention(stack_synthesis: Synthesis) -> None:
    days = _config(stack_synthesis).log_retention_days
    for group in _db_log_groups(stack_synthesis):
        assert group.inputs.get("retentionInDays") == days, (
            f"{group.name}: retention must be {days} days (164.312(b))"
        )


def test_database_log_groups_are_protected(stack_synthesis: Synthesis) -> None:
    groups = _db_log_groups(stack_synthesis)
    assert groups, f"{stack_synthesis.spa}: no database log group found (164.312(b))"
    for group in groups:
        assert group.protect and group.retain_on_delete, (
            f"{group.name}: database log group must be protected and retained (164.312(b))"
        )


def test_database_is_created_after_its_log_groups(stack_synthesis: Synthesis) -> None:
    instance = _instance(stack_synthesis)
    for group in _db_log_groups(stack_synthesis):
        assert depends_on(instance, group), (
            f"{group.name}: must exist before the database, or RDS creates it unencrypted (164.312(b))"
        )


# --- Backups and integrity ---


def test_database_keeps_backups_35_days(stack_synthesis: Synthesis) -> None:
    retention = _instance(stack_synthesis).inputs.get("backupRetentionPeriod", 0)
    assert retention >= 35, (
        f"database-instance: backups kept {retention} days, need 35 (164.308(a)(7)(ii)(A))"
    )


def test_database_copies_tags_to_snapshots(stack_synthesis: Synthesis) -> None:
    assert _instance(stack_synthesis).inputs.get("copyTagsToSnapshot") is True, (
        "database-instance: snapshots must carry the PHI and backup tags (164.308(a)(7)(ii)(A))"
    )


def test_database_keeps_automated_backups_after_deletion(stack_synthesis: Synthesis) -> None:
    assert _instance(stack_synthesis).inputs.get("deleteAutomatedBackups") is False, (
        "database-instance: automated backups must survive the instance (164.308(a)(7)(ii)(A))"
    )


def test_database_takes_a_final_snapshot(stack_synthesis: Synthesis) -> None:
    inputs = _instance(stack_synthesis).inputs
    assert inputs.get("skipFinalSnapshot") is False and inputs.get("finalSnapshotIdentifier"), (
        "database-instance: a final snapshot must be taken on deletion (164.308(a)(7)(ii)(A))"
    )


def test_database_has_deletion_protection(stack_synthesis: Synthesis) -> None:
    assert _instance(stack_synthesis).inputs.get("deletionProtection") is True, (
        "database-instance: deletion protection must be on (164.312(c)(1))"
    )


def test_database_is_protected_and_retained(stack_synthesis: Synthesis) -> None:
    instance = _instance(stack_synthesis)
    assert instance.protect and instance.retain_on_delete, (
        "database-instance: must be protected and retained on delete (164.312(c)(1))"
    )


def test_database_takes_minor_version_patches(stack_synthesis: Synthesis) -> None:
    assert _instance(stack_synthesis).inputs.get("autoMinorVersionUpgrade") is True, (
        "database-instance: minor version upgrades must be automatic (164.308(a)(5)(ii)(B))"
    )


def test_database_is_tagged_phi_for_backup_selection(stack_synthesis: Synthesis) -> None:
    tags = _instance(stack_synthesis).inputs.get("tags", {})
    assert tags.get("DataClassification") == "PHI" and tags.get("medspa:backup") == "phi", (
        "database-instance: must be tagged PHI with the backup-selection tag (164.308(a)(7)(ii)(A))"
    )


# --- The other engines: the demo stack is PostgreSQL, so MySQL and MariaDB variants are synthesized here ---

_VARIANTS: dict[str, Synthesis] = {}


@pytest.fixture(params=[("mysql", "8.0"), ("mariadb", "10.11")], ids=["mysql", "mariadb"])
def engine_variant(request: pytest.FixtureRequest) -> Synthesis:
    """The demo spa with another HIPAA-eligible engine, synthesized once per session."""
    engine, version = request.param
    if engine not in _VARIANTS:
        raw = to_pulumi_config(load_stack(paths.stacks_dir(), "demo"))
        raw["medspa:dbEngine"] = engine
        raw["medspa:dbEngineVersion"] = version
        _VARIANTS[engine] = synthesize(from_pulumi_runtime("demo", raw))
    return _VARIANTS[engine]


def _variant_engine(synthesis: Synthesis) -> str:
    return str(_instance(synthesis).inputs["engine"])


def test_mysql_family_forces_tls(engine_variant: Synthesis) -> None:
    parameters = _parameters(engine_variant)
    assert parameters.get("require_secure_transport") == "ON" and "rds.force_ssl" not in parameters, (
        f"database-params: {_variant_engine(engine_variant)} must set require_secure_transport=ON (164.312(e)(1))"
    )


def test_mysql_family_parameter_group_matches_the_engine(engine_variant: Synthesis) -> None:
    family = _parameter_group(engine_variant).inputs["family"]
    engine = _variant_engine(engine_variant)
    assert family.startswith(engine), (
        f"database-params: family {family} must be a {engine} family (164.312(e)(1))"
    )


def test_mysql_family_exports_audit_error_general_and_slow_logs(engine_variant: Synthesis) -> None:
    exports = set(_instance(engine_variant).inputs.get("enabledCloudwatchLogsExports", []))
    assert exports == EXPECTED_EXPORTS["mysql"], (
        f"database-instance: {_variant_engine(engine_variant)} exports {sorted(exports)} (164.312(b))"
    )


def test_mysql_family_audit_plugin_never_logs_query_text(engine_variant: Synthesis) -> None:
    groups = engine_variant.of_type(OPTION_GROUP)
    settings = {
        s["name"]: s["value"]
        for g in groups
        for o in g.inputs["options"]
        for s in o.get("optionSettings", [])
    }
    events = set(settings.get("SERVER_AUDIT_EVENTS", "").split(","))
    assert "CONNECT" in events and "QUERY" not in events and "QUERY_DML" not in events, (
        f"database-options: audit events {sorted(events)} must include connections and exclude query text, "
        "which would copy PHI into logs (164.312(b))"
    )


def test_mysql_family_uses_the_audit_option_group(engine_variant: Synthesis) -> None:
    test_mysql_family_loads_the_audit_plugin(engine_variant)


def test_mysql_family_keeps_every_other_control(engine_variant: Synthesis) -> None:
    inputs = _instance(engine_variant).inputs
    controls = {
        "storageEncrypted": True,
        "publiclyAccessible": False,
        "deletionProtection": True,
        "iamDatabaseAuthenticationEnabled": True,
        "manageMasterUserPassword": True,
        "skipFinalSnapshot": False,
    }
    wrong = {k: inputs.get(k) for k, v in controls.items() if inputs.get(k) is not v}
    assert not wrong, f"database-instance: {_variant_engine(engine_variant)} weakens {wrong} (164.312(a)(1))"


# --- Negative controls: the invariants above fail on a weakened environment ---


def _weakened(mutate: Any) -> Synthesis:
    synthesis = copy.deepcopy(synth_stack("demo"))
    mutate(synthesis)
    return synthesis


def test_negative_control_public_database_is_caught() -> None:
    def make_public(synthesis: Synthesis) -> None:
        _instance(synthesis).inputs["publiclyAccessible"] = True

    with pytest.raises(AssertionError, match="publicly accessible"):
        test_database_is_not_publicly_accessible(_weakened(make_public))


def test_negative_control_world_open_ingress_is_caught() -> None:
    def open_to_world(synthesis: Synthesis) -> None:
        _security_group(synthesis).inputs["ingress"].append(
            {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["0.0.0.0/0"]}
        )

    with pytest.raises(AssertionError, match="open to"):
        test_database_ingress_is_never_open_to_the_world(_weakened(open_to_world))


def test_negative_control_plain_password_is_caught() -> None:
    def add_password(synthesis: Synthesis) -> None:
        _instance(synthesis).inputs["password"] = "hunter22"

    with pytest.raises(AssertionError, match="password"):
        test_no_password_appears_in_database_inputs(_weakened(add_password))


def test_negative_control_tls_not_forced_is_caught() -> None:
    def allow_plaintext(synthesis: Synthesis) -> None:
        for parameter in _parameter_group(synthesis).inputs["parameters"]:
            if parameter["name"] in ("rds.force_ssl", "require_secure_transport"):
                parameter["value"] = "0"

    with pytest.raises(AssertionError, match="without TLS"):
        test_parameter_group_forces_tls(_weakened(allow_plaintext))
