"""The drill's AWS Backup restore path: recovery points, restore jobs, validation results, restore tests.

When the stack's vaults hold recovery points, the drill restores through AWS Backup itself
(StartRestoreJob, DescribeRestoreJob, PutRestoreValidationResult), exactly the path a real recovery
takes: 164.308(a)(7)(ii)(D) testing the contingency plan means testing the backups the plan relies on
((A) data backup plan, (B) disaster recovery plan when restoring from the DR vault). Every restore
keeps the copy under our customer-managed key and inside the isolated subnets, never public
(164.312(a)(2)(iv), 164.312(e)(1)). The results of the stack's scheduled restore testing plan are read
back as further evidence (164.316(b)(2)(i)).

Every function takes a boto3 ``backup`` client built for the right region, so tests can wrap it in
botocore's Stubber. Nothing here logs or returns PHI: only ARNs, job ids, statuses and error codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from infra.backups import FAILED_RESTORE_STATUSES, RESTORE_TESTING_PLAN_ROLE, restore_testing_name
from infra.config import SpaConfig
from infra.context import SpaContext
from infra.storage import BACKUP_ROLE_NAME
from scripts.drill.model import ScheduledRestoreTest, error_code, utc

COMPLETED = "COMPLETED"
# DescribeRestoreJob statuses after which the job never changes again.
TERMINAL_RESTORE_STATUSES: frozenset[str] = frozenset({COMPLETED, *FAILED_RESTORE_STATUSES})
# PutRestoreValidationResult's message: kept short, and never anything but the drill's own words.
VALIDATION_MESSAGE_MAX = 1000
# Errors that mean "nothing to read here" rather than a broken call.
_NOT_FOUND_CODES: frozenset[str] = frozenset({"ResourceNotFoundException"})
_UNREADABLE_CODES: frozenset[str] = frozenset(
    {"AccessDeniedException", "AccessDenied", "ResourceNotFoundException"}
)


@dataclass(frozen=True)
class RecoveryPoint:
    """One AWS Backup recovery point of a protected resource, as ListRecoveryPointsByResource reports it."""

    arn: str
    created: datetime
    vault_name: str
    resource_arn: str
    encryption_key_arn: str | None
    status: str


@dataclass(frozen=True)
class RestoreOutcome:
    """How a restore job ended: the drill fails unless ``status`` is COMPLETED."""

    job_id: str
    status: str
    created_resource_arn: str | None
    status_message: str | None
    completed: datetime | None


class RestoreTimeout(Exception):
    """A restore job still running when the drill's deadline passed (the RTO cannot be met)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"restore job {job_id} did not finish before the deadline")
        self.job_id = job_id


def _utc_or_none(value: Any) -> datetime | None:
    return utc(value) if isinstance(value, datetime) else None


def _context(config: SpaConfig) -> SpaContext:
    """The stack's own naming context, so every name here is the one the stack deployed."""
    return SpaContext(config=config, account_id="")


def vault_names(config: SpaConfig) -> tuple[str, str]:
    """(primary vault, DR vault) exactly as infra/backups.py names them."""
    ctx = _context(config)
    return ctx.name("vault"), ctx.name("dr-vault")


def backup_role_arn(config: SpaConfig, account_id: str) -> str:
    """The AWS Backup service role the stack creates; PHI bucket policies exempt exactly this name."""
    ctx = _context(config)
    return f"arn:{ctx.partition}:iam::{account_id}:role/{BACKUP_ROLE_NAME.format(spa=config.spa)}"


def restore_testing_plan_name(spa: str) -> str:
    """The name of the spa's restore testing plan (164.308(a)(7)(ii)(D)), as infra/backups.py sets it."""
    return restore_testing_name(spa, RESTORE_TESTING_PLAN_ROLE)


def newest_recovery_point(
    backup: Any, resource_arn: str, *, vault_name: str | None = None
) -> RecoveryPoint | None:
    """The newest COMPLETED recovery point of ``resource_arn`` (only in ``vault_name`` when given).

    A partial, expired or still-creating recovery point would prove nothing about the backup plan
    (164.308(a)(7)(ii)(A)), so only COMPLETED ones count. None when there is none; a resource AWS
    Backup has never seen (ResourceNotFoundException) has none. Other AWS errors propagate.
    """
    newest: RecoveryPoint | None = None
    try:
        for page in backup.get_paginator("list_recovery_points_by_resource").paginate(
            ResourceArn=resource_arn
        ):
            for item in page.get("RecoveryPoints", []):
                if item.get("Status") != COMPLETED or "CreationDate" not in item:
                    continue
                if vault_name is not None and item.get("BackupVaultName") != vault_name:
                    continue
                point = RecoveryPoint(
                    arn=str(item["RecoveryPointArn"]),
                    created=utc(item["CreationDate"]),
                    vault_name=str(item.get("BackupVaultName", "")),
                    resource_arn=resource_arn,
                    encryption_key_arn=item.get("EncryptionKeyArn"),
                    status=str(item["Status"]),
                )
                if newest is None or point.created > newest.created:
                    newest = point
    except ClientError as error:
        if error_code(error) in _NOT_FOUND_CODES:
            return None
        raise
    return newest


