"""The restore drill: restore every protected resource, verify, time against the targets, clean up.

A tested contingency plan (164.308(a)(7)(ii)(D)) of the data backup plan (164.308(a)(7)(ii)(A)) and
the disaster recovery plan (164.308(a)(7)(ii)(B)). AWS faults never raise: they become reasons in the
record, so the evidence always says why a drill failed. Everything the drill creates is torn down
before it returns, also on failure, timeout or Ctrl-C; an interrupt is re-raised after the teardown
with the partial record attached as ``drill_record``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infra.config import SpaConfig
from infra.context import BACKUP_TAG_KEY, BACKUP_TAG_VALUE
from scripts.drill import backup_jobs
from scripts.drill.buckets import drill_bucket
from scripts.drill.cleanup import DrillEnv, Workspace, find_drill_resources, teardown, teardown_workspace
from scripts.drill.database import Validator, drill_database
from scripts.drill.discover import ProtectedResource, discover
from scripts.drill.keys import inspect_key, restore_key_alias
from scripts.drill.model import (
    SPA_TAG_KEY,
    CleanupAction,
    DrillRecord,
    DrillTargets,
    ResourceKind,
    ResourceResult,
    error_code,
    new_drill_id,
)
from scripts.errors import BadInput

SCHEDULED_TESTS_LOOKBACK = timedelta(days=92)  # one quarter of scheduled restore tests


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class DrillOptions:
    """What to drill: the spa, its config, where to restore from, which kinds, and the limits."""

    spa: str
    config: SpaConfig
    from_dr_region: bool = False
    kinds: frozenset[ResourceKind] = field(default_factory=lambda: frozenset(ResourceKind))
    timeout_seconds: float = 3600
    poll_seconds: float = 30
    emulator: bool = False


def _check_options(options: DrillOptions) -> None:
    if options.spa != options.config.spa:
        raise BadInput(f"spa {options.spa!r} does not match the stack's spa {options.config.spa!r}")
    if not options.kinds:
        raise BadInput("nothing to drill: choose --resource database or bucket, or neither for both")
    if options.timeout_seconds <= 0 or options.poll_seconds < 0:
        raise BadInput("the drill timeout must be positive and the poll interval not negative")


def _aws_fault(error: BaseException) -> str:
    if isinstance(error, ClientError):
        operation = getattr(error, "operation_name", "") or "AWS"
        return f"{operation}: AWS error {error_code(error)}"
    return f"AWS: {type(error).__name__}"


def run_drill(
    options: DrillOptions,
    session: Any,
    *,
    validate: Validator | None = None,
    clock: Callable[[], datetime] = utc_now,
    on_progress: Callable[[str], None] = lambda _msg: None,
    sleep: Callable[[float], None] = time.sleep,
) -> DrillRecord:
    """Run one drill and return its record; PASS only if every resource restored, verified and met the targets."""
    _check_options(options)
    config = options.config
    started = clock()
    drill_id = new_drill_id(started)
    region = config.dr_region if options.from_dr_region else config.region
    record = DrillRecord(
        drill_id=drill_id,
        spa=config.spa,
        operator_arn="",
        account_id="",
        started_at=started,
        finished_at=None,
        regions=list(dict.fromkeys([config.region, region])),
        from_dr_region=options.from_dr_region,
        emulator=options.emulator,
        targets=DrillTargets(rto_minutes=config.rto_target_minutes, rpo_hours=config.rpo_target_hours),
    )
    workspace = Workspace(drill_id=drill_id, spa=config.spa)
    on_progress(f"drill {drill_id} of {config.spa} in {region}")
    interrupt: KeyboardInterrupt | None = None
    try:
        _run(options, session, record, workspace, region, validate, clock, sleep, on_progress)
    except KeyboardInterrupt as exc:
        interrupt = exc
        record.reasons.append("interrupted (Ctrl-C) before the drill finished")
    finally:
        on_progress("cleanup: removing everything tagged with this drill id")
        try:
            record.cleanup.extend(
                teardown_workspace(
                    session,
                    workspace,
                    record.regions,
                    timeout_seconds=options.timeout_seconds,
                    poll_seconds=options.poll_seconds,
                    on_progress=on_progress,
                )
            )
        except KeyboardInterrupt as exc:
            interrupt = interrupt or exc
            record.reasons.append(
                f"cleanup interrupted: run `medspa drill {config.spa} --cleanup` to remove the leftovers"
            )
        record.finished_at = clock()
    if interrupt is not None:
        interrupt.drill_record = record  # type: ignore[attr-defined]
        raise interrupt
    return record


def _run(
    options: DrillOptions,
    session: Any,
    record: DrillRecord,
    workspace: Workspace,
    region: str,
    validate: Validator | None,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    on_progress: Callable[[str], None],
) -> None:
    config = options.config
    try:
        identity = session.client("sts", region_name=config.region).get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        record.reasons.append(f"cannot identify the operator ({_aws_fault(error)})")
        return
    record.operator_arn, record.account_id = str(identity["Arn"]), str(identity["Account"])

    # Refuse to start with an unusable key: no restore could be encrypted or decrypted with it.
    alias = restore_key_alias(config.spa, dr=options.from_dr_region)
    try:
        key = inspect_key(session.client("kms", region_name=region), alias)
    except BotoCoreError as error:
        record.reasons.append(f"refused to start: restore key {alias} cannot be read ({_aws_fault(error)})")
        return
    if not key.usable or key.arn is None:
        record.reasons.append(f"refused to start: {key.problem}")
        return

    try:
        sources = discover(session, config.region, config.spa, options.kinds)
    except (ClientError, BotoCoreError) as error:
        record.reasons.append(f"cannot find the protected resources by tags ({_aws_fault(error)})")
        return
    if not sources:
        record.reasons.append(
            f"no protected resources found tagged {SPA_TAG_KEY}={config.spa} and "
            f"{BACKUP_TAG_KEY}={BACKUP_TAG_VALUE} in {config.region}"
        )
        return

    env = DrillEnv(
        session=session,
        workspace=workspace,
        config=config,
        region=region,
        source_region=config.region,
        from_dr_region=options.from_dr_region,
        expected_key_arn=key.arn,
        account_id=record.account_id,
        started_at=record.started_at,
        timeout_seconds=options.timeout_seconds,
        poll_seconds=options.poll_seconds,
        clock=clock,
        sleep=sleep,
        on_progress=on_progress,
        emulator=options.emulator,
    )
    for source in sources:
        result = ResourceResult(kind=source.kind, source=source.arn, region=region)
        record.resources.append(result)
        _drill_one(env, source, result, validate)
        _measure(result, record)
    record.scheduled_tests.extend(
        _scheduled_tests(session, config.region, config.spa, record.started_at, on_progress)
    )


def _drill_one(
    env: DrillEnv, source: ProtectedResource, result: ResourceResult, validate: Validator | None
) -> None:
    try:
        if source.kind is ResourceKind.DATABASE:
            drill_database(env, source, result, validate=validate)
        else:
            drill_bucket(env, source, result)
    except (ClientError, BotoCoreError) as error:
        result.reasons.append(f"drill step failed ({_aws_fault(error)})")


def _measure(result: ResourceResult, record: DrillRecord) -> None:
    """RTO: restore started until validated. RPO: drill time minus recovery point time. Both vs targets."""
    if result.recovery_point_time is not None:
        result.rpo_seconds = max(0.0, (record.started_at - result.recovery_point_time).total_seconds())
        limit = record.targets.rpo_hours * 3600
        if result.rpo_seconds > limit:
            result.reasons.append(
                f"RPO {result.rpo_seconds / 3600:.1f} h exceeds the {record.targets.rpo_hours} h target: "
                "no recovery point within the RPO target"
            )
    if result.restore_started is not None and result.validated_at is not None:
        result.rto_seconds = max(0.0, (result.validated_at - result.restore_started).total_seconds())
        if result.rto_seconds > record.targets.rto_minutes * 60:
            result.reasons.append(
                f"RTO {result.rto_seconds / 60:.1f} min exceeds the {record.targets.rto_minutes} min target"
            )


def _scheduled_tests(
    session: Any, region: str, spa: str, started: datetime, on_progress: Callable[[str], None]
) -> list[Any]:
    """Results of the scheduled restore testing plan, as extra evidence; unreadable means none."""
    try:
        return list(
            backup_jobs.scheduled_restore_tests(
                session.client("backup", region_name=region), spa, since=started - SCHEDULED_TESTS_LOOKBACK
            )
        )
    except (ClientError, BotoCoreError) as error:
        on_progress(f"scheduled restore tests not readable ({_aws_fault(error)})")
        return []


def cleanup_leftovers(
    spa: str,
    session: Any,
    *,
    on_progress: Callable[[str], None] = lambda _msg: None,
    regions: list[str] | None = None,
    timeout_seconds: float = 3600,
    poll_seconds: float = 30,
) -> list[CleanupAction]:
    """Remove everything tagged with a drill id of ``spa`` in the primary and DR regions (a killed drill).

    Resources without the drill tag are never touched (the guard in scripts/drill/cleanup.py).
    """
    if regions is None:
        regions = _stack_regions(spa, session)
    actions: list[CleanupAction] = []
    items = []
    for region in dict.fromkeys(regions):
        on_progress(f"cleanup: looking for drill resources of {spa} in {region}")
        try:
            items.extend(find_drill_resources(session, region, spa))
        except (ClientError, BotoCoreError) as error:
            actions.append(CleanupAction(f"tag search in {region}", "find", False, _aws_fault(error)))
    actions.extend(
        teardown(
            session,
            items,
            spa=spa,
            drill_id=None,
            timeout_seconds=timeout_seconds,
            poll_seconds=poll_seconds,
            on_progress=on_progress,
        )
    )
    return actions


def _stack_regions(spa: str, session: Any) -> list[str]:
    """The stack's primary and DR regions; the session's region alone when the stack file is absent."""
    from infra.config import ConfigError, load_stack
    from scripts import paths

    try:
        config = load_stack(paths.stacks_dir(), spa)
    except ConfigError:
        return [str(session.region_name)]
    return [config.region, config.dr_region]
