"""Find the spa's protected resources the way AWS Backup does: by the stack's tags, never by names.

The backup plan selects ``medspa:backup=phi`` (infra/backups.py); the drill restores exactly that
set for ``Spa=<spa>``, so it tests what the backup plan protects (164.308(a)(7)(ii)(A)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from infra.context import BACKUP_TAG_KEY, BACKUP_TAG_VALUE
from scripts.drill.model import (
    DRILL_TAG_KEY,
    MANAGED_BY_TAG_KEY,
    MANAGED_BY_TAG_VALUE,
    SPA_TAG_KEY,
    ResourceKind,
)

# The tagging API also returns the PHI-tagged data key and the snapshots: restore only these types.
RESOURCE_TYPE_FILTERS = {ResourceKind.DATABASE: "rds:db", ResourceKind.BUCKET: "s3"}


@dataclass(frozen=True)
class ProtectedResource:
    """A source the drill restores from; it is read, never changed."""

    kind: ResourceKind
    arn: str
    identifier: str
    region: str
    tags: dict[str, str]


def _parse(arn: str, default_region: str) -> tuple[ResourceKind, str, str] | None:
    parts = arn.split(":", 6)
    if len(parts) < 6:
        return None
    service, region, rest = parts[2], parts[3], ":".join(parts[5:])
    if service == "rds" and rest.startswith("db:"):
        return ResourceKind.DATABASE, rest.removeprefix("db:"), region
    if service == "s3" and rest and "/" not in rest:
        return ResourceKind.BUCKET, rest, region or default_region
    return None


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
            parsed = _parse(arn, region)
            if parsed is None or parsed[0] not in kinds:
                continue
            if DRILL_TAG_KEY in tags or tags.get(MANAGED_BY_TAG_KEY) == MANAGED_BY_TAG_VALUE:
                continue  # a drill's own copy (restores may copy the source's tags): never a source
            kind, identifier, where = parsed
            found[arn] = ProtectedResource(kind, arn, identifier, where, tags)
    order = {ResourceKind.DATABASE: 0, ResourceKind.BUCKET: 1}
    return sorted(found.values(), key=lambda r: (order[r.kind], r.identifier))
