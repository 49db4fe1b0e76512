"""The drill record: verdict rules, the JSON round trip and drill ids (164.308(a)(7)(ii)(D) evidence)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from scripts.drill.model import (
    Check,
    DrillRecord,
    ResourceKind,
    ResourceResult,
    Verdict,
    drill_tags,
    new_drill_id,
)
from tests.scripts.drill.records import DB_ARN, START, database_result, record


def test_record_round_trips_through_json() -> None:
    original = record()
    restored = DrillRecord.from_dict(json.loads(json.dumps(original.to_dict())))
    assert restored == original, "the JSON evidence must hold the whole record (164.316(b)(2)(i))"


def test_datetimes_are_iso_utc_with_z() -> None:
    data = record().to_dict()
    assert data["started_at"] == "2026-11-23T10:15:00Z", "timestamps in the evidence are ISO-8601 UTC"


def test_complete_drill_passes() -> None:
    assert record().verdict is Verdict.PASS, "every resource verified and cleaned up: PASS"


def test_failed_check_fails_the_resource_and_the_drill() -> None:
    failing = database_result()
    failing.checks.append(Check("encrypted with the data key", False, "unencrypted", "164.312(a)(2)(iv)"))
    assert failing.verdict is Verdict.FAIL
    assert record(resources=[failing]).verdict is Verdict.FAIL, "a failed check fails the drill"


def test_note_check_never_fails() -> None:
    noted = ResourceResult(
        kind=ResourceKind.DATABASE,
        source=DB_ARN,
        region="us-east-1",
        checks=[Check("validation query", False, "no validation query configured", note=True)],
    )
    assert noted.verdict is Verdict.PASS, "a note is informational and never fails the drill"


def test_resource_reason_fails() -> None:
    missed = database_result()
    missed.reasons.append("RPO 30.0 h exceeds the 24 h target")
    assert record(resources=[missed]).verdict is Verdict.FAIL


def test_drill_without_resources_fails() -> None:
    empty = record(resources=[])
    assert empty.verdict is Verdict.FAIL, (
        "a drill that restored nothing proves nothing (164.308(a)(7)(ii)(D))"
    )
    assert "no resource was restored" in empty.failure_reasons()


def test_failed_cleanup_fails_the_drill() -> None:
    leftover = record(cleanup_ok=False)
    assert leftover.verdict is Verdict.FAIL, "a drill that leaves a copy of PHI behind fails"
    assert any("DependencyViolation" in r for r in leftover.failure_reasons())


def test_drill_level_reason_fails() -> None:
    assert record(reasons=["interrupted"]).verdict is Verdict.FAIL


def test_drill_id_is_sortable_and_valid_in_rds_and_s3_names() -> None:
    drill_id = new_drill_id(datetime(2026, 11, 23, 10, 15, 0, tzinfo=UTC))
    assert re.fullmatch(r"d20261123t101500z-[0-9a-f]{6}", drill_id), drill_id
    identifier = f"medspa-drill-{drill_id}-db"
    assert re.fullmatch(r"[a-z][a-z0-9-]{0,62}", identifier) and "--" not in identifier


def test_drill_ids_are_unique() -> None:
    assert len({new_drill_id(START) for _ in range(50)}) == 50


def test_drill_tags_name_the_drill_and_spa() -> None:
    assert drill_tags("d1", "demo") == {"medspa:drill-id": "d1", "Spa": "demo", "ManagedBy": "medspa-drill"}
