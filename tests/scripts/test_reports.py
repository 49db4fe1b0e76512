"""Reports of `medspa check`: JSON shape, SARIF 2.1.0 for code scanning, JUnit XML, the grouped table."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from scripts import reports
from scripts.catalog import default_catalog
from scripts.check import CheckReport, Finding

ENCRYPTION = "164.312(a)(2)(iv)"
ACCESS = "164.312(a)(1)"


def _finding(
    spa: str, check_id: str, status: str, name: str | None, hipaa: tuple[str, ...], **extra: str
) -> Finding:
    return Finding(
        spa=spa,
        check_id=check_id,
        check_name=extra.get("check_name", f"{check_id} check"),
        status=status,  # type: ignore[arg-type]
        address=f"aws_thing.{name or 'bare'}",
        urn=f"urn:pulumi:{spa}::medspa::aws:x/y:Z::{name}" if name else None,
        pulumi_name=name,
        hipaa=hipaa,
        severity=extra.get("severity", "HIGH"),
        message=extra.get("message", f"{check_id} message"),
    )


@pytest.fixture
def report() -> CheckReport:
    findings = (
        _finding("demo", "CKV_AWS_7", "failed", "keys-data", (ENCRYPTION,)),
        _finding("demo", "CKV2_AWS_64", "failed", "keys-logs", (ACCESS, ENCRYPTION)),
        _finding("demo", "CKV_AWS_19", "passed", "phi-documents", (ENCRYPTION,)),
        _finding(
            "demo",
            "CKV_AWS_144",
            "skipped",
            "phi-documents",
            ("164.308(a)(7)(ii)(B)",),
            message="Backup copies.",
        ),
        _finding("clinic", "CKV_AWS_19", "passed", "phi-photos", (ENCRYPTION,)),
        _finding("clinic", "CKV_NEW_1", "failed", None, ()),
    )
    return CheckReport(
        spas=("demo", "clinic"),
        sources={"demo": "stacks/Pulumi.demo.yaml", "clinic": "stacks/Pulumi.clinic.yaml"},
        resources=7,
        findings=findings,
        catalog=default_catalog(),
    )


def test_json_has_exactly_the_contract_shape(report: CheckReport) -> None:
    document = json.loads(reports.render_json(report))
    assert set(document) == {"summary", "findings"}
    assert document["summary"] == {"resources": 7, "passed": 2, "failed": 3, "skipped": 1}
    for finding in document["findings"]:
        assert set(finding) == {"check_id", "status", "address", "urn", "hipaa", "severity", "message", "spa"}


def test_json_includes_passed_findings(report: CheckReport) -> None:
    statuses = [f["status"] for f in json.loads(reports.render_json(report))["findings"]]
    assert statuses.count("passed") == 2


def test_sarif_has_the_keys_code_scanning_requires(report: CheckReport) -> None:
    document = json.loads(reports.render_sarif(report))
    assert document["version"] == "2.1.0"
    assert document["$schema"].endswith("sarif-2.1.0.json")
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] and driver["rules"]
    for rule in driver["rules"]:
        assert {"id", "shortDescription", "fullDescription", "helpUri", "help", "properties"} <= set(rule)
        assert rule["helpUri"].startswith("https://")
    for result in run["results"]:
        assert {"ruleId", "ruleIndex", "level", "message", "locations"} <= set(result)
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_rules_tag_hipaa_sections(report: CheckReport) -> None:
    rules = {
        r["id"]: r for r in json.loads(reports.render_sarif(report))["runs"][0]["tool"]["driver"]["rules"]
    }
    assert ENCRYPTION in rules["CKV_AWS_7"]["properties"]["tags"], "rotation maps to 164.312(a)(2)(iv)"
    assert "github.com/bridgecrewio/checkov" in rules["CKV_AWS_7"]["helpUri"], "built-ins link their source"


def test_sarif_results_are_failures_located_at_the_stack_file(report: CheckReport) -> None:
    results = json.loads(reports.render_sarif(report))["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == ["CKV2_AWS_64", "CKV_AWS_7", "CKV_NEW_1"]
    uris = {r["ruleId"]: r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris["CKV_AWS_7"] == "stacks/Pulumi.demo.yaml"
    assert uris["CKV_NEW_1"] == "stacks/Pulumi.clinic.yaml"


def test_junit_has_one_suite_per_spa_and_one_case_per_finding(report: CheckReport) -> None:
    root = ET.fromstring(reports.render_junit(report))
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"demo", "clinic"}
    assert len(suites["demo"].findall("testcase")) == 4
    assert suites["demo"].get("failures") == "2"
    assert len(suites["demo"].findall("testcase/failure")) == 2
    assert len(suites["demo"].findall("testcase/skipped")) == 1
    assert root.get("failures") == "3"


def test_junit_failure_names_hipaa_section(report: CheckReport) -> None:
    root = ET.fromstring(reports.render_junit(report))
    failure = root.find("testsuite[@name='demo']/testcase[@classname='demo.CKV_AWS_7']/failure")
    assert failure is not None and ENCRYPTION in (failure.text or "")


def test_table_groups_failures_by_section_in_catalog_order(report: CheckReport) -> None:
    groups = reports.failures_by_section(report)
    assert list(groups) == [ACCESS, ENCRYPTION, reports.UNMAPPED]
    assert [f.pulumi_name for f in groups[ENCRYPTION]] == ["keys-data", "keys-logs"]


def test_table_shows_failing_resources_by_pulumi_name(report: CheckReport) -> None:
    text = reports.render_table_text(report, width=200)
    assert "keys-data" in text and "keys-logs" in text
    assert "Encryption and decryption" in text
    assert "phi-documents" not in text.split("Skipped on purpose")[0], (
        "passing resources are not listed as failing"
    )


def test_table_lists_skips_with_reason_and_summary(report: CheckReport) -> None:
    text = reports.render_table_text(report, width=200)
    assert "CKV_AWS_144" in text and "Backup copies." in text
    assert "FAIL: 2 stack(s), 7 resources, 2 passed, 3 failed, 1 skipped" in text


def test_table_shows_an_unmapped_failure_as_a_catalog_gap(report: CheckReport) -> None:
    assert "catalog gap" in reports.render_table_text(report, width=200)
