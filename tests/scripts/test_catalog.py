"""The HIPAA catalog: complete, every check in use mapped, every mapped id real, the coverage doc current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts import paths
from scripts.catalog import builtin_checks, default_catalog, load_catalog
from scripts.errors import BadInput
from tests.scripts.gate_support import needs_checkov

CHECKS_DIR = paths.REPO_ROOT / "policies" / "checks"
CHECK_ID_RE = re.compile(r"""\bid\s*=\s*["'](CKV_MEDSPA_\d+)["']""")
SECTION_IN_TEXT_RE = re.compile(r"164\.3\d\d(?:\([a-zA-Z0-9]+\))+")

# Every requirement of the Security Rule reference (45 CFR 164.308-316), as reports print them.
REFERENCE_REQUIREMENTS = [
    "164.308(a)(1)(i)",
    "164.308(a)(1)(ii)(A)",
    "164.308(a)(1)(ii)(B)",
    "164.308(a)(1)(ii)(C)",
    "164.308(a)(1)(ii)(D)",
    "164.308(a)(2)",
    "164.308(a)(3)(i)",
    "164.308(a)(3)(ii)(A)",
    "164.308(a)(3)(ii)(B)",
    "164.308(a)(3)(ii)(C)",
    "164.308(a)(4)(i)",
    "164.308(a)(4)(ii)(A)",
    "164.308(a)(4)(ii)(B)",
    "164.308(a)(4)(ii)(C)",
    "164.308(a)(5)(i)",
    "164.308(a)(5)(ii)(A)",
    "164.308(a)(5)(ii)(B)",
    "164.308(a)(5)(ii)(C)",
    "164.308(a)(5)(ii)(D)",
    "164.308(a)(6)(i)",
    "164.308(a)(6)(ii)",
    "164.308(a)(7)(i)",
    "164.308(a)(7)(ii)(A)",
    "164.308(a)(7)(ii)(B)",
    "164.308(a)(7)(ii)(C)",
    "164.308(a)(7)(ii)(D)",
    "164.308(a)(7)(ii)(E)",
    "164.308(a)(8)",
    "164.308(b)(1)",
    "164.310(a)(1)",
    "164.310(a)(2)(i)",
    "164.310(a)(2)(ii)",
    "164.310(a)(2)(iii)",
    "164.310(a)(2)(iv)",
    "164.310(b)",
    "164.310(c)",
    "164.310(d)(1)",
    "164.310(d)(2)(i)",
    "164.310(d)(2)(ii)",
    "164.310(d)(2)(iii)",
    "164.310(d)(2)(iv)",
    "164.312(a)(1)",
    "164.312(a)(2)(i)",
    "164.312(a)(2)(ii)",
    "164.312(a)(2)(iii)",
    "164.312(a)(2)(iv)",
    "164.312(b)",
    "164.312(c)(1)",
    "164.312(c)(2)",
    "164.312(d)",
    "164.312(e)(1)",
    "164.312(e)(2)(i)",
    "164.312(e)(2)(ii)",
    "164.314(a)(1)",
    "164.316(a)",
    "164.316(b)(1)",
    "164.316(b)(2)(i)",
    "164.316(b)(2)(ii)",
    "164.316(b)(2)(iii)",
]


def custom_check_ids() -> dict[str, str]:
    """Our checkov checks (policies/checks/*.py) by id, read as text: they import checkov."""
    found: dict[str, str] = {}
    for path in sorted(CHECKS_DIR.glob("*.py")) if CHECKS_DIR.is_dir() else []:
        for check_id in CHECK_ID_RE.findall(path.read_text()):
            found[check_id] = path.read_text()
    return found


def plan_check_ids() -> dict[str, tuple[str, ...]]:
    plan_checks = pytest.importorskip(
        "policies.plan_checks", reason="policies/plan_checks/ is not present yet"
    )
    return {check.id: tuple(check.hipaa) for check in plan_checks.ALL_PLAN_CHECKS}


def skipped_ids() -> set[str]:
    from scripts.check import load_skips

    return set(load_skips())


def test_catalog_lists_every_reference_requirement_in_order() -> None:
    assert [r.id for r in default_catalog().requirements] == REFERENCE_REQUIREMENTS


def test_uncoverable_requirements_say_why_plainly() -> None:
    for requirement in default_catalog().requirements:
        if not requirement.cloud_control:
            assert not requirement.checks, (
                f"{requirement.id} cannot both lack a cloud control and list checks"
            )
            assert requirement.reason.endswith("."), f"{requirement.id}: the reason must be a full sentence"


def test_training_and_sanction_policy_have_no_cloud_control() -> None:
    catalog = default_catalog()
    for section in ("164.308(a)(5)(i)", "164.308(a)(1)(ii)(C)", "164.308(b)(1)"):
        requirement = catalog.requirement(section)
        assert requirement is not None and not requirement.cloud_control, f"{section} is not a cloud control"


def test_mapped_builtin_ids_exist_in_checkov() -> None:
    known = set(builtin_checks().links)
    builtin = {c for c in default_catalog().mapped_checks() if not c.startswith("CKV_MEDSPA_")}
    assert not builtin - known, f"mapped ids checkov does not have: {sorted(builtin - known)}"


def test_mapped_custom_ids_exist() -> None:
    ours = {c for c in default_catalog().mapped_checks() if c.startswith("CKV_MEDSPA_")}
    if not ours:
        pytest.skip("the catalog maps no CKV_MEDSPA_ checks yet")
    existing = set(custom_check_ids()) | set(plan_check_ids())
    assert not ours - existing, f"mapped CKV_MEDSPA ids with no check: {sorted(ours - existing)}"


def test_every_custom_check_is_mapped() -> None:
    unmapped = set(custom_check_ids()) - default_catalog().mapped_checks()
    assert not unmapped, f"custom checks missing from policies/hipaa_catalog.yaml: {sorted(unmapped)}"


def test_every_plan_check_is_mapped() -> None:
    unmapped = set(plan_check_ids()) - default_catalog().mapped_checks()
    assert not unmapped, f"plan checks missing from policies/hipaa_catalog.yaml: {sorted(unmapped)}"


def test_every_skipped_check_is_mapped() -> None:
    unmapped = skipped_ids() - default_catalog().mapped_checks()
    assert not unmapped, f"skipped checks must still name their HIPAA sections: {sorted(unmapped)}"


def test_custom_check_guideline_sections_agree_with_the_catalog() -> None:
    catalog = default_catalog()
    for check_id, source in custom_check_ids().items():
        named = set(SECTION_IN_TEXT_RE.findall(source))
        assert named, f"{check_id}: its guideline must name HIPAA sections"
        assert named <= set(catalog.sections_for(check_id)), (
            f"{check_id}: guideline names {sorted(named)}, catalog maps {catalog.sections_for(check_id)}"
        )


def test_plan_check_sections_agree_with_the_catalog() -> None:
    catalog = default_catalog()
    for check_id, hipaa in plan_check_ids().items():
        assert set(hipaa) <= set(catalog.sections_for(check_id)), (
            f"{check_id}: declares {hipaa}, catalog maps {catalog.sections_for(check_id)}"
        )


def test_every_mapped_check_has_a_severity_and_no_severity_is_orphaned() -> None:
    catalog = default_catalog()
    mapped = catalog.mapped_checks()
    assert not mapped - set(catalog.severity), f"no severity for: {sorted(mapped - set(catalog.severity))}"
    assert not set(catalog.severity) - mapped, (
        f"severity for unmapped: {sorted(set(catalog.severity) - mapped)}"
    )


def test_builtin_id_list_matches_the_pinned_checkov() -> None:
    pin = (paths.REPO_ROOT / "policies" / "checkov-requirements.txt").read_text()
    version = re.search(r"^checkov==(\S+)", pin, re.MULTILINE)
    assert version, "policies/checkov-requirements.txt must pin checkov"
    assert builtin_checks().checkov_version == version.group(1), (
        "regenerate policies/data/checkov_builtin_ids.txt"
    )


@needs_checkov
def test_every_builtin_check_in_use_is_mapped() -> None:
    """Run the real gate over every stack: each check that reports anything must map to HIPAA."""
    pytest.importorskip(
        "scripts.plan_bridge", reason="the plan bridge (scripts/plan_bridge.py) is not present yet"
    )
    pytest.importorskip("policies.plan_checks", reason="policies/plan_checks/ is not present yet")
    from scripts.check import check_stacks, resolve_spas

    report = check_stacks(resolve_spas([], all_stacks=True))
    in_use = {f.check_id for f in report.findings}
    unmapped = in_use - default_catalog().mapped_checks()
    assert not unmapped, f"checks in use with no HIPAA section in the catalog: {sorted(unmapped)}"


def test_coverage_doc_is_up_to_date() -> None:
    from scripts.coverage_doc import DOC_PATH, render

    assert DOC_PATH.read_text() == render(default_catalog()), "run: python -m scripts.coverage_doc"


def test_catalog_rejects_checks_on_an_uncoverable_requirement(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        'requirements:\n  - id: "164.316(a)"\n    title: P\n    kind: required\n'
        "    cloud_control: false\n    reason: A document.\n    checks: [CKV_AWS_7]\n"
    )
    with pytest.raises(BadInput, match="cannot also list checks"):
        load_catalog(path)


def test_catalog_rejects_a_requirement_with_neither_checks_nor_reason(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text('requirements:\n  - id: "164.312(b)"\n    title: Audit\n    kind: required\n')
    with pytest.raises(BadInput, match="needs checks, or cloud_control: false"):
        load_catalog(path)
