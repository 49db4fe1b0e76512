"""The drill's AWS Backup restore path (scripts/drill/backup_jobs.py), 164.308(a)(7)(ii)(D).

moto's ``backup`` backend (checked against moto 5.2.5) covers backup plans, vaults, vault lock, tags
and report plans only: it implements none of ListRecoveryPointsByResource, StartRestoreJob,
DescribeRestoreJob, PutRestoreValidationResult or the restore testing APIs, and it cannot create a
recovery point (no StartBackupJob). So these tests wrap a real boto3 ``backup`` client in botocore's
Stubber: every request is checked against ``expected_params`` and every canned
response is validated by the Stubber against botocore's own service model for ``backup`` (the real
response shapes). The client has fake credentials and an endpoint on 127.0.0.1 that nothing listens
on, and the Stubber answers every call itself: no request can reach AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from infra.config import SpaConfig, load_stack
from scripts import paths
from scripts.drill import backup_jobs
from scripts.drill.model import ScheduledRestoreTest
from scripts.synth import Synthesis

ACCOUNT = "123456789012"
RESOURCE = f"arn:aws:rds:us-east-1:{ACCOUNT}:db:demo-db"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/demo-backup"
POINT = f"arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:"
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HIPAA_TESTING = "164.308(a)(7)(ii)(D)"


@pytest.fixture
def backup() -> Iterator[tuple[Any, Stubber]]:
    """A real ``backup`` client with fake credentials and an unreachable local endpoint, stubbed."""
    client = boto3.client(
        "backup",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        endpoint_url="http://127.0.0.1:9",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _point(suffix: str, created: datetime, vault: str, status: str = "COMPLETED") -> dict[str, Any]:
    """One RecoveryPointByResource member as ListRecoveryPointsByResource returns it."""
    return {
        "RecoveryPointArn": POINT + suffix,
        "CreationDate": created,
        "Status": status,
        "EncryptionKeyArn": KEY,
        "BackupVaultName": vault,
        "BackupSizeBytes": 1024,
        "ResourceName": "demo-db",
    }


def _list_points(stubber: Stubber, points: list[dict[str, Any]], token: str | None = None) -> None:
    response: dict[str, Any] = {"RecoveryPoints": points}
    params: dict[str, Any] = {"ResourceArn": RESOURCE}
    if token is not None:
        params["NextToken"] = token
    stubber.add_response("list_recovery_points_by_resource", response, params)


def _config(spa: str) -> SpaConfig:
    return load_stack(paths.stacks_dir(), spa)


# --- newest_recovery_point ---------------------------------------------------------------------------


def test_newest_completed_recovery_point_is_chosen_across_pages(backup: tuple[Any, Stubber]) -> None:
    """Stubber, real ListRecoveryPointsByResource shapes: the newest CreationDate on any page wins."""
    client, stubber = backup
    stubber.add_response(
        "list_recovery_points_by_resource",
        {"RecoveryPoints": [_point("old", T0 - timedelta(days=2), "demo-vault")], "NextToken": "page-2"},
        {"ResourceArn": RESOURCE},
    )
    _list_points(
        stubber,
        [_point("new", T0, "demo-vault"), _point("mid", T0 - timedelta(days=1), "demo-vault")],
        token="page-2",
    )
    point = backup_jobs.newest_recovery_point(client, RESOURCE)
    assert point is not None and point.arn == POINT + "new", (
        f"{RESOURCE}: the newest recovery point must be restored, got {point} ({HIPAA_TESTING})"
    )
    assert point.created == T0 and point.encryption_key_arn == KEY and point.resource_arn == RESOURCE, (
        f"{RESOURCE}: the recovery point keeps its creation time (RPO), key and resource: {point}"
    )


def test_recovery_point_that_is_not_completed_is_never_chosen(backup: tuple[Any, Stubber]) -> None:
    """Stubber, real shapes: a newer PARTIAL or CREATING point proves nothing; the COMPLETED one is used."""
    client, stubber = backup
    _list_points(
        stubber,
        [
            _point("creating", T0, "demo-vault", status="CREATING"),
            _point("partial", T0 - timedelta(hours=1), "demo-vault", status="PARTIAL"),
            _point("done", T0 - timedelta(days=1), "demo-vault"),
        ],
    )
    point = backup_jobs.newest_recovery_point(client, RESOURCE)
    assert point is not None and point.arn == POINT + "done", (
        f"{RESOURCE}: only a COMPLETED recovery point may be restored, got {point} (164.308(a)(7)(ii)(A))"
    )


def test_vault_filter_keeps_only_the_dr_vault(backup: tuple[Any, Stubber]) -> None:
    """Stubber, real shapes: --from-dr-region restores the DR copy even when the primary one is newer."""
    client, stubber = backup
    _list_points(
        stubber,
        [_point("primary", T0, "demo-vault"), _point("dr", T0 - timedelta(hours=3), "demo-dr-vault")],
    )
    point = backup_jobs.newest_recovery_point(client, RESOURCE, vault_name="demo-dr-vault")
    assert point is not None and point.arn == POINT + "dr" and point.vault_name == "demo-dr-vault", (
        f"{RESOURCE}: the DR drill must restore from the DR vault only, got {point} (164.308(a)(7)(ii)(B))"
    )


def test_no_completed_recovery_point_means_none(backup: tuple[Any, Stubber]) -> None:
    """Stubber, real shapes: nothing restorable in the requested vault is None, not an error."""
    client, stubber = backup
    _list_points(stubber, [_point("primary", T0, "demo-vault"), _point("x", T0, "demo-dr-vault", "EXPIRED")])
    point = backup_jobs.newest_recovery_point(client, RESOURCE, vault_name="demo-dr-vault")
    assert point is None, f"{RESOURCE}: no COMPLETED point in the DR vault must give None ({HIPAA_TESTING})"


def test_resource_unknown_to_aws_backup_means_none(backup: tuple[Any, Stubber]) -> None:
    """Stubber: ResourceNotFoundException (a resource never backed up) is 'no recovery point'."""
    client, stubber = backup
    stubber.add_client_error(
        "list_recovery_points_by_resource", "ResourceNotFoundException", http_status_code=404
    )
    assert backup_jobs.newest_recovery_point(client, RESOURCE) is None, (
        f"{RESOURCE}: a resource AWS Backup never saw has no recovery point ({HIPAA_TESTING})"
    )


def test_other_errors_listing_recovery_points_propagate(backup: tuple[Any, Stubber]) -> None:
    """Stubber: AccessDenied is not silently 'no backup'; the engine turns it into a reason or a note."""
    client, stubber = backup
    stubber.add_client_error(
        "list_recovery_points_by_resource", "AccessDeniedException", http_status_code=403
    )
    with pytest.raises(ClientError):
        backup_jobs.newest_recovery_point(client, RESOURCE)


# --- names the stack deploys -------------------------------------------------------------------------


def test_vault_names_match_the_deployed_vaults(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis.spa)
    primary, dr = backup_jobs.vault_names(config)
    regions = {
        v.inputs.get("name"): v.inputs.get("region")
        for v in stack_synthesis.of_type("aws:backup/vault:Vault")
    }
    assert regions.get(primary, "missing") is None and regions.get(dr) == config.dr_region, (
        f"{stack_synthesis.spa}: drill vaults {primary!r}/{dr!r} must be the stack's vaults {regions} "
        "(164.308(a)(7)(ii)(A), (B))"
    )


def test_backup_role_arn_is_the_deployed_aws_backup_role(stack_synthesis: Synthesis) -> None:
    config = _config(stack_synthesis.spa)
    arn = backup_jobs.backup_role_arn(config, ACCOUNT)
    name = arn.removeprefix(f"arn:aws:iam::{ACCOUNT}:role/")
    roles = [r for r in stack_synthesis.of_type("aws:iam/role:Role") if r.inputs.get("name") == name]
    trusted = [
        r
        for r in roles
        if "backup.amazonaws.com" in json.dumps(json.loads(r.inputs.get("assumeRolePolicy", "{}")))
    ]
    assert name != arn and len(trusted) == 1, (
        f"{stack_synthesis.spa}: {arn} must be the stack's AWS Backup service role ({HIPAA_TESTING})"
    )


def test_restore_testing_plan_name_is_the_deployed_plan(stack_synthesis: Synthesis) -> None:
    wanted = backup_jobs.restore_testing_plan_name(stack_synthesis.spa)
    plans = [
        p.inputs.get("name")
        for p in stack_synthesis.of_type("aws:backup/restoreTestingPlan:RestoreTestingPlan")
    ]
    assert plans == [wanted], (
        f"{stack_synthesis.spa}: the drill reads plan {wanted!r}, the stack deploys {plans} ({HIPAA_TESTING})"
    )


# --- start_restore -----------------------------------------------------------------------------------


def _start_params(metadata: dict[str, str], resource_type: str, token: str) -> dict[str, Any]:
    return {
        "RecoveryPointArn": POINT + "p1",
        "Metadata": metadata,
        "IamRoleArn": ROLE,
        "IdempotencyToken": token,
        "ResourceType": resource_type,
        "CopySourceTagsToRestoredResource": False,
    }


def test_rds_restore_stays_private_in_the_isolated_subnets_under_our_key(
    backup: tuple[Any, Stubber],
) -> None:
    """Stubber expected_params: the exact StartRestoreJob request of a database restore."""
    client, stubber = backup
    expected_metadata = {
        "DBInstanceIdentifier": "drill-d20261123t100000z-a1b2c3-db",
        "DBInstanceClass": "db.t4g.medium",
        "DBSubnetGroupName": "demo-isolated",
        "VpcSecurityGroupIds": '["sg-0123456789abcdef0"]',
        "PubliclyAccessible": "false",
        "MultiAZ": "false",
        "KmsKeyId": KEY,
    }
    stubber.add_response(
        "start_restore_job",
        {"RestoreJobId": "rj-db"},
        _start_params(expected_metadata, "RDS", "d20261123t100000z-a1b2c3-db"),
    )
    metadata = backup_jobs.rds_restore_metadata(
        db_instance_identifier="drill-d20261123t100000z-a1b2c3-db",
        subnet_group="demo-isolated",
        security_group_id="sg-0123456789abcdef0",
        kms_key_arn=KEY,
        instance_class="db.t4g.medium",
    )
    job_id = backup_jobs.start_restore(
        client,
        recovery_point_arn=POINT + "p1",
        role_arn=ROLE,
        metadata=metadata,
        resource_type="RDS",
        idempotency_token="d20261123t100000z-a1b2c3-db",
    )
    assert job_id == "rj-db", (
        "StartRestoreJob RDS: the restored copy must be private, in the isolated subnets and under our "
        "key (164.312(a)(2)(iv), 164.312(e)(1))"
    )


def test_s3_restore_is_encrypted_with_our_key_into_the_drill_bucket(backup: tuple[Any, Stubber]) -> None:
    """Stubber expected_params: the exact StartRestoreJob request of a bucket restore (SSE-KMS, our key)."""
    client, stubber = backup
    expected_metadata = {
        "DestinationBucketName": "drill-d20261123t100000z-a1b2c3-phi",
        "NewBucket": "false",
        "Encrypted": "true",
        "EncryptionType": "SSE-KMS",
        "KMSKey": KEY,
    }
    stubber.add_response(
        "start_restore_job", {"RestoreJobId": "rj-s3"}, _start_params(expected_metadata, "S3", "tok-s3")
    )
    metadata = backup_jobs.s3_restore_metadata(
        target_bucket="drill-d20261123t100000z-a1b2c3-phi", kms_key_arn=KEY
    )
    job_id = backup_jobs.start_restore(
        client,
        recovery_point_arn=POINT + "p1",
        role_arn=ROLE,
        metadata=metadata,
        resource_type="S3",
        idempotency_token="tok-s3",
    )
    assert job_id == "rj-s3", (
        "StartRestoreJob S3: restored objects must be SSE-KMS under our key, never SSE-S3 (164.312(a)(2)(iv))"
    )


# --- wait_for_restore --------------------------------------------------------------------------------


class FakeTime:
    """An injected clock and sleep: sleeping advances the clock, nothing really waits."""

    def __init__(self) -> None:
        self.now = T0
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


def _job(status: str, **extra: Any) -> dict[str, Any]:
    """A DescribeRestoreJob response with the fields AWS returns for a job in ``status``."""
    return {
        "AccountId": ACCOUNT,
        "RestoreJobId": "rj-1",
        "RecoveryPointArn": POINT + "p1",
        "SourceResourceArn": RESOURCE,
        "CreationDate": T0,
        "Status": status,
        "IamRoleArn": ROLE,
        "ResourceType": "RDS",
        **extra,
    }


def _wait(client: Any, time: FakeTime, timeout: float = 600) -> backup_jobs.RestoreOutcome:
    return backup_jobs.wait_for_restore(
        client, "rj-1", timeout_seconds=timeout, poll_seconds=30, clock=time.clock, sleep=time.sleep
    )


def test_wait_returns_the_completed_job(backup: tuple[Any, Stubber]) -> None:
    """Stubber, real DescribeRestoreJob shapes: RUNNING is polled again; COMPLETED ends the wait."""
    client, stubber = backup
    created = f"arn:aws:rds:us-east-1:{ACCOUNT}:db:drill-db"
    stubber.add_response("describe_restore_job", _job("PENDING"), {"RestoreJobId": "rj-1"})
    stubber.add_response(
        "describe_restore_job", _job("RUNNING", PercentDone="50.00%"), {"RestoreJobId": "rj-1"}
    )
    stubber.add_response(
        "describe_restore_job",
        _job("COMPLETED", CreatedResourceArn=created, CompletionDate=T0 + timedelta(minutes=1)),
        {"RestoreJobId": "rj-1"},
    )
    time = FakeTime()
    outcome = _wait(client, time)
    assert (outcome.status, outcome.created_resource_arn, outcome.completed, time.sleeps) == (
        "COMPLETED",
        created,
        T0 + timedelta(minutes=1),
        [30, 30],
    ), (
        f"restore job rj-1: the wait must end on COMPLETED with the copy's ARN, got {outcome} ({HIPAA_TESTING})"
    )


def test_wait_returns_a_failed_job_with_its_message(backup: tuple[Any, Stubber]) -> None:
    """Stubber, real shapes: FAILED is terminal and its status message is kept for the evidence."""
    client, stubber = backup
    stubber.add_response(
        "describe_restore_job",
        _job("FAILED", StatusMessage="Access denied to KMS key", CompletionDate=T0),
        {"RestoreJobId": "rj-1"},
    )
    time = FakeTime()
    outcome = _wait(client, time)
    assert (outcome.status, outcome.status_message, time.sleeps) == (
        "FAILED",
        "Access denied to KMS key",
        [],
    ), (
        f"restore job rj-1: a FAILED restore must end the wait with its reason, got {outcome} ({HIPAA_TESTING})"
    )


def test_wait_raises_restore_timeout_past_the_deadline(backup: tuple[Any, Stubber]) -> None:
    """Stubber, real shapes: a job still RUNNING at the deadline raises RestoreTimeout with its id."""
    client, stubber = backup
    for _ in range(3):
        stubber.add_response("describe_restore_job", _job("RUNNING"), {"RestoreJobId": "rj-1"})
    time = FakeTime()
    with pytest.raises(backup_jobs.RestoreTimeout) as raised:
        _wait(client, time, timeout=60)
    assert raised.value.job_id == "rj-1" and sum(time.sleeps) == 60, (
        f"restore job rj-1: the wait must stop at the 60 s deadline, slept {time.sleeps} ({HIPAA_TESTING})"
    )


def test_wait_lets_keyboard_interrupt_through(backup: tuple[Any, Stubber]) -> None:
    """Stubber, real shapes: Ctrl-C while waiting reaches the engine, which then cleans up."""
    client, stubber = backup
    stubber.add_response("describe_restore_job", _job("RUNNING"), {"RestoreJobId": "rj-1"})

    def interrupted(_seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backup_jobs.wait_for_restore(
            client, "rj-1", timeout_seconds=600, poll_seconds=30, clock=FakeTime().clock, sleep=interrupted
        )


# --- report_validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(("passed", "status"), [(True, "SUCCESSFUL"), (False, "FAILED")])
def test_report_validation_records_the_verdict(
    backup: tuple[Any, Stubber], passed: bool, status: str
) -> None:
    """Stubber expected_params: PutRestoreValidationResult carries the drill's verdict on the job."""
    client, stubber = backup
    stubber.add_response(
        "put_restore_validation_result",
        {},
        {"RestoreJobId": "rj-1", "ValidationStatus": status, "ValidationStatusMessage": "medspa drill d1"},
    )
    error = backup_jobs.report_validation(client, "rj-1", passed=passed, message="medspa drill d1")
    assert error is None, (
        f"restore job rj-1: validation {status} must be recorded, got {error!r} ({HIPAA_TESTING})"
    )


