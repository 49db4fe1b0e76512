"""Tear down what a drill created, and nothing else.

A drill copies PHI into temporary resources; leaving one behind is an unmanaged copy of PHI
(164.310(d)(2)(iv), 164.312(a)(1)), and deleting a source would be the very loss the drill exists to
prevent (164.308(a)(7)(ii)(A)). So every delete and every change made before a delete goes through
one guard, ``require_drill_tag``, that reads the resource's live tags and refuses anything that does
not carry the drill tag of this spa.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from scripts.drill.model import (
    DRILL_TAG_KEY,
    MANAGED_BY_TAG_KEY,
    MANAGED_BY_TAG_VALUE,
    SPA_TAG_KEY,
    CleanupAction,
    drill_tags,
    error_code,
)

if TYPE_CHECKING:
    from infra.config import SpaConfig

DRILL_NAME_PREFIX = "medspa-drill-"

DB_INSTANCE = "db-instance"
DB_SNAPSHOT = "db-snapshot"
SECURITY_GROUP = "security-group"
BUCKET = "bucket"
# Teardown order: the instance before its security group; snapshots of a copy after the copy.
TEARDOWN_ORDER = (DB_INSTANCE, DB_SNAPSHOT, SECURITY_GROUP, BUCKET)

# Codes meaning "already gone" besides any code containing "NotFound" (checked in delete_one).
_GONE_CODES = frozenset({"NoSuchBucket", "404"})


@dataclass
class DrillEnv:
    """Everything one drill's steps share: where to restore, under which key, with which limits."""

    session: Any
    workspace: Workspace
    config: SpaConfig
    region: str
    source_region: str
    from_dr_region: bool
    expected_key_arn: str
    account_id: str
    started_at: datetime
    timeout_seconds: float
    poll_seconds: float
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    on_progress: Callable[[str], None]
    emulator: bool = False

    clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        """One client per service and region for the whole drill (creating clients is slow)."""
        key = (service, region or self.region)
        if key not in self.clients:
            self.clients[key] = self.session.client(service, region_name=key[1])
        return self.clients[key]

    @property
    def waiter_config(self) -> dict[str, float]:
        return waiter_config(self.timeout_seconds, self.poll_seconds)


class RefusedDelete(Exception):
    """The resource lacks this spa's drill tag: it may be a source, so it is never touched."""


def drill_name(drill_id: str, role: str) -> str:
    """``medspa-drill-<drill id>-<role>``: valid for RDS identifiers, S3 buckets and SG names."""
    return f"{DRILL_NAME_PREFIX}{drill_id}-{role}"[:63].rstrip("-")


@dataclass(frozen=True)
class Created:
    """One resource the drill created (or asked AWS to create) in a region."""

    kind: str
    region: str
    identifier: str


@dataclass
class Workspace:
    """What this drill created, so teardown removes exactly that, even after an interrupt."""

    drill_id: str
    spa: str
    created: list[Created] = field(default_factory=list)

    @property
    def tags(self) -> dict[str, str]:
        return drill_tags(self.drill_id, self.spa)

    def tag_list(self, **extra: str) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in {**self.tags, **extra}.items()]

    def register(self, kind: str, region: str, identifier: str) -> None:
        """Record a resource before (or right after) asking AWS for it, so an interrupt cannot orphan it."""
        item = Created(kind, region, identifier)
        if item not in self.created:
            self.created.append(item)

    def owns_name(self, identifier: str) -> bool:
        """A name this drill chose: it embeds this drill's fresh id, so no source can carry it."""
        return identifier.startswith(f"{DRILL_NAME_PREFIX}{self.drill_id}-")


def require_drill_tag(tags: Mapping[str, str], *, spa: str, drill_id: str | None, resource: str) -> str:
    """The one guard before any delete: refuse unless the live tags say a drill of this spa made it.

    ``drill_id`` None accepts any drill of the spa (``--cleanup`` of a killed drill). Returns the
    resource's drill id.
    """
    found = tags.get(DRILL_TAG_KEY)
    if not found:
        raise RefusedDelete(f"{resource} has no {DRILL_TAG_KEY} tag: not created by a drill, never deleted")
    if tags.get(SPA_TAG_KEY) != spa or tags.get(MANAGED_BY_TAG_KEY) != MANAGED_BY_TAG_VALUE:
        raise RefusedDelete(f"{resource} is not tagged as a drill resource of {spa}: never deleted")
    if drill_id is not None and found != drill_id:
        raise RefusedDelete(f"{resource} belongs to drill {found}, not {drill_id}: left for its own cleanup")
    return found


def _tags(pairs: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(p["Key"]): str(p["Value"]) for p in pairs or ()}


def waiter_config(timeout_seconds: float, poll_seconds: float) -> dict[str, float]:
    delay = max(poll_seconds, 0.0)
    attempts = max(1, math.ceil(timeout_seconds / delay)) if delay > 0 else 3
    return {"Delay": delay, "MaxAttempts": attempts}


