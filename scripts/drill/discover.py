"""Find the spa's protected resources the way AWS Backup does: by the stack's tags, never by names.

The backup plan selects ``medspa:backup=phi`` (infra/backups.py); the drill restores exactly that
set for ``Spa=<spa>``, so it tests what the backup plan protects (164.308(a)(7)(ii)(A)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from infra.context import BACKUP_TAG_KEY, BACKUP_TAG_VALUE
from scripts.drill.cleanup import BUCKET, DB_INSTANCE, parse_arn
from scripts.drill.model import (
    DRILL_TAG_KEY,
    MANAGED_BY_TAG_KEY,
    MANAGED_BY_TAG_VALUE,
    SPA_TAG_KEY,
    ResourceKind,
)

# The tagging API also returns the PHI-tagged data key and the snapshots: restore only these types.
RESOURCE_TYPE_FILTERS = {ResourceKind.DATABASE: "rds:db", ResourceKind.BUCKET: "s3"}
# The kinds of parsed ARN (scripts/drill/cleanup.py's parse_arn) that can be a source.
_SOURCE_KINDS = {DB_INSTANCE: ResourceKind.DATABASE, BUCKET: ResourceKind.BUCKET}


@dataclass(frozen=True)
class ProtectedResource:
    """A source the drill restores from; it is read, never changed."""

    kind: ResourceKind
    arn: str
    identifier: str
    region: str
    tags: dict[str, str]


def discover(session: Any, region: str, spa: str, kinds: Iterable[ResourceKind]) -> list[ProtectedResource]:
    """The spa's PHI databases and buckets in ``region``: the database first, then buckets by name."""
    kinds = frozenset(kinds)
    wanted = sorted({RESOURCE_TYPE_FILTERS[k] for k in kinds})
    if not wanted:
        return []
    tagging = session.client("resourcegroupstaggingapi", region_name=region)
    found: dict[str, ProtectedResource] = {}
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[
            {"Key": SPA_TAG_KEY, "Values": [spa]},
            {"Key": BACKUP_TAG_KEY, "Values": [BACKUP_TAG_VALUE]},
        ],
        ResourceTypeFilters=wanted,
    )
    for page in pages:
        for mapping in page.get("ResourceTagMappingList", []):
            arn = str(mapping["ResourceARN"])
            tags = {str(t["Key"]): str(t["Value"]) for t in mapping.get("Tags", [])}
            parsed = parse_arn(arn, region)
            kind = _SOURCE_KINDS.get(parsed.kind) if parsed is not None else None
            if parsed is None or kind is None or kind not in kinds:
                continue
            if DRILL_TAG_KEY in tags or tags.get(MANAGED_BY_TAG_KEY) == MANAGED_BY_TAG_VALUE:
                continue  # a drill's own copy (restores may copy the source's tags): never a source
            found[arn] = ProtectedResource(kind, arn, parsed.identifier, parsed.region, tags)
    order = {ResourceKind.DATABASE: 0, ResourceKind.BUCKET: 1}
    return sorted(found.values(), key=lambda r: (order[r.kind], r.identifier))
