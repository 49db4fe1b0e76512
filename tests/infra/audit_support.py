"""Lookups shared by the audit-trail, log-archive and alarm tests (resources found by type, tag and edges)."""

from __future__ import annotations

from functools import lru_cache

from infra.config import SpaConfig, load_stack
from scripts import paths
from scripts.synth import ResourceRecord, Synthesis

AUDIT = "medspa:audit:AuditTrail"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TRAIL = "aws:cloudtrail/trail:Trail"
TOPIC = "aws:sns/topic:Topic"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@lru_cache(maxsize=8)
def stack_config(spa: str) -> SpaConfig:
    return load_stack(paths.stacks_dir(), spa)


def single(records: list[ResourceRecord], what: str, section: str) -> ResourceRecord:
    assert len(records) == 1, f"{what}: exactly one expected, found {len(records)} ({section})"
    return records[0]


def audit_component(synthesis: Synthesis) -> ResourceRecord:
    return single(synthesis.of_type(AUDIT), f"{synthesis.spa}: audit trail component", "164.312(b)")


def descendants(synthesis: Synthesis, root: ResourceRecord) -> list[ResourceRecord]:
    """Every resource below `root` in the component tree."""
    found: list[ResourceRecord] = []
    frontier = {root.urn}
    while frontier:
        children = [r for r in synthesis.resources if r.parent in frontier]
        found.extend(children)
        frontier = {r.urn for r in children}
    return found


def audit_resources(synthesis: Synthesis, type_token: str) -> list[ResourceRecord]:
    return [r for r in descendants(synthesis, audit_component(synthesis)) if r.type == type_token]


def log_archive_bucket(synthesis: Synthesis) -> ResourceRecord:
    return single(audit_resources(synthesis, BUCKET), f"{synthesis.spa}: log archive bucket", "164.312(b)")


def configures(synthesis: Synthesis, type_token: str, bucket: ResourceRecord) -> list[ResourceRecord]:
    """The bucket's configuration resources of one type (those whose `bucket` input comes from it)."""
    return [
        r for r in synthesis.of_type(type_token) if bucket.urn in r.property_dependencies.get("bucket", [])
    ]


def logs_key(synthesis: Synthesis) -> ResourceRecord:
    keys = [k for k in synthesis.of_type(KEY) if (k.inputs.get("tags") or {}).get("Purpose") == "logs"]
    return single(keys, f"{synthesis.spa}: logs KMS key", "164.312(a)(2)(iv)")


def trail(synthesis: Synthesis) -> ResourceRecord:
    return single(audit_resources(synthesis, TRAIL), f"{synthesis.spa}: CloudTrail trail", "164.312(b)")


def trail_log_group(synthesis: Synthesis) -> ResourceRecord:
    groups = [
        g
        for g in synthesis.of_type(LOG_GROUP)
        if g.urn in trail(synthesis).property_dependencies.get("cloudWatchLogsGroupArn", [])
    ]
    return single(groups, f"{synthesis.spa}: the trail's CloudWatch log group", "164.312(b)")


def alert_topic(synthesis: Synthesis) -> ResourceRecord:
    return synthesis.one(TOPIC, "alerts-topic")


def phi_buckets(synthesis: Synthesis) -> list[ResourceRecord]:
    """Buckets tagged as holding PHI (every PHI store carries the PHI classification tag)."""
    return [
        b
        for b in synthesis.of_type(BUCKET)
        if (b.inputs.get("tags") or {}).get("DataClassification") == "PHI"
    ]


def bucket_arn(bucket: ResourceRecord) -> str:
    """The bucket's ARN as the synthesis mocks compute it (from its `bucket` name input)."""
    name = bucket.inputs.get("bucket") or bucket.inputs.get("name") or bucket.name
    return f"arn:aws:s3:::{name}"