def delete_db_instance(
    rds: Any,
    identifier: str,
    *,
    spa: str,
    drill_id: str | None,
    timeout_seconds: float,
    poll_seconds: float,
) -> str:
    """Delete a drill copy: no final snapshot, automated backups deleted, wait until gone."""
    instance = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    require_drill_tag(_tags(instance.get("TagList")), spa=spa, drill_id=drill_id, resource=identifier)
    if instance.get("DeletionProtection"):
        # A copy can inherit deletion protection from its snapshot; only the drill copy is changed.
        rds.modify_db_instance(
            DBInstanceIdentifier=identifier, DeletionProtection=False, ApplyImmediately=True
        )
    if instance.get("DBInstanceStatus") != "deleting":
        rds.delete_db_instance(
            DBInstanceIdentifier=identifier, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
        )
    rds.get_waiter("db_instance_deleted").wait(
        DBInstanceIdentifier=identifier, WaiterConfig=waiter_config(timeout_seconds, poll_seconds)
    )
    return "deleted (no final snapshot, automated backups deleted)"


def delete_db_snapshot(rds: Any, identifier: str, *, spa: str, drill_id: str | None) -> str:
    """Delete a manual snapshot of a drill copy (automated ones go with the copy)."""
    snapshot = rds.describe_db_snapshots(DBSnapshotIdentifier=identifier)["DBSnapshots"][0]
    tags = _tags(rds.list_tags_for_resource(ResourceName=snapshot["DBSnapshotArn"]).get("TagList"))
    require_drill_tag(tags, spa=spa, drill_id=drill_id, resource=identifier)
    if snapshot.get("SnapshotType") == "automated":
        return "automated snapshot: removed with its instance's automated backups"
    rds.delete_db_snapshot(DBSnapshotIdentifier=identifier)
    return "deleted"


def delete_security_group(ec2: Any, group_id: str, *, spa: str, drill_id: str | None) -> str:
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    require_drill_tag(_tags(group.get("Tags")), spa=spa, drill_id=drill_id, resource=group_id)
    ec2.delete_security_group(GroupId=group_id)
    return "deleted"


def delete_bucket(s3: Any, bucket: str, *, spa: str, drill_id: str | None) -> str:
    """Delete every object version and delete marker, then the bucket."""
    try:
        tags = _tags(s3.get_bucket_tagging(Bucket=bucket).get("TagSet"))
    except ClientError as error:
        if error_code(error) != "NoSuchTagSet":
            raise
        tags = {}
    require_drill_tag(tags, spa=spa, drill_id=drill_id, resource=bucket)
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        for start in range(0, len(entries), 1000):
            batch = entries[start : start + 1000]
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if response.get("Errors"):
                raise RuntimeError(f"{len(response['Errors'])} object versions could not be deleted")
            removed += len(batch)
    s3.delete_bucket(Bucket=bucket)
    return f"deleted with {removed} object versions"


def claim(session: Any, workspace: Workspace, item: Created) -> None:
    """Tag a resource this drill named but may not have tagged yet (an interrupt right after creation).

    Only names embedding this drill's id qualify, so a source can never be claimed.
    """
    if not workspace.owns_name(item.identifier):
        return
    try:
        if item.kind == DB_INSTANCE:
            rds = session.client("rds", region_name=item.region)
            arn = rds.describe_db_instances(DBInstanceIdentifier=item.identifier)["DBInstances"][0][
                "DBInstanceArn"
            ]
            rds.add_tags_to_resource(ResourceName=arn, Tags=workspace.tag_list())
        elif item.kind == BUCKET:
            s3 = session.client("s3", region_name=item.region)
            s3.put_bucket_tagging(Bucket=item.identifier, Tagging={"TagSet": workspace.tag_list()})
    except (ClientError, BotoCoreError):
        return  # not there (never created, or already gone): the delete step reports it


def delete_one(
    session: Any,
    item: Created,
    *,
    spa: str,
    drill_id: str | None,
    timeout_seconds: float,
    poll_seconds: float,
) -> CleanupAction:
    """Delete one drill resource through the guard; never raises for AWS faults."""
    action = "delete"
    resource = f"{item.kind} {item.identifier} ({item.region})"
    try:
        if item.kind == DB_INSTANCE:
            detail = delete_db_instance(
                session.client("rds", region_name=item.region),
                item.identifier,
                spa=spa,
                drill_id=drill_id,
                timeout_seconds=timeout_seconds,
                poll_seconds=poll_seconds,
            )
        elif item.kind == DB_SNAPSHOT:
            detail = delete_db_snapshot(
                session.client("rds", region_name=item.region), item.identifier, spa=spa, drill_id=drill_id
            )
        elif item.kind == SECURITY_GROUP:
            detail = delete_security_group(
                session.client("ec2", region_name=item.region), item.identifier, spa=spa, drill_id=drill_id
            )
        elif item.kind == BUCKET:
            detail = delete_bucket(
                session.client("s3", region_name=item.region), item.identifier, spa=spa, drill_id=drill_id
            )
        else:  # pragma: no cover - kinds are the module's constants
            return CleanupAction(resource, action, False, f"unknown kind {item.kind}")
    except RefusedDelete as refused:
        return CleanupAction(resource, "refuse", False, str(refused))
    except ClientError as error:
        if error_code(error) in _GONE_CODES or "NotFound" in error_code(error):
            return CleanupAction(resource, action, True, "not present (never created or already deleted)")
        return CleanupAction(resource, action, False, f"AWS error {error_code(error)}")
    except WaiterError:
        return CleanupAction(
            resource, action, False, f"deletion requested but not finished within {timeout_seconds:.0f} s"
        )
    except (BotoCoreError, RuntimeError) as error:
        return CleanupAction(resource, action, False, f"{type(error).__name__}: {error}")
    return CleanupAction(resource, action, True, detail)


