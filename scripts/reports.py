"""Reports of one `medspa check`: a table for people, JSON for scripts, SARIF for code scanning, JUnit for CI.

Every format carries the same findings; none hides a skipped check (a justified skip shows its reason)
and every failure names its HIPAA sections.
"""

from __future__ import annotations

import hashlib
import io
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from importlib import metadata
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from scripts.catalog import help_uri
from scripts.check import CheckReport, Finding

FORMATS = ("table", "json", "sarif", "junit")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
UNMAPPED = "unmapped"
# GitHub code scanning ranks alerts by properties.security-severity (a CVSS-like score as a string).
SECURITY_SEVERITY = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "3.0"}
SEVERITY_STYLE = {"CRITICAL": "bold red", "HIGH": "red", "MEDIUM": "yellow", "LOW": "cyan"}


def _version() -> str:
    try:
        return metadata.version("medspa-hipaa-kit")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def summary_line(report: CheckReport) -> str:
    summary = report.summary()
    verdict = "PASS" if report.ok else "FAIL"
    return (
        f"{verdict}: {len(report.spas)} stack(s), {summary['resources']} resources, "
        f"{summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} skipped"
    )


# ---------------------------------------------------------------------------------------------- json


def render_json(report: CheckReport) -> str:
    """`{"summary": {...}, "findings": [...]}` with passed findings included (DESIGN.md)."""
    document = {"summary": report.summary(), "findings": [f.to_json() for f in report.findings]}
    return json.dumps(document, indent=2) + "\n"


# --------------------------------------------------------------------------------------------- table


def failures_by_section(report: CheckReport) -> dict[str, list[Finding]]:
    """Failures grouped by HIPAA section in catalog order; an unmapped failure gets its own group."""
    order = {r.id: i for i, r in enumerate(report.catalog.requirements)}
    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        if finding.status != "failed":
            continue
        for section in finding.hipaa or (UNMAPPED,):
            groups[section].append(finding)
    return dict(sorted(groups.items(), key=lambda item: order.get(item[0], len(order))))


def render_table(report: CheckReport, console: Console) -> None:
    """The terminal report: failing resources by Pulumi name, grouped by HIPAA section."""
    multi = len(report.spas) > 1
    groups = failures_by_section(report)
    if groups:
        table = Table(title="Failing checks by HIPAA section", title_justify="left", show_lines=False)
        table.add_column("HIPAA section", overflow="fold", min_width=20, max_width=34)
        table.add_column("severity")
        table.add_column("check")
        if multi:
            table.add_column("spa")
        table.add_column("resource (Pulumi name)", overflow="fold")
        table.add_column("what failed", overflow="fold")
        for section, findings in groups.items():
            requirement = report.catalog.requirement(section)
            label = f"{section}\n{requirement.title}" if requirement else "unmapped\n(catalog gap)"
            rows = sorted(findings, key=lambda f: (f.spa, f.check_id, f.display_name))
            for index, finding in enumerate(rows):
                row: list[str | Text] = [
                    Text(label, style="bold") if index == 0 else "",
                    Text(finding.severity, style=SEVERITY_STYLE.get(finding.severity, "")),
                    finding.check_id,
                    *([finding.spa] if multi else []),
                    finding.display_name,
                    finding.message,
                ]
                table.add_row(*row)
            table.add_section()
        console.print(table)
    skipped: dict[str, tuple[int, str]] = {}
    for finding in report.findings:
        if finding.status == "skipped":
            count, _ = skipped.get(finding.check_id, (0, ""))
            skipped[finding.check_id] = (count + 1, finding.message)
    if skipped:
        table = Table(title="Skipped on purpose (policies/skips.yaml)", title_justify="left")
        table.add_column("check")
        table.add_column("resources", justify="right")
        table.add_column("why, and which control covers the risk", overflow="fold")
        for check_id, (count, reason) in sorted(skipped.items()):
            table.add_row(check_id, str(count), reason)
        console.print(table)
    style = "bold green" if report.ok else "bold red"
    console.print(Text(summary_line(report), style=style))


def render_table_text(report: CheckReport, width: int = 140) -> str:
    """The table report as plain text (for --output FILE)."""
    console = Console(record=True, width=width, color_system=None, file=io.StringIO(), force_terminal=False)
    render_table(report, console)
    return console.export_text()


# --------------------------------------------------------------------------------------------- sarif


