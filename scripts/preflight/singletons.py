"""Region singletons the stack creates (one per account and region): find existing ones first.

A second Config recorder, GuardDuty detector or Security Hub subscription cannot be created, so
`pulumi up` would fail halfway; the stack's adopt flags use the existing one instead, and the
contractor then verifies by hand what the stack would otherwise have guaranteed.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from scripts.preflight.errors import error_code
from scripts.preflight.model import CheckResult, PreflightContext, Status

CONFIG_ITEM = "AWS Config recorder"
GUARDDUTY_ITEM = "GuardDuty detector"
SECURITY_HUB_ITEM = "Security Hub"
TRAIL_ITEM = "Multi-region CloudTrail trail"
CONFIG_HIPAA = "164.312(b)"
GUARDDUTY_HIPAA = "164.308(a)(6)(ii)"
SECURITY_HUB_HIPAA = "164.308(a)(1)(ii)(D)"
TRAIL_HIPAA = "164.312(b)"
TRAILS_PER_REGION = 5  # CloudTrail's limit per region, not adjustable


def _collision(
    item: str, found: str, key: str, ctx: PreflightContext, verify: str, hipaa: str
) -> CheckResult:
    return CheckResult(
        item,
        Status.FAIL,
        f"{found} already exists in {ctx.config.region}; AWS allows one, so the stack cannot create its own",
        f"adopt it: set `medspa:{key}: true` in {ctx.stack_file}, then verify by hand that {verify}",
        hipaa,
    )


def _adopted_but_missing(item: str, key: str, ctx: PreflightContext, hipaa: str) -> CheckResult:
    return CheckResult(
        item,
        Status.FAIL,
        f"medspa:{key} is true but there is none in {ctx.config.region}: nothing would take its place",
        f"remove `medspa:{key}` from {ctx.stack_file} so the stack creates one",
        hipaa,
    )


def check_config_recorder(ctx: PreflightContext) -> list[CheckResult]:
    """Configuration history of every resource is an audit control (164.312(b))."""
    hipaa = CONFIG_HIPAA
    key = "adoptExistingConfigRecorder"
    client = ctx.client("config")
    recorders = client.describe_configuration_recorders().get("ConfigurationRecorders", [])
    adopt = ctx.config.adopt_existing_config_recorder
    if not recorders:
        if adopt:
            return [_adopted_but_missing(CONFIG_ITEM, key, ctx, hipaa)]
        return [CheckResult(CONFIG_ITEM, Status.OK, "none yet; the stack creates one", hipaa=hipaa)]
    recorder = recorders[0]
    name = str(recorder.get("name", "default"))
    verify = "it records all resource types including global ones, is recording, and delivers to a bucket kept 6 years"
    if not adopt:
        return [_collision(CONFIG_ITEM, f"recorder {name!r}", key, ctx, verify, hipaa)]
    group = recorder.get("recordingGroup", {})
    statuses = client.describe_configuration_recorder_status(ConfigurationRecorderNames=[name]).get(
        "ConfigurationRecordersStatus", []
    )
    recording = bool(statuses and statuses[0].get("recording"))
    gaps = []
    if not group.get("allSupported", False):
        gaps.append("it does not record all resource types")
    elif not group.get("includeGlobalResourceTypes", False):
        gaps.append("it does not record global types (IAM)")
    if not recording:
        gaps.append("it is not recording")
    if gaps:
        return [
            CheckResult(
                CONFIG_ITEM,
                Status.WARN,
                f"adopting recorder {name!r}, but " + " and ".join(gaps),
                f"fix the recorder: `aws configservice put-configuration-recorder` with allSupported and "
                f"includeGlobalResourceTypes, then `aws configservice start-configuration-recorder "
                f"--configuration-recorder-name {name}`",
                hipaa,
            )
        ]
    return [
        CheckResult(CONFIG_ITEM, Status.OK, f"adopting recorder {name!r}; it records everything", hipaa=hipaa)
    ]


def check_guard_duty(ctx: PreflightContext) -> list[CheckResult]:
    """Threat detection feeds the security incident procedures (164.308(a)(6)(ii))."""
    hipaa = GUARDDUTY_HIPAA
    key = "adoptExistingGuardDuty"
    client = ctx.client("guardduty")
    detectors = client.list_detectors().get("DetectorIds", [])
    adopt = ctx.config.adopt_existing_guard_duty
    if not detectors:
        if adopt:
            return [_adopted_but_missing(GUARDDUTY_ITEM, key, ctx, hipaa)]
        return [CheckResult(GUARDDUTY_ITEM, Status.OK, "none yet; the stack creates one", hipaa=hipaa)]
    detector_id = str(detectors[0])
    verify = "it is enabled with S3, RDS and runtime protection on, and its findings reach the alerts"
    if not adopt:
        return [_collision(GUARDDUTY_ITEM, f"detector {detector_id}", key, ctx, verify, hipaa)]
    status = str(client.get_detector(DetectorId=detector_id).get("Status", ""))
    if status != "ENABLED":
        return [
            CheckResult(
                GUARDDUTY_ITEM,
                Status.WARN,
                f"adopting detector {detector_id}, but it is {status or 'not enabled'}",
                f"enable it: `aws guardduty update-detector --detector-id {detector_id} --enable`",
                hipaa,
            )
        ]
    return [CheckResult(GUARDDUTY_ITEM, Status.OK, f"adopting detector {detector_id} (enabled)", hipaa=hipaa)]


def check_security_hub(ctx: PreflightContext) -> list[CheckResult]:
    """Security Hub runs the standards that review activity continuously (164.308(a)(1)(ii)(D))."""
    hipaa = SECURITY_HUB_HIPAA
    key = "adoptExistingSecurityHub"
    adopt = ctx.config.adopt_existing_security_hub
    try:
        hub = ctx.client("securityhub").describe_hub()
    except ClientError as error:
        if error_code(error) != "InvalidAccessException":  # "not subscribed": there is no hub
            raise
        if adopt:
            return [_adopted_but_missing(SECURITY_HUB_ITEM, key, ctx, hipaa)]
        return [
            CheckResult(SECURITY_HUB_ITEM, Status.OK, "not enabled yet; the stack enables it", hipaa=hipaa)
        ]
    verify = "its findings are reviewed; the stack still subscribes it to the standards it needs"
    if not adopt:
        return [_collision(SECURITY_HUB_ITEM, "a Security Hub subscription", key, ctx, verify, hipaa)]
    return [
        CheckResult(
            SECURITY_HUB_ITEM, Status.OK, f"adopting {hub.get('HubArn', 'the existing hub')}", hipaa=hipaa
        )
    ]


def check_trails(ctx: PreflightContext) -> list[CheckResult]:
    """The stack creates its own multi-region trail into the 6-year log archive (164.312(b))."""
    hipaa = TRAIL_HIPAA
    trails = ctx.client("cloudtrail").describe_trails(includeShadowTrails=True).get("trailList", [])
    here = [t for t in trails if t.get("HomeRegion") == ctx.config.region]
    if len(here) >= TRAILS_PER_REGION:
        return [
            CheckResult(
                TRAIL_ITEM,
                Status.FAIL,
                f"{len(here)} trails already in {ctx.config.region}; CloudTrail allows {TRAILS_PER_REGION}",
                "delete a trail nothing relies on, so the stack can create its own",
                hipaa,
            )
        ]
    multi = [t for t in trails if t.get("IsMultiRegionTrail")]
    if not multi:
        return [CheckResult(TRAIL_ITEM, Status.OK, "none yet; the stack creates one", hipaa=hipaa)]
    names = ", ".join(sorted(f"{t.get('Name')} ({t.get('HomeRegion')})" for t in multi))
    return [
        CheckResult(
            TRAIL_ITEM,
            Status.WARN,
            f"already recording management events: {names}; the stack adds its own trail to the "
            "spa's log archive, and a second copy of management events is billed",
            "keep the existing trail if another team relies on it; otherwise delete it once the "
            "stack's trail delivers (`aws cloudtrail delete-trail --name NAME`)",
            hipaa,
        )
    ]
