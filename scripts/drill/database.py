"""Restore the PHI database's newest recovery point into a temporary, sealed copy and verify it.

The copy goes into the isolated DB subnets with a drill security group that has no ingress and no
egress, is never public, and must come back encrypted with the expected key (164.312(a)(2)(iv),
164.312(a)(1), 164.312(e)(1)). Its timings are the evidence of 164.308(a)(7)(ii)(B) and (D).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from scripts.drill import backup_jobs
from scripts.drill.cleanup import DB_INSTANCE, SECURITY_GROUP, Created, DrillEnv, claim, drill_name
from scripts.drill.discover import ProtectedResource
from scripts.drill.model import Check, ResourceResult, error_code, utc
from scripts.drill.restore import (
    HIPAA_ACCESS,
    HIPAA_ENCRYPTION,
    HIPAA_INTEGRITY,
    HIPAA_TRANSMISSION,
    report_to_backup,
    restore_with_backup,
    vault_recovery_point,
)

Validator = Callable[[str], Check]


@dataclass(frozen=True)
class Snapshot:
    """An RDS snapshot (manual or automated) used as the recovery point when the vault has none."""

    identifier: str
    arn: str
    created: datetime


def newest_snapshot(rds: Any, db_identifier: str) -> Snapshot | None:
    """The newest available snapshot (manual or automated) of the instance, in the client's region."""
    best: Snapshot | None = None
    for page in rds.get_paginator("describe_db_snapshots").paginate(DBInstanceIdentifier=db_identifier):
        for snap in page.get("DBSnapshots", []):
            if snap.get("Status") != "available" or snap.get("SnapshotCreateTime") is None:
                continue
            candidate = Snapshot(
                identifier=str(snap["DBSnapshotIdentifier"]),
                arn=str(snap["DBSnapshotArn"]),
                created=utc(snap["SnapshotCreateTime"]),
            )
            if best is None or candidate.created > best.created:
                best = candidate
    return best


def _subnet_group(env: DrillEnv, source: ProtectedResource) -> tuple[str, str]:
    """The source's isolated DB subnet group (read from the source), and its VPC in the restore region.

    In the DR region a subnet group of the same name must exist: the drill will not put a copy of
    PHI into a default VPC or a network it did not verify (164.312(a)(1)).
    """
    source_rds = env.client("rds", env.source_region)
    instance = source_rds.describe_db_instances(DBInstanceIdentifier=source.identifier)["DBInstances"][0]
    name = str(instance["DBSubnetGroup"]["DBSubnetGroupName"])
    try:
        group = env.client("rds").describe_db_subnet_groups(DBSubnetGroupName=name)["DBSubnetGroups"][0]
    except ClientError as error:
        if "NotFound" not in error_code(error):
            raise
        raise LookupError(
            f"no DB subnet group {name} in {env.region}: deploy the isolated network there before a "
            "DR restore; the drill never restores PHI into a default VPC"
        ) from None
    return name, str(group["VpcId"])


def _drill_security_group(env: DrillEnv, vpc_id: str) -> str:
    """A security group with no ingress and no egress: nothing can reach the copy, it reaches nothing."""
    ec2 = env.client("ec2")
    name = drill_name(env.workspace.drill_id, "db")
    group_id = str(
        ec2.create_security_group(
            GroupName=name,
            Description=f"Restore drill {env.workspace.drill_id}: no ingress, no egress",
            VpcId=vpc_id,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": env.workspace.tag_list(Name=name)}],
        )["GroupId"]
    )
    env.workspace.register(SECURITY_GROUP, env.region, group_id)
    ec2.revoke_security_group_egress(
        GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    return group_id


def _restore_from_snapshot(
    env: DrillEnv, snapshot: Snapshot, identifier: str, subnet_group: str, group_id: str
) -> None:
    env.workspace.register(DB_INSTANCE, env.region, identifier)
    env.client("rds").restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier=identifier,
        DBSnapshotIdentifier=snapshot.identifier,
        DBInstanceClass=env.config.db_instance_class,
        DBSubnetGroupName=subnet_group,
        VpcSecurityGroupIds=[group_id],
        PubliclyAccessible=False,
        MultiAZ=False,
        DeletionProtection=False,
        CopyTagsToSnapshot=False,
        BackupRetentionPeriod=0,
        Tags=env.workspace.tag_list(),
    )


def _wait_available(env: DrillEnv, identifier: str, result: ResourceResult) -> bool:
    """Wait with the RDS waiter, bounded by the drill's timeout; a failure or timeout is a reason."""
    try:
        env.client("rds").get_waiter("db_instance_available").wait(
            DBInstanceIdentifier=identifier, WaiterConfig=env.waiter_config
        )
    except WaiterError as error:
        if "Max attempts exceeded" in str(error):
            result.reasons.append(
                f"timeout: the restored instance was not available within {env.timeout_seconds:.0f} s"
            )
        else:
            status = (error.last_response or {}).get("DBInstances", [{}])[0].get("DBInstanceStatus")
            result.reasons.append(f"restore failed: the restored instance went to status {status!r}")
        return False
    return True


