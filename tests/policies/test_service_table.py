"""The HIPAA-eligible service table (policies/data/) that CKV_MEDSPA_13 reads: dated, consistent, complete."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from scripts import paths

DATA = paths.REPO_ROOT / "policies" / "data"
TABLE = DATA / "hipaa_service_prefixes.yaml"
SHARED_REFERENCE_NAME = re.compile(r"^hipaa-eligible-services-\d{4}-\d{2}-\d{2}\.txt$")


def table() -> dict[str, Any]:
    document = yaml.safe_load(TABLE.read_text())
    assert isinstance(document, dict)
    return document


def listed_services(path: Path) -> set[str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return {re.sub(r"\s*\[.*\]\s*$", "", line) for line in lines if line and not line.startswith("#")}


def test_table_names_a_dated_copy_of_awss_list() -> None:
    name = table()["eligible_list"]
    assert SHARED_REFERENCE_NAME.match(name), f"{name}: the list's file name must carry its date"
    assert (DATA / name).is_file(), f"{name} must be kept in policies/data/"


def test_every_eligible_service_is_on_the_dated_list() -> None:
    listed = listed_services(DATA / table()["eligible_list"])
    unknown = {p: s for p, s in table()["eligible"].items() if s not in listed}
    assert not unknown, f"services not on AWS's HIPAA-eligible list (BAA scope): {unknown}"


def test_control_plane_services_are_not_on_the_list_and_say_why() -> None:
    listed = listed_services(DATA / table()["eligible_list"])
    for prefix, entry in table()["control_plane"].items():
        assert entry["service"] not in listed, (
            f"{prefix}: {entry['service']} is eligible; move it to `eligible`"
        )
        assert str(entry["reason"]).strip().endswith("."), f"{prefix}: the reason must be a full sentence"


def test_no_prefix_is_both_eligible_and_control_plane() -> None:
    both = set(table()["eligible"]) & set(table()["control_plane"])
    assert not both, f"prefixes in both tables: {sorted(both)}"


def test_prefixes_are_terraform_aws_type_prefixes() -> None:
    for prefix in [*table()["eligible"], *table()["control_plane"]]:
        assert re.fullmatch(r"aws_[a-z0-9_]+", prefix) and not prefix.endswith("_"), prefix