def _rule(finding: Finding) -> dict[str, Any]:
    guideline = finding.guideline or f"HIPAA {', '.join(finding.hipaa) or 'unmapped'}: {finding.check_name}"
    return {
        "id": finding.check_id,
        "name": finding.check_id,
        "shortDescription": {"text": finding.check_name or finding.check_id},
        "fullDescription": {"text": guideline},
        "helpUri": help_uri(finding.check_id),
        "help": {"text": guideline},
        "defaultConfiguration": {"level": _level(finding.severity)},
        "properties": {
            "tags": ["security", "HIPAA", *finding.hipaa],
            "security-severity": SECURITY_SEVERITY.get(finding.severity, "5.5"),
            "precision": "very-high",
        },
    }


def _level(severity: str) -> str:
    return "error" if severity in ("CRITICAL", "HIGH") else "warning" if severity == "MEDIUM" else "note"


def render_sarif(report: CheckReport) -> str:
    """SARIF 2.1.0 for GitHub code scanning: one rule per check, one result per failure."""
    rules: dict[str, dict[str, Any]] = {}
    for finding in report.findings:
        rules.setdefault(finding.check_id, _rule(finding))
    rule_ids = sorted(rules)
    results = []
    for finding in report.findings:
        if finding.status != "failed":
            continue
        sections = ", ".join(finding.hipaa) or "no HIPAA section mapped"
        logical: dict[str, Any] = {"name": finding.display_name, "kind": "resource"}
        logical["fullyQualifiedName"] = finding.urn or finding.address
        fingerprint = hashlib.sha256(
            f"{finding.spa}|{finding.check_id}|{finding.address}".encode()
        ).hexdigest()
        results.append(
            {
                "ruleId": finding.check_id,
                "ruleIndex": rule_ids.index(finding.check_id),
                "level": _level(finding.severity),
                "message": {
                    "text": f"{finding.spa}: {finding.display_name}: {finding.message} [HIPAA {sections}]"
                },
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {
                                "uri": report.sources.get(finding.spa, f"stacks/Pulumi.{finding.spa}.yaml"),
                                "uriBaseId": "%SRCROOT%",
                            },
                            "region": {"startLine": 1},
                        },
                        "logicalLocations": [logical],
                    }
                ],
                "partialFingerprints": {"medspaFinding/v1": fingerprint},
                "properties": {"spa": finding.spa, "address": finding.address, "hipaa": list(finding.hipaa)},
            }
        )
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "medspa-check",
                        "version": _version(),
                        "informationUri": "https://www.hhs.gov/hipaa/for-professionals/security/index.html",
                        "rules": [rules[rule_id] for rule_id in rule_ids],
                    }
                },
                "automationDetails": {"id": "medspa-check/"},
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "repository root"}}},
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


# --------------------------------------------------------------------------------------------- junit


def render_junit(report: CheckReport) -> str:
    """JUnit XML: one testsuite per spa, one testcase per finding, failures as <failure>."""
    summary = report.summary()
    suites = ET.Element(
        "testsuites",
        name="medspa check",
        tests=str(len(report.findings)),
        failures=str(summary["failed"]),
        skipped=str(summary["skipped"]),
        errors="0",
    )
    for spa in report.spas:
        findings = [f for f in report.findings if f.spa == spa]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=spa,
            tests=str(len(findings)),
            failures=str(sum(f.status == "failed" for f in findings)),
            skipped=str(sum(f.status == "skipped" for f in findings)),
            errors="0",
        )
        for finding in findings:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{spa}.{finding.check_id}",
                name=f"{finding.check_id} {finding.display_name}",
            )
            sections = ", ".join(finding.hipaa) or "no HIPAA section mapped"
            if finding.status == "failed":
                failure = ET.SubElement(case, "failure", message=finding.message, type=finding.severity)
                failure.text = (
                    f"{finding.check_name}\nresource: {finding.address}\nurn: {finding.urn or '-'}\n"
                    f"HIPAA: {sections}\nseverity: {finding.severity}"
                )
            elif finding.status == "skipped":
                ET.SubElement(case, "skipped", message=finding.message)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def render(report: CheckReport, fmt: str) -> str:
    """The report as text in one of the machine formats, or the plain-text table."""
    if fmt == "json":
        return render_json(report)
    if fmt == "sarif":
        return render_sarif(report)
    if fmt == "junit":
        return render_junit(report)
    if fmt == "table":
        return render_table_text(report)
    raise ValueError(f"unknown format {fmt!r}")
