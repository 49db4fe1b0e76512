"""Drill evidence: a JSON record, a Markdown and an HTML report, and their SHA-256 sums.

The evidence is what an auditor accepts as proof that the contingency plan was tested
(164.308(a)(7)(ii)(D)) and is documentation to keep 6 years (164.316(b)(2)(i)): it is written to a
report directory to archive and, with ``--upload``, into the Object Lock log archive bucket.
It holds identifiers, timings, counts and hashes only, never PHI.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from scripts import paths
from scripts.drill.model import SPA_TAG_KEY, Check, DrillRecord, ResourceResult, iso_z, utc

if TYPE_CHECKING:
    import boto3

EMULATOR_NOTICE = "EMULATOR — timings mean nothing"
EVIDENCE_FORMAT_VERSION = 1
UPLOAD_PREFIX = "drills"
LOG_ARCHIVE_PURPOSE = "log-archive"  # the Purpose tag infra/log_archive.py puts on the archive bucket
TEMPLATES_DIR = Path(__file__).parent / "templates"
MARKDOWN_TEMPLATE = "report.md.j2"
HTML_TEMPLATE = "report.html"


class EvidenceError(Exception):
    """The evidence could not be written or archived; one line for the operator."""


@dataclass(frozen=True)
class EvidenceFiles:
    """Where one drill's evidence landed, with the SHA-256 of each file."""

    directory: Path
    json_path: Path
    markdown_path: Path
    html_path: Path
    sha256_path: Path
    sha256: dict[str, str] = field(default_factory=dict)  # file name -> hex digest

    @property
    def all_paths(self) -> tuple[Path, ...]:
        return (self.json_path, self.markdown_path, self.html_path, self.sha256_path)


def default_report_dir(spa: str) -> Path:
    """``evidence/drills/<spa>/`` under the repo root: evidence to keep and archive, not build output."""
    return paths.REPO_ROOT / "evidence" / "drills" / spa