def parse_arn(arn: str, default_region: str = "") -> Created | None:
    """Map a tagging-API ARN of a kind drills create to what ``delete_one`` takes.

    S3 ARNs carry no region: a bucket gets ``default_region`` (the region the tagging API was asked).
    """
    parts = arn.split(":", 6)
    if len(parts) < 6:
        return None
    service, region, rest = parts[2], parts[3], ":".join(parts[5:])
    if service == "s3" and rest and "/" not in rest:
        return Created(BUCKET, region or default_region, rest)
    if service == "rds" and rest.startswith("db:"):
        return Created(DB_INSTANCE, region, rest.removeprefix("db:"))
    if service == "rds" and rest.startswith("snapshot:"):
        return Created(DB_SNAPSHOT, region, rest.removeprefix("snapshot:"))
    if service == "ec2" and rest.startswith("security-group/"):
        return Created(SECURITY_GROUP, region, rest.removeprefix("security-group/"))
    return None


def find_drill_resources(session: Any, region: str, spa: str, drill_id: str | None = None) -> list[Created]:
    """Everything in ``region`` tagged as created by a drill of ``spa`` (of one drill when given)."""
    tagging = session.client("resourcegroupstaggingapi", region_name=region)
    filters: list[dict[str, Any]] = [
        {"Key": SPA_TAG_KEY, "Values": [spa]},
        {"Key": MANAGED_BY_TAG_KEY, "Values": [MANAGED_BY_TAG_VALUE]},
        {"Key": DRILL_TAG_KEY, "Values": [drill_id]} if drill_id else {"Key": DRILL_TAG_KEY},
    ]
    found: list[Created] = []
    for page in tagging.get_paginator("get_resources").paginate(
        TagFilters=filters, ResourceTypeFilters=["rds:db", "rds:snapshot", "ec2:security-group", "s3"]
    ):
        for mapping in page.get("ResourceTagMappingList", []):
            item = parse_arn(str(mapping["ResourceARN"]), region)
            if item is None:
                continue
            if item not in found:
                found.append(item)
    return found


def teardown(
    session: Any,
    items: Iterable[Created],
    *,
    spa: str,
    drill_id: str | None,
    timeout_seconds: float,
    poll_seconds: float,
    on_progress: Callable[[str], None] = lambda _msg: None,
) -> list[CleanupAction]:
    """Delete ``items`` in dependency order (instances before their security groups)."""
    unique: list[Created] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        if (item.kind, item.identifier) not in seen:
            seen.add((item.kind, item.identifier))
            unique.append(item)
    unique.sort(key=lambda i: TEARDOWN_ORDER.index(i.kind))
    actions: list[CleanupAction] = []
    for item in unique:
        on_progress(f"cleanup: {item.kind} {item.identifier}")
        actions.append(
            delete_one(
                session,
                item,
                spa=spa,
                drill_id=drill_id,
                timeout_seconds=timeout_seconds,
                poll_seconds=poll_seconds,
            )
        )
    return actions


def teardown_workspace(
    session: Any,
    workspace: Workspace,
    regions: Iterable[str],
    *,
    timeout_seconds: float,
    poll_seconds: float,
    on_progress: Callable[[str], None] = lambda _msg: None,
) -> list[CleanupAction]:
    """Remove what the drill registered plus anything found by its drill tag in its regions."""
    for item in workspace.created:
        claim(session, workspace, item)
    items = list(workspace.created)
    actions: list[CleanupAction] = []
    for region in dict.fromkeys(regions):
        try:
            items.extend(find_drill_resources(session, region, workspace.spa, workspace.drill_id))
        except (ClientError, BotoCoreError) as error:
            code = error_code(error) if isinstance(error, ClientError) else type(error).__name__
            actions.append(
                CleanupAction(f"tag search in {region}", "find", False, f"AWS error {code}: not swept")
            )
    actions[:0] = teardown(
        session,
        items,
        spa=workspace.spa,
        drill_id=workspace.drill_id,
        timeout_seconds=timeout_seconds,
        poll_seconds=poll_seconds,
        on_progress=on_progress,
    )
    return actions
