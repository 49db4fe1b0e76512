"""Drill evidence: JSON, Markdown and HTML reports with SHA-256 sums an auditor can verify.

164.308(a)(7)(ii)(D) asks for a tested contingency plan; 164.316(b)(2)(i) for documentation kept 6 years.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from scripts.drill.evidence import (
    EMULATOR_NOTICE,
    EvidenceError,
    render_html,
    render_markdown,
    sha256_hex,
    upload_evidence,
    verify_evidence,
    write_evidence,
)
from scripts.drill.model import Check, DrillRecord
from tests.scripts.drill.records import KEY_ARN, RECOVERY_POINT_ARN, database_result, record


def test_writes_json_markdown_html_and_sha256(tmp_path: Path) -> None:
    files = write_evidence(record(), tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    stem = "d20261123t101500z-a1b2c3"
    assert names == [f"{stem}.html", f"{stem}.json", f"{stem}.md", f"{stem}.sha256"], names
    assert files.json_path.name == f"{stem}.json"


def test_json_records_the_sha256_of_each_report(tmp_path: Path) -> None:
    files = write_evidence(record(), tmp_path)
    recorded = json.loads(files.json_path.read_text())["evidence"]["reports_sha256"]
    for path in (files.markdown_path, files.html_path):
        assert recorded[path.name] == sha256_hex(path.read_bytes()), f"{path.name}: wrong SHA-256 in JSON"


def test_sha256_file_verifies(tmp_path: Path) -> None:
    files = write_evidence(record(), tmp_path)
    assert verify_evidence(files.sha256_path) == [], "every evidence file must match its recorded SHA-256"
    lines = files.sha256_path.read_text().splitlines()
    assert len(lines) == 3 and all(len(line.split("  ")[0]) == 64 for line in lines), lines


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="sha256sum not installed")
def test_sha256sum_check_accepts_the_file(tmp_path: Path) -> None:
    files = write_evidence(record(), tmp_path)
    result = subprocess.run(
        ["sha256sum", "-c", files.sha256_path.name], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, f"`sha256sum -c` must verify the evidence: {result.stdout}{result.stderr}"


def test_tampered_report_is_detected(tmp_path: Path) -> None:
    files = write_evidence(record(), tmp_path)
    files.markdown_path.write_text(files.markdown_path.read_text().replace("PASS", "FAIL"))
    assert verify_evidence(files.sha256_path) == [files.markdown_path.name], "tampering must be visible"


def test_emulator_evidence_is_marked_in_every_format(tmp_path: Path) -> None:
    files = write_evidence(record(emulator=True), tmp_path)
    for path in (files.json_path, files.markdown_path, files.html_path):
        assert EMULATOR_NOTICE in path.read_text(encoding="utf-8"), (
            f"{path.name} must say {EMULATOR_NOTICE!r}"
        )


def test_real_evidence_carries_no_emulator_notice(tmp_path: Path) -> None:
    files = write_evidence(record(emulator=False), tmp_path)
    for path in (files.json_path, files.markdown_path, files.html_path):
        assert EMULATOR_NOTICE not in path.read_text(encoding="utf-8"), (
            f"{path.name}: real drill marked emulator"
        )


# The spa and region(s) rows get values that appear in no ARN, plan name or resource row, so each one is
# found only if its own row is rendered.
SHOWN_SPA = "harborview-smiles"
SHOWN_REGIONS = ["us-east-1", "ca-central-1"]


@pytest.mark.parametrize("render", [render_markdown, render_html], ids=["markdown", "html"])
@pytest.mark.parametrize(
    "fragment",
    [
        SHOWN_SPA,  # spa
        "assumed-role/drill-operator/privacy-officer",  # operator identity
        "us-east-1, ca-central-1",  # region(s)
        "2026-11-23 10:15:00 UTC",  # time
        RECOVERY_POINT_ARN,  # recovery point
        "2026-11-23 06:45:00 UTC",  # recovery point creation time
        "rj-0123456789abcdef",  # restore job id
        "25.0 min against 240 min: met",  # RTO against target
        "3.5 h against 24 h: met",  # RPO against target
        KEY_ARN,  # encryption key verification
        "not publicly accessible",  # public-access verification
        "no validation query configured",  # validation result
        "delete security group",  # cleanup
        "rj-scheduled-42",  # scheduled restore test
        "164.308(a)(7)(ii)(D)",
    ],
)
def test_report_shows(render: Callable[[DrillRecord], str], fragment: str) -> None:
    drill = record(spa=SHOWN_SPA, regions=SHOWN_REGIONS)
    text = re.sub(r"<[^>]+>", "", render(drill))  # HTML compared as text, without tags
    assert fragment in text, (
        f"{drill.drill_id} report: must show {fragment!r} (164.308(a)(7)(ii)(D) evidence)"
    )


def test_report_shows_fail_with_reasons() -> None:
    late = database_result(rto_seconds=5 * 3600)
    late.reasons.append("RTO 5.0 h exceeds the 240 min target")
    text = render_markdown(record(resources=[late]))
    assert "Verdict: FAIL" in text
    assert "RTO 5.0 h exceeds the 240 min target" in text, "the reason for FAIL must be in the report"
    assert "5.0 h against 240 min: MISSED" in text


def test_html_escapes_untrusted_text() -> None:
    hostile = database_result()
    hostile.checks.append(Check("restore", False, "<script>alert(1)</script>"))
    html = render_html(record(resources=[hostile]))
    assert "<script>" not in html, "HTML report must autoescape error text"
    assert "&lt;script&gt;" in html


def test_markdown_table_cell_cannot_break_the_table() -> None:
    odd = database_result()
    odd.checks.append(Check("restore", False, "a | b\nc"))
    text = render_markdown(record(resources=[odd]))
    assert "| restore | FAIL | a \\| b c |" in text


def test_unwritable_report_dir_is_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(EvidenceError, match="cannot create report directory"):
        write_evidence(record(), blocker / "sub")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def test_upload_puts_evidence_under_drills_prefix_of_the_log_archive(aws_env: None, tmp_path: Path) -> None:
    """moto: the archive bucket is found by its Spa and Purpose tags; the objects land under drills/."""
    files = write_evidence(record(), tmp_path)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        s3 = session.client("s3")
        s3.create_bucket(Bucket="demo-log-archive-123456789012", ObjectLockEnabledForBucket=True)
        s3.put_bucket_tagging(
            Bucket="demo-log-archive-123456789012",
            Tagging={"TagSet": [{"Key": "Spa", "Value": "demo"}, {"Key": "Purpose", "Value": "log-archive"}]},
        )
        s3.create_bucket(Bucket="decoy-bucket")
        uploaded = upload_evidence(files, session, "demo", "us-east-1")
        keys = sorted(
            o["Key"] for o in s3.list_objects_v2(Bucket="demo-log-archive-123456789012")["Contents"]
        )
    prefix = "drills/demo/d20261123t101500z-a1b2c3/"
    assert keys == sorted(prefix + p.name for p in files.all_paths), (
        f"evidence must be archived under {prefix} in the Object Lock bucket (164.316(b)(2)(i))"
    )
    assert uploaded, "upload must return the S3 URI of each evidence file (164.316(b)(2)(i))"
    assert all(u.startswith("s3://demo-log-archive-123456789012/drills/") for u in uploaded), (
        f"demo-log-archive-123456789012: every evidence file under drills/ (164.316(b)(2)(i)): {uploaded}"
    )


def test_upload_without_a_tagged_archive_bucket_fails_clearly(aws_env: None, tmp_path: Path) -> None:
    files = write_evidence(record(), tmp_path)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        session.client("s3").create_bucket(Bucket="demo-log-archive-123456789012")  # untagged: not guessed
        with pytest.raises(EvidenceError, match="Purpose=log-archive in us-east-1, found none"):
            upload_evidence(files, session, "demo", "us-east-1")