def format_duration(seconds: float | None) -> str:
    """Human-readable duration: ``42 s``, ``12.5 min``, ``26.0 h``."""
    if seconds is None:
        return "not measured"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _display_time(value: datetime | None) -> str:
    """A report's timestamp: ``2026-11-23 10:15:00 UTC``, or a dash when there is none."""
    return "—" if value is None else utc(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def _target_status(measured: float | None, target_seconds: float) -> str:
    if measured is None:
        return "not measured"
    return "met" if measured <= target_seconds else "MISSED"


def _check_view(check: Check) -> dict[str, Any]:
    result = "NOTE" if check.note else ("PASS" if check.passed else "FAIL")
    return {"name": check.name, "result": result, "detail": check.detail, "hipaa": check.hipaa or "—"}


def _resource_view(resource: ResourceResult, record: DrillRecord) -> dict[str, Any]:
    rto_target = record.targets.rto_minutes * 60
    rpo_target = record.targets.rpo_hours * 3600
    return {
        "kind": resource.kind.value,
        "source": resource.source,
        "region": resource.region,
        "verdict": resource.verdict.value,
        "recovery_point_arn": resource.recovery_point_arn or "—",
        "recovery_point_time": _display_time(resource.recovery_point_time),
        "restore_job_id": resource.restore_job_id or "—",
        "restored": resource.restored or "—",
        "restore_started": _display_time(resource.restore_started),
        "validated_at": _display_time(resource.validated_at),
        "rto": format_duration(resource.rto_seconds),
        "rto_status": _target_status(resource.rto_seconds, rto_target),
        "rpo": format_duration(resource.rpo_seconds),
        "rpo_status": _target_status(resource.rpo_seconds, rpo_target),
        "checks": [_check_view(c) for c in resource.checks],
        "reasons": list(resource.reasons),
    }


def report_view(record: DrillRecord) -> dict[str, Any]:
    """Everything the templates show, computed here so Markdown and HTML can never disagree."""
    return {
        "drill_id": record.drill_id,
        "spa": record.spa,
        "operator_arn": record.operator_arn or "unknown",
        "account_id": record.account_id or "unknown",
        "started_at": _display_time(record.started_at),
        "finished_at": _display_time(record.finished_at),
        "regions": ", ".join(record.regions) or "—",
        "from_dr_region": "yes (restored from the DR region's copies)" if record.from_dr_region else "no",
        "emulator": record.emulator,
        "emulator_notice": EMULATOR_NOTICE,
        "rto_target": f"{record.targets.rto_minutes} min",
        "rpo_target": f"{record.targets.rpo_hours} h",
        "kit_version": record.kit_version or "—",
        "verdict": record.verdict.value,
        "failure_reasons": record.failure_reasons(),
        "resources": [_resource_view(r, record) for r in record.resources],
        "scheduled_tests": [
            {
                "plan_name": t.plan_name,
                "restore_job_id": t.restore_job_id,
                "resource_arn": t.resource_arn,
                "status": t.status,
                "validation_status": t.validation_status or "—",
                "completed_at": _display_time(t.completed_at),
            }
            for t in record.scheduled_tests
        ],
        "cleanup": [
            {
                "resource": c.resource,
                "action": c.action,
                "result": "ok" if c.ok else "FAILED",
                "detail": c.detail,
            }
            for c in record.cleanup
        ],
    }


def _markdown_cell(value: Any) -> str:
    """A table cell that cannot break the table: pipes escaped, line breaks flattened."""
    return " ".join(str(value).split()).replace("|", "\\|")


@functools.cache
def _environment() -> Environment:
    """The Jinja environment of both reports, built once per process (it caches the parsed templates)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = _markdown_cell
    return env


def _render(template: str, view: dict[str, Any]) -> str:
    return _environment().get_template(template).render(**view)


def render_markdown(record: DrillRecord) -> str:
    return _render(MARKDOWN_TEMPLATE, report_view(record))


def render_html(record: DrillRecord) -> str:
    """HTML with autoescaping on: a resource name or error text can never inject markup."""
    return _render(HTML_TEMPLATE, report_view(record))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so an interrupted write never leaves half a report."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_evidence(record: DrillRecord, report_dir: Path, *, now: datetime | None = None) -> EvidenceFiles:
    """Write ``<id>.json``, ``<id>.md``, ``<id>.html`` and ``<id>.sha256`` (``sha256sum -c`` format)."""
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EvidenceError(f"cannot create report directory {report_dir}: {error.strerror}") from None
    stem = record.drill_id
    view = report_view(record)
    markdown = _render(MARKDOWN_TEMPLATE, view).encode("utf-8")
    html = _render(HTML_TEMPLATE, view).encode("utf-8")
    reports = {f"{stem}.md": sha256_hex(markdown), f"{stem}.html": sha256_hex(html)}
    document = record.to_dict()
    document["failure_reasons"] = record.failure_reasons()
    document["evidence"] = {
        "format_version": EVIDENCE_FORMAT_VERSION,
        "generated_at": iso_z(now or datetime.now(UTC)),
        "emulator_notice": EMULATOR_NOTICE if record.emulator else None,
        "reports_sha256": reports,
    }
    body = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    sums = {f"{stem}.json": sha256_hex(body), **reports}
    listing = "".join(f"{digest}  {name}\n" for name, digest in sums.items()).encode("ascii")
    files = EvidenceFiles(
        directory=report_dir,
        json_path=report_dir / f"{stem}.json",
        markdown_path=report_dir / f"{stem}.md",
        html_path=report_dir / f"{stem}.html",
        sha256_path=report_dir / f"{stem}.sha256",
        sha256=sums,
    )
    try:
        _write_atomic(files.markdown_path, markdown)
        _write_atomic(files.html_path, html)
        _write_atomic(files.json_path, body)
        _write_atomic(files.sha256_path, listing)
    except OSError as error:
        raise EvidenceError(f"cannot write evidence in {report_dir}: {error.strerror}") from None
    return files


def verify_evidence(sha256_path: Path) -> list[str]:
    """Re-hash each file listed in a ``.sha256`` file; return the names that are missing or differ."""
    bad: list[str] = []
    for line in sha256_path.read_text(encoding="ascii").splitlines():
        digest, _, name = line.partition("  ")
        target = sha256_path.parent / name
        if not target.is_file() or sha256_hex(target.read_bytes()) != digest:
            bad.append(name)
    return bad


def find_log_archive_bucket(session: boto3.session.Session, spa: str, region: str) -> str:
    """The spa's log archive bucket, found by the stack's tags (Spa, Purpose=log-archive), never guessed."""
    from botocore.exceptions import BotoCoreError, ClientError

    tagging = session.client("resourcegroupstaggingapi", region_name=region)
    try:
        pages = tagging.get_paginator("get_resources").paginate(
            ResourceTypeFilters=["s3"],
            TagFilters=[
                {"Key": SPA_TAG_KEY, "Values": [spa]},
                {"Key": "Purpose", "Values": [LOG_ARCHIVE_PURPOSE]},
            ],
        )
        arns = [m["ResourceARN"] for page in pages for m in page.get("ResourceTagMappingList", [])]
    except (BotoCoreError, ClientError) as error:
        raise EvidenceError(f"cannot look up the log archive bucket: {error}") from None
    names = sorted(arn.rsplit(":", 1)[-1] for arn in arns if arn.startswith("arn:aws"))
    if len(names) != 1:
        found = "none" if not names else ", ".join(names)
        raise EvidenceError(
            f"expected one bucket tagged {SPA_TAG_KEY}={spa}, Purpose={LOG_ARCHIVE_PURPOSE} in {region}, found {found}"
        )
    return names[0]


def upload_evidence(files: EvidenceFiles, session: boto3.session.Session, spa: str, region: str) -> list[str]:
    """Copy the evidence to ``s3://<log archive>/drills/<spa>/<id>/``; Object Lock keeps it 6 years.

    The archive's default Object Lock retention (164.316(b)(2)(i)) applies to each object on upload,
    so not even the account root can delete the evidence before then.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    bucket = find_log_archive_bucket(session, spa, region)
    s3 = session.client("s3", region_name=region)
    drill_id = files.json_path.stem
    uploaded: list[str] = []
    for path in files.all_paths:
        key = f"{UPLOAD_PREFIX}/{spa}/{drill_id}/{path.name}"
        try:
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=path.read_bytes(),
                ChecksumAlgorithm="SHA256",
                ContentType=_content_type(path),
            )
        except (BotoCoreError, ClientError) as error:
            raise EvidenceError(f"cannot upload {path.name} to s3://{bucket}/{key}: {error}") from None
        uploaded.append(f"s3://{bucket}/{key}")
    return uploaded


def _content_type(path: Path) -> str:
    return {
        ".json": "application/json",
        ".md": "text/markdown; charset=utf-8",
        ".html": "text/html; charset=utf-8",
    }.get(path.suffix, "text/plain; charset=us-ascii")
