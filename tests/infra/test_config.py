"""Stack config validation: every bad value is refused with a one-line error naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.config import (
    ConfigError,
    SpaConfig,
    from_mapping,
    from_pulumi_runtime,
    known_regions,
    load_stack,
    to_pulumi_config,
)
from scripts import paths

DEMO = yaml.safe_load((paths.stacks_dir() / "Pulumi.demo.yaml").read_text())["config"]

REMOVE = object()

BAD_VALUES: list[tuple[str, Any, str]] = [
    ("medspa:officeCidrs", ["0.0.0.0/0"], "whole internet"),
    ("medspa:officeCidrs", ["::/0"], "whole internet"),
    ("medspa:officeCidrs", ["198.51.0.0/16"], "broader than /22"),
    ("medspa:adminCidrs", ["2001:db8::/32"], "broader than /48"),
    ("medspa:officeCidrs", ["10.1.2.0/24"], "private or reserved"),
    ("medspa:adminCidrs", ["192.168.1.10/32"], "private or reserved"),
    ("medspa:officeCidrs", ["127.0.0.1/32"], "private or reserved"),
    ("medspa:officeCidrs", ["203.0.113.7/24"], "host bits"),
    ("medspa:officeCidrs", ["203.0.113.300/32"], "not a valid"),
    ("medspa:officeCidrs", ["office"], "not a valid"),
    ("medspa:officeCidrs", [], "at least one"),
    ("medspa:officeCidrs", "203.0.113.0/24", "must be a list"),
    ("medspa:officeCidrs", REMOVE, "required"),
    ("medspa:adminCidrs", REMOVE, "required"),
    ("medspa:alertEmails", REMOVE, "required"),
    ("medspa:alertEmails", ["privacy-officer"], "email"),
    ("medspa:alertEmails", ["a@b@c.example"], "email"),
    ("medspa:owner", "nobody", "email"),
    ("aws:region", REMOVE, "required"),
    ("aws:region", "us-east-9", "not an AWS commercial region"),
    ("medspa:drRegion", "mars-north-1", "not an AWS commercial region"),
    ("medspa:drRegion", "us-east-1", "must differ"),
    ("medspa:logRetentionDays", 90, "365-day floor"),
    ("medspa:logRetentionDays", 500, "not a CloudWatch Logs retention value"),
    ("medspa:auditLogRetentionDays", 731, "2192-day floor"),
    ("medspa:backupRetentionDays", 7, "35-day floor"),
    ("medspa:longBackupRetentionDays", 365, "2192-day floor"),
    ("medspa:coldStorageAfterDays", 2500, "coldStorageAfterDays"),
    ("medspa:vaultLockChangeableDays", 1, "3-day minimum"),
    ("medspa:vaultLockMode", "off", "compliance"),
    ("medspa:dbEngine", "oracle-ee", "postgres"),
    ("medspa:dbEngine", "aurora-postgresql", "postgres"),
    ("medspa:dbInstanceClass", "t3.micro", "not an RDS instance class"),
    ("medspa:dbInstanceClass", "db.t2.micro", "previous-generation"),
    ("medspa:dbMultiAz", "maybe", "true or false"),
    ("medspa:dbAllocatedStorageGb", 5, "greater than or equal"),
    ("medspa:vpcCidr", "8.8.0.0/16", "RFC 1918"),
    ("medspa:vpcCidr", "10.0.0.0/8", "between /16 and /24"),
    ("medspa:phiBuckets", ["photos", "photos"], "twice"),
    ("medspa:phiBuckets", ["Photos!"], "lowercase"),
    ("medspa:phiBuckets", ["before--after"], "single hyphens"),
    ("medspa:environment", "production", "prod"),
    ("medspa:officeCidr", ["203.0.113.0/24"], "unknown key"),
    ("medspa:skipInterfaceEndpoint", True, "unknown key"),
]


def _with(key: str, value: Any) -> dict[str, Any]:
    values = dict(DEMO)
    if value is REMOVE:
        values.pop(key, None)
    else:
        values[key] = value
    return values


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    BAD_VALUES,
    ids=[f"{k}={'REMOVE' if v is REMOVE else v!r}" for k, v, _ in BAD_VALUES],
)
def test_bad_value_is_rejected_naming_the_key(key: str, value: Any, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping("demo", _with(key, value))
    message = str(caught.value)
    assert message.startswith(f"{key}:"), f"error must name {key} first, got: {message}"
    assert fragment.lower() in message.lower(), (
        f"error for {key}={value!r} should say {fragment!r}: {message}"
    )
    assert "\n" not in message, f"error for {key} must be one line"


def test_demo_stack_is_valid() -> None:
    config = load_stack(paths.stacks_dir(), "demo")
    assert config.office_cidrs == ("203.0.113.0/24",)
    assert config.region != config.dr_region


def test_region_list_matches_botocore_session() -> None:
    """The data file we read for speed must say what botocore's own region API says."""
    import botocore.session

    expected = botocore.session.get_session().get_available_regions("ec2", partition_name="aws")
    assert known_regions() == frozenset(expected), "region list differs from botocore's ec2 regions"
    assert {"us-east-1", "us-west-2"} <= known_regions(), "commercial regions missing from the list"