def test_report_validation_message_is_cut_to_the_limit(backup: tuple[Any, Stubber]) -> None:
    """Stubber expected_params: a long message is cut to 1000 characters rather than rejected."""
    client, stubber = backup
    stubber.add_response(
        "put_restore_validation_result",
        {},
        {"RestoreJobId": "rj-1", "ValidationStatus": "FAILED", "ValidationStatusMessage": "x" * 1000},
    )
    error = backup_jobs.report_validation(client, "rj-1", passed=False, message="x" * 5000)
    assert error is None, (
        f"restore job rj-1: a 5000-character message must be cut to 1000, not rejected: {error!r} "
        f"({HIPAA_TESTING})"
    )


def test_report_validation_error_is_returned_as_a_message(backup: tuple[Any, Stubber]) -> None:
    """Stubber: a ClientError is returned for the evidence, not raised; it names the job and the code."""
    client, stubber = backup
    stubber.add_client_error(
        "put_restore_validation_result",
        "InvalidRequestException",
        service_message="Restore job is not in a validatable state",
        http_status_code=400,
    )
    error = backup_jobs.report_validation(client, "rj-1", passed=True, message="ok")
    assert error is not None and "rj-1" in error and "InvalidRequestException" in error, (
        f"restore job rj-1: a failed PutRestoreValidationResult must come back as a message, got {error!r} "
        f"({HIPAA_TESTING})"
    )