def _verify(
    env: DrillEnv, identifier: str, subnet_group: str, group_id: str, result: ResourceResult
) -> str | None:
    """Checks on the copy; returns its endpoint ("host:port") when it has one."""
    instance = env.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    status = instance.get("DBInstanceStatus")
    result.checks.append(Check("restored instance available", status == "available", f"status {status}"))
    encrypted = bool(instance.get("StorageEncrypted"))
    key = instance.get("KmsKeyId")
    result.checks.append(
        Check(
            "encrypted with the expected key",
            encrypted and key == env.expected_key_arn,
            f"StorageEncrypted {str(encrypted).lower()}, KmsKeyId {key or 'none'}, "
            f"expected {env.expected_key_arn}",
            HIPAA_ENCRYPTION,
        )
    )
    public = instance.get("PubliclyAccessible")
    result.checks.append(
        Check(
            "not publicly accessible",
            public is False,
            f"PubliclyAccessible {str(public).lower()}",
            HIPAA_TRANSMISSION,
        )
    )
    group_name = (instance.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
    groups = sorted(g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", []))
    result.checks.append(
        Check(
            "isolated subnets, no-ingress security group",
            group_name == subnet_group and groups == [group_id],
            f"subnet group {group_name}, security groups {', '.join(groups) or 'none'}",
            HIPAA_ACCESS,
        )
    )
    endpoint = instance.get("Endpoint") or {}
    if endpoint.get("Address"):
        return f"{endpoint['Address']}:{endpoint.get('Port', '')}".rstrip(":")
    return None


def _validate(env: DrillEnv, endpoint: str | None, validate: Validator | None) -> Check:
    """The spa's validation query, run by the caller's runner; counts and hashes only, never PHI."""
    if env.config.drill_validation_query is None:
        return Check("validation query", True, "no validation query configured", HIPAA_INTEGRITY, note=True)
    if validate is None:
        return Check(
            "validation query",
            False,
            "medspa:drillValidationQuery is set but no query runner was given to the drill, so the "
            "restored data was not validated",
            HIPAA_INTEGRITY,
        )
    if endpoint is None:
        return Check("validation query", False, "the restored instance has no endpoint", HIPAA_INTEGRITY)
    try:
        check = validate(endpoint)
    except Exception as error:  # the runner's message may quote data: report its type only
        return Check(
            "validation query", False, f"the query runner failed ({type(error).__name__})", HIPAA_INTEGRITY
        )
    return check


def drill_database(
    env: DrillEnv, source: ProtectedResource, result: ResourceResult, *, validate: Validator | None
) -> None:
    """Restore, wait, verify and time one database; fills ``result`` as it goes (interrupt-safe)."""
    point = vault_recovery_point(env, source.arn, result)
    snapshot: Snapshot | None = None
    if point is not None:
        result.recovery_point_arn, result.recovery_point_time = point.arn, utc(point.created)
    else:
        snapshot = newest_snapshot(env.client("rds"), source.identifier)
        if snapshot is None:
            where = "the DR vault or DR region" if env.from_dr_region else "the vault or RDS"
            result.reasons.append(f"no recovery point: no backup of {source.identifier} in {where}")
            return
        result.recovery_point_arn, result.recovery_point_time = snapshot.arn, snapshot.created

    try:
        subnet_group, vpc_id = _subnet_group(env, source)
    except LookupError as missing:
        result.reasons.append(str(missing))
        return
    group_id = _drill_security_group(env, vpc_id)
    identifier = drill_name(env.workspace.drill_id, "db")
    env.on_progress(f"database: restoring {result.recovery_point_arn} as {identifier} in {env.region}")
    result.restore_started = env.clock()
    if point is not None:
        if not _restore_with_backup(env, point, identifier, subnet_group, group_id, result):
            return
    elif snapshot is not None:
        try:
            _restore_from_snapshot(env, snapshot, identifier, subnet_group, group_id)
        except ClientError as error:
            result.reasons.append(f"restore failed: AWS error {error_code(error)}")
            return
        if not _wait_available(env, identifier, result):
            return
    result.restored = identifier
    endpoint = _verify(env, identifier, subnet_group, group_id, result)
    result.checks.append(_validate(env, endpoint, validate))
    result.validated_at = env.clock()
    if point is not None and result.restore_job_id:
        report_to_backup(env, result)


def _restore_with_backup(
    env: DrillEnv,
    point: backup_jobs.RecoveryPoint,
    identifier: str,
    subnet_group: str,
    group_id: str,
    result: ResourceResult,
) -> bool:
    """StartRestoreJob into the sealed network under our key, then poll it; False when it did not finish."""
    metadata = backup_jobs.rds_restore_metadata(
        db_instance_identifier=identifier,
        subnet_group=subnet_group,
        security_group_id=group_id,
        kms_key_arn=env.expected_key_arn,
        instance_class=env.config.db_instance_class,
    )
    env.workspace.register(DB_INSTANCE, env.region, identifier)
    if not restore_with_backup(
        env,
        point,
        result,
        metadata=metadata,
        resource_type="RDS",
        idempotency_token=f"{env.workspace.drill_id}-db",
    ):
        return False
    claim(env.session, env.workspace, Created(DB_INSTANCE, env.region, identifier))  # tag it for the guard
    return True