def rds_restore_metadata(
    *,
    db_instance_identifier: str,
    subnet_group: str,
    security_group_id: str,
    kms_key_arn: str,
    instance_class: str,
) -> dict[str, str]:
    """StartRestoreJob metadata for an RDS instance: a single-AZ private copy in the sealed subnets.

    Without DBSubnetGroupName and VpcSecurityGroupIds AWS Backup restores into the default VPC with
    its default security group; PubliclyAccessible "false" keeps it off the internet (164.312(e)(1));
    KmsKeyId keeps the copy under our data key (164.312(a)(2)(iv)). VpcSecurityGroupIds is a JSON list
    in a string, as AWS Backup expects. MultiAZ "false": a drill copy needs no standby.
    """
    return {
        "DBInstanceIdentifier": db_instance_identifier,
        "DBInstanceClass": instance_class,
        "DBSubnetGroupName": subnet_group,
        "VpcSecurityGroupIds": json.dumps([security_group_id]),
        "PubliclyAccessible": "false",
        "MultiAZ": "false",
        "KmsKeyId": kms_key_arn,
    }


def s3_restore_metadata(*, target_bucket: str, kms_key_arn: str) -> dict[str, str]:
    """StartRestoreJob metadata for S3: into the drill's existing locked-down bucket, SSE-KMS with our key.

    Without Encrypted/EncryptionType/KMSKey AWS Backup writes the restored objects with SSE-S3 (an AWS
    key, not ours): a copy of PHI outside our key policy (164.312(a)(2)(iv)). NewBucket "false": the
    drill creates the target bucket itself, private and tagged, before the restore starts.
    """
    return {
        "DestinationBucketName": target_bucket,
        "NewBucket": "false",
        "Encrypted": "true",
        "EncryptionType": "SSE-KMS",
        "KMSKey": kms_key_arn,
    }


def start_restore(
    backup: Any,
    *,
    recovery_point_arn: str,
    role_arn: str,
    metadata: dict[str, str],
    resource_type: str,
    idempotency_token: str,
) -> str:
    """Start the restore job and return its id; a retried call with the same token starts nothing new.

    The source's tags are not copied: the drill tags the copy itself, so cleanup finds it and no
    source tag (e.g. the backup selection tag) pulls the temporary copy into the backup plan.
    """
    response = backup.start_restore_job(
        RecoveryPointArn=recovery_point_arn,
        Metadata=dict(metadata),
        IamRoleArn=role_arn,
        IdempotencyToken=idempotency_token,
        ResourceType=resource_type,
        CopySourceTagsToRestoredResource=False,
    )
    return str(response["RestoreJobId"])


def wait_for_restore(
    backup: Any,
    job_id: str,
    *,
    timeout_seconds: float,
    poll_seconds: float,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
) -> RestoreOutcome:
    """Poll DescribeRestoreJob until COMPLETED, ABORTED or FAILED; RestoreTimeout past the deadline.

    ``clock`` and ``sleep`` are injected so tests never really wait. KeyboardInterrupt is not caught:
    the engine cleans up and records the interrupt.
    """
    deadline = utc(clock()).timestamp() + timeout_seconds
    while True:
        job = backup.describe_restore_job(RestoreJobId=job_id)
        status = str(job.get("Status", ""))
        if status in TERMINAL_RESTORE_STATUSES:
            return RestoreOutcome(
                job_id=job_id,
                status=status,
                created_resource_arn=job.get("CreatedResourceArn"),
                status_message=job.get("StatusMessage"),
                completed=_utc_or_none(job.get("CompletionDate")),
            )
        remaining = deadline - utc(clock()).timestamp()
        if remaining <= 0:
            raise RestoreTimeout(job_id)
        sleep(max(0.0, min(poll_seconds, remaining)))


def report_validation(backup: Any, job_id: str, *, passed: bool, message: str) -> str | None:
    """Record the drill's verdict on the restore job in AWS Backup; the error to note, or None.

    The message is the drill's own text (no PHI), cut to VALIDATION_MESSAGE_MAX characters. Failing to
    record it does not change the drill's verdict, so the error comes back as evidence, not an exception.
    """
    try:
        backup.put_restore_validation_result(
            RestoreJobId=job_id,
            ValidationStatus="SUCCESSFUL" if passed else "FAILED",
            ValidationStatusMessage=message[:VALIDATION_MESSAGE_MAX],
        )
    except ClientError as error:
        return f"PutRestoreValidationResult for restore job {job_id} failed: AWS error {error_code(error)}"
    return None


def scheduled_restore_tests(backup: Any, spa: str, *, since: datetime) -> list[ScheduledRestoreTest]:
    """Restore jobs the spa's restore testing plan ran since ``since`` (164.308(a)(7)(ii)(D) evidence).

    Empty when the plan is missing or the caller may not read it (AccessDenied / not found): the
    engine records a note rather than failing the drill. Other AWS errors propagate.
    """
    wanted = restore_testing_plan_name(spa)
    tests: list[ScheduledRestoreTest] = []
    try:
        plans = [
            plan
            for page in backup.get_paginator("list_restore_testing_plans").paginate()
            for plan in page.get("RestoreTestingPlans", [])
            if plan.get("RestoreTestingPlanName") == wanted
        ]
        for plan in plans:
            pages = backup.get_paginator("list_restore_jobs").paginate(
                ByRestoreTestingPlanArn=plan["RestoreTestingPlanArn"], ByCreatedAfter=since
            )
            for page in pages:
                tests.extend(
                    ScheduledRestoreTest(
                        plan_name=wanted,
                        restore_job_id=str(job["RestoreJobId"]),
                        resource_arn=str(job.get("SourceResourceArn", "")),
                        status=str(job.get("Status", "")),
                        validation_status=job.get("ValidationStatus"),
                        completed_at=_utc_or_none(job.get("CompletionDate")),
                    )
                    for job in page.get("RestoreJobs", [])
                )
    except ClientError as error:
        if error_code(error) in _UNREADABLE_CODES:
            return []
        raise
    return tests