# --- scheduled_restore_tests -------------------------------------------------------------------------


def _plan(name: str) -> dict[str, Any]:
    """A RestoreTestingPlanForList member as ListRestoreTestingPlans returns it."""
    return {
        "CreationTime": T0 - timedelta(days=90),
        "RestoreTestingPlanArn": f"arn:aws:backup:us-east-1:{ACCOUNT}:restore-testing-plan:{name}-abc",
        "RestoreTestingPlanName": name,
        "ScheduleExpression": "cron(0 9 2 * ? *)",
        "ScheduleExpressionTimezone": "Etc/UTC",
        "StartWindowHours": 8,
    }


def test_scheduled_restore_tests_are_mapped_from_the_spas_plan(backup: tuple[Any, Stubber]) -> None:
    """Stubber, real ListRestoreTestingPlans / ListRestoreJobs shapes: only the spa's plan is read."""
    client, stubber = backup
    since = T0 - timedelta(days=100)
    stubber.add_response(
        "list_restore_testing_plans",
        {"RestoreTestingPlans": [_plan("other_restore_tests"), _plan("demo_restore_tests")]},
        {},
    )
    completed = T0 - timedelta(days=20)
    stubber.add_response(
        "list_restore_jobs",
        {
            "RestoreJobs": [
                {
                    "AccountId": ACCOUNT,
                    "RestoreJobId": "rj-scheduled",
                    "RecoveryPointArn": POINT + "p1",
                    "SourceResourceArn": RESOURCE,
                    "CreationDate": completed - timedelta(hours=1),
                    "CompletionDate": completed,
                    "Status": "COMPLETED",
                    "ResourceType": "RDS",
                    "CreatedBy": {
                        "RestoreTestingPlanArn": _plan("demo_restore_tests")["RestoreTestingPlanArn"]
                    },
                    "ValidationStatus": "SUCCESSFUL",
                }
            ]
        },
        {
            "ByRestoreTestingPlanArn": _plan("demo_restore_tests")["RestoreTestingPlanArn"],
            "ByCreatedAfter": since,
        },
    )
    tests = backup_jobs.scheduled_restore_tests(client, "demo", since=since)
    assert tests == [
        ScheduledRestoreTest(
            plan_name="demo_restore_tests",
            restore_job_id="rj-scheduled",
            resource_arn=RESOURCE,
            status="COMPLETED",
            validation_status="SUCCESSFUL",
            completed_at=completed,
        )
    ], f"demo_restore_tests: scheduled restore test results must be reported as evidence ({HIPAA_TESTING})"


def test_scheduled_restore_tests_access_denied_is_empty(backup: tuple[Any, Stubber]) -> None:
    """Stubber: an operator without restore-testing read access gets no results, not a crash."""
    client, stubber = backup
    stubber.add_client_error("list_restore_testing_plans", "AccessDeniedException", http_status_code=403)
    tests = backup_jobs.scheduled_restore_tests(client, "demo", since=T0)
    assert tests == [], (
        f"demo_restore_tests: AccessDenied must give no results, got {tests} ({HIPAA_TESTING})"
    )


def test_scheduled_restore_tests_without_the_plan_is_empty(backup: tuple[Any, Stubber]) -> None:
    """Stubber, real shapes: another spa's plan is never read (no ListRestoreJobs call is stubbed)."""
    client, stubber = backup
    stubber.add_response(
        "list_restore_testing_plans", {"RestoreTestingPlans": [_plan("other_restore_tests")]}, {}
    )
    tests = backup_jobs.scheduled_restore_tests(client, "demo", since=T0)
    assert tests == [], (
        f"demo_restore_tests: another spa's restore tests must not be reported ({HIPAA_TESTING})"
    )
