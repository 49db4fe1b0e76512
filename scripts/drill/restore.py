"""The AWS Backup steps the database and bucket drills share: find the recovery point, restore it, report.

Both drills restore the way a real recovery would (164.308(a)(7)(ii)(A), (B) and (D)): the newest
recovery point in the vault, a StartRestoreJob with the stack's own AWS Backup role, a bounded wait,
and the drill's verdict recorded back in AWS Backup. AWS faults become reasons or notes on the
resource's result, never exceptions; nothing here carries PHI, only ARNs, job ids and error codes.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from scripts.drill import backup_jobs
from scripts.drill.cleanup import DrillEnv
from scripts.drill.model import Check, ResourceResult, error_code

HIPAA_ENCRYPTION = "164.312(a)(2)(iv)"
HIPAA_ACCESS = "164.312(a)(1)"
HIPAA_TRANSMISSION = "164.312(e)(1)"
HIPAA_INTEGRITY = "164.312(c)(1)"
HIPAA_BACKUP = "164.308(a)(7)(ii)(A)"

# moto answers unimplemented AWS Backup calls like this; real AWS never does.
_NOT_IMPLEMENTED = frozenset({"404", "NotImplemented", "UnknownOperation", "UnknownOperationException"})


def vault_recovery_point(
    env: DrillEnv, resource_arn: str, result: ResourceResult
) -> backup_jobs.RecoveryPoint | None:
    """The newest AWS Backup recovery point in the vault the drill restores from, or None.

    An AWS Backup API that cannot answer (for example an emulator without it) means "none in the
    vault" and is recorded as a note; the drill then falls back to snapshots or object versions.
    """
    primary, dr = backup_jobs.vault_names(env.config)
    vault = dr if env.from_dr_region else primary
    try:
        return backup_jobs.newest_recovery_point(env.client("backup"), resource_arn, vault_name=vault)
    except ClientError as error:
        code = error_code(error)
        why = "not available here" if code in _NOT_IMPLEMENTED else f"not readable (AWS error {code})"
        result.checks.append(
            Check(
                "AWS Backup recovery points",
                True,
                f"recovery points of vault {vault} {why}; fell back to the service's own copies",
                HIPAA_BACKUP,
                note=True,
            )
        )
        return None


def restore_with_backup(
    env: DrillEnv,
    point: backup_jobs.RecoveryPoint,
    result: ResourceResult,
    *,
    metadata: dict[str, str],
    resource_type: str,
    idempotency_token: str,
) -> bool:
    """StartRestoreJob with the stack's AWS Backup role, then poll it; False when it did not finish.

    A refused start or a failed, aborted or late job becomes the result's reason.
    """
    try:
        job_id = backup_jobs.start_restore(
            env.client("backup"),
            recovery_point_arn=point.arn,
            role_arn=backup_jobs.backup_role_arn(env.config, env.account_id),
            metadata=metadata,
            resource_type=resource_type,
            idempotency_token=idempotency_token,
        )
    except ClientError as error:
        result.reasons.append(f"restore failed: StartRestoreJob AWS error {error_code(error)}")
        return False
    result.restore_job_id = job_id
    return wait_for_job(env, job_id, result)


def wait_for_job(env: DrillEnv, job_id: str, result: ResourceResult) -> bool:
    """Poll an AWS Backup restore job until it ends; a failure or timeout becomes the reason."""
    try:
        outcome = backup_jobs.wait_for_restore(
            env.client("backup"),
            job_id,
            timeout_seconds=env.timeout_seconds,
            poll_seconds=env.poll_seconds,
            clock=env.clock,
            sleep=env.sleep,
        )
    except backup_jobs.RestoreTimeout:
        result.reasons.append(
            f"timeout: restore job {job_id} did not finish within {env.timeout_seconds:.0f} s"
        )
        return False
    if outcome.status != backup_jobs.COMPLETED:
        message = (outcome.status_message or "no message")[:300]
        result.reasons.append(f"restore failed: restore job {job_id} ended {outcome.status}: {message}")
        return False
    return True


def report_to_backup(env: DrillEnv, result: ResourceResult) -> None:
    """Tell AWS Backup whether the restored copy validated, so its console shows the drill too."""
    if result.restore_job_id is None:
        return
    passed = not result.reasons and all(c.passed or c.note for c in result.checks)
    error = backup_jobs.report_validation(
        env.client("backup"),
        result.restore_job_id,
        passed=passed,
        message=f"medspa drill {env.workspace.drill_id}: {'validated' if passed else 'failed validation'}",
    )
    if error is not None:
        result.checks.append(
            Check("validation result recorded in AWS Backup", False, error, HIPAA_BACKUP, note=True)
        )
