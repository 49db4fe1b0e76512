"""Restore-drill config keys: safe defaults, bounds, and a validation query that can only read."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from infra.config import ConfigError, from_mapping, from_pulumi_runtime, to_pulumi_config
from scripts import paths

DEMO: dict[str, Any] = yaml.safe_load((paths.stacks_dir() / "Pulumi.demo.yaml").read_text())["config"]


def _config(**extra: Any) -> Any:
    return from_mapping("demo", {**DEMO, **{f"medspa:{k}": v for k, v in extra.items()}})


def test_drill_targets_default_to_four_hours_and_one_day() -> None:
    config = _config()
    assert (config.rto_target_minutes, config.rpo_target_hours) == (240, 24), (
        "default RTO 240 min / RPO 24 h (164.308(a)(7)(ii)(B)): daily backups must meet the RPO"
    )
    assert config.drill_validation_query is None, "no validation query unless the spa sets one"


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("rtoTargetMinutes", 4, "greater than or equal to 5"),
        ("rtoTargetMinutes", 10081, "less than or equal to 10080"),
        ("rpoTargetHours", 0, "greater than or equal to 1"),
        ("rpoTargetHours", 721, "less than or equal to 720"),
        ("rtoTargetMinutes", "soon", "whole number"),
        ("drillValidationQuery", "DELETE FROM patients", "starting with SELECT"),
        ("drillValidationQuery", "SELECT 1; DROP TABLE patients", "single statement"),
        ("drillValidationQuery", "SELECT count(*) INTO copy FROM patients", "INTO"),
        ("drillValidationQuery", "x" * 2001, "at most 2000"),
    ],
)
def test_bad_drill_value_is_rejected_naming_the_key(key: str, value: Any, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(**{key: value})
    message = str(caught.value)
    assert message.startswith(f"medspa:{key}:"), f"error must name medspa:{key} first: {message}"
    assert fragment.lower() in message.lower(), f"medspa:{key}={value!r} should say {fragment!r}: {message}"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT count(*) FROM appointments",
        "select md5(string_agg(id::text, ',' ORDER BY id)) from clients;",
        "  SELECT count(*)\n  FROM invoices  ",
    ],
)
def test_read_only_select_is_accepted(query: str) -> None:
    config = _config(drillValidationQuery=query)
    assert config.drill_validation_query == query.strip(), "a single SELECT is accepted, trimmed"


def test_drill_keys_round_trip_through_the_pulumi_runtime_form() -> None:
    config = _config(rtoTargetMinutes=60, rpoTargetHours=12, drillValidationQuery="SELECT count(*) FROM a")
    assert from_pulumi_runtime("demo", to_pulumi_config(config)) == config


def test_unset_validation_query_round_trips_as_absent() -> None:
    raw = to_pulumi_config(_config())
    assert "medspa:drillValidationQuery" not in raw, "an unset optional key must not become the text 'null'"
    assert from_pulumi_runtime("demo", raw).drill_validation_query is None