def test_defaults_are_the_safe_values() -> None:
    minimal = {
        "aws:region": "us-east-1",
        "medspa:drRegion": "us-west-2",
        "medspa:owner": "it@spa.example",
        "medspa:officeCidrs": ["203.0.113.0/24"],
        "medspa:adminCidrs": ["198.51.100.10/32"],
        "medspa:alertEmails": ["po@spa.example"],
    }
    config = from_mapping("minimal", minimal)
    assert config.skip_interface_endpoints is False, "interface endpoints on by default (164.312(e)(1))"
    assert config.enable_staff_portal_waf is False, "the staff portal WAF is opt-in"
    assert config.db_multi_az is True, "multi-AZ database by default (164.308(a)(7)(ii)(B))"
    assert config.vault_lock_mode.value == "compliance", (
        "compliance vault lock by default (164.310(d)(2)(iv))"
    )
    assert config.backup_retention_days >= 35 and config.long_backup_retention_days >= 2192


def test_config_round_trips_through_the_pulumi_runtime_form() -> None:
    config = load_stack(paths.stacks_dir(), "demo")
    assert from_pulumi_runtime("demo", to_pulumi_config(config)) == config


def test_unknown_key_in_runtime_form_is_rejected() -> None:
    raw = to_pulumi_config(load_stack(paths.stacks_dir(), "demo"))
    raw["medspa:dbPublic"] = "true"
    with pytest.raises(ConfigError, match=r"^medspa:dbPublic: unknown key"):
        from_pulumi_runtime("demo", raw)


def test_other_namespaces_are_left_to_their_providers() -> None:
    config = from_mapping("demo", {**DEMO, "aws:profile": "spa-admin", "pulumi:tags": {"a": "b"}})
    assert isinstance(config, SpaConfig)


def test_missing_stack_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no stack file Pulumi\.nowhere\.yaml"):
        load_stack(tmp_path, "nowhere")


def test_malformed_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  aws:region: [us-east-1\n")
    with pytest.raises(ConfigError, match=r"Pulumi\.broken\.yaml: malformed YAML at line"):
        load_stack(tmp_path, "broken")


def test_file_without_config_section_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.empty.yaml").write_text("encryptionsalt: abc\n")
    with pytest.raises(ConfigError, match=r"expected a mapping with a 'config:' section"):
        load_stack(tmp_path, "empty")


def test_spa_name_with_double_hyphen_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"^spa: 'a--b' must be .* single hyphens"):
        from_mapping("a--b", DEMO)


def test_invalid_stack_name_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a valid stack name"):
        load_stack(tmp_path, "../etc/passwd")


_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
_keys = st.sampled_from(sorted(DEMO)) | st.text(max_size=20)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(key=_keys, value=_junk)
def test_random_junk_never_escapes_as_anything_but_config_error(key: str, value: Any) -> None:
    try:
        from_mapping("demo", {**DEMO, key: value})
    except ConfigError as error:
        assert "\n" not in str(error) and str(error), f"one-line error expected for {key}={value!r}"


@settings(max_examples=100, deadline=None)
@given(document=st.text(max_size=200))
def test_random_stack_file_text_never_escapes_as_anything_but_config_error(document: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "Pulumi.junk.yaml").write_text(document, encoding="utf-8")
        try:
            load_stack(Path(directory), "junk")
        except ConfigError as error:
            assert "\n" not in str(error)
