"""Run every preflight check against one account; one check's failure never stops the others."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ProfileNotFound

from infra.config import SpaConfig
from scripts.errors import BadInput
from scripts.preflight import account, baa, backend, identity, quotas, singletons
from scripts.preflight.errors import unexpected
from scripts.preflight.model import Check, CheckResult, PreflightContext, PreflightReport, Status

CHECKS: tuple[Check, ...] = (
    Check(
        "Regions",
        identity.check_regions,
        "AWS console > account menu > Account > AWS Regions: both regions Enabled",
        identity.REGIONS_HIPAA,
    ),
    Check(baa.ITEM, baa.check_baa, baa.BY_HAND, baa.HIPAA),
    Check(
        singletons.CONFIG_ITEM,
        singletons.check_config_recorder,
        "`aws configservice describe-configuration-recorders` in the primary region",
        singletons.CONFIG_HIPAA,
    ),
    Check(
        singletons.GUARDDUTY_ITEM,
        singletons.check_guard_duty,
        "`aws guardduty list-detectors` in the primary region",
        singletons.GUARDDUTY_HIPAA,
    ),
    Check(
        singletons.SECURITY_HUB_ITEM,
        singletons.check_security_hub,
        "`aws securityhub describe-hub` in the primary region",
        singletons.SECURITY_HUB_HIPAA,
    ),
    Check(
        singletons.TRAIL_ITEM,
        singletons.check_trails,
        "`aws cloudtrail describe-trails --include-shadow-trails`",
        singletons.TRAIL_HIPAA,
    ),
    Check(
        account.DEFAULT_VPC_ITEM,
        account.check_default_vpcs,
        "`aws ec2 describe-vpcs --filters Name=isDefault,Values=true` in both regions",
        account.DEFAULT_VPC_HIPAA,
    ),
    Check(
        account.PUBLIC_ACCESS_ITEM,
        account.check_account_public_access,
        "S3 console > Block Public Access settings for this account: all four on",
        account.PUBLIC_ACCESS_HIPAA,
    ),
    Check(
        account.EBS_ITEM,
        account.check_ebs_encryption,
        "EC2 console > Settings > EBS encryption in the primary region",
        account.EBS_HIPAA,
    ),
    Check(
        account.ROOT_KEYS_ITEM,
        account.check_root_keys,
        "IAM console > Dashboard: root user has no access keys",
        account.ROOT_KEYS_HIPAA,
    ),
    Check(
        account.ROOT_MFA_ITEM,
        account.check_root_mfa,
        "IAM console > Dashboard: root user has MFA",
        account.ROOT_MFA_HIPAA,
    ),
    Check(
        "Service quotas",
        quotas.check_quotas,
        "Service Quotas console: VPCs per Region, EC2-VPC Elastic IPs, Interface VPC endpoints per VPC",
    ),
    Check(
        backend.ITEM,
        backend.check_backend,
        "S3 console > the state bucket: Block all public access on, versioning on, SSE-KMS",
    ),
)


def make_session(config: SpaConfig, profile: str | None = None) -> Any:
    """One boto3 session for every client: the profile (or the default chain) and the stack's region."""
    try:
        return boto3.session.Session(profile_name=profile, region_name=config.region)
    except ProfileNotFound:
        raise BadInput(f"--profile {profile}: no such AWS profile in the AWS config files") from None


def run_checks(ctx: PreflightContext, checks: tuple[Check, ...] = CHECKS) -> list[CheckResult]:
    """Each check in turn; anything it raises becomes one WARN line for its item."""
    results: list[CheckResult] = []
    for check in checks:
        try:
            results.extend(check.run(ctx))
        except Exception as error:  # one check's surprise must not hide the others' results
            results.append(unexpected(check, error))
    return results


def run_preflight(
    config: SpaConfig,
    session: Any,
    *,
    backend_url: str | None = None,
    backend_source: str = "",
) -> PreflightReport:
    """Credentials first: without them every other call would fail the same way, so they are not run."""
    ctx = PreflightContext(
        config=config, session=session, backend_url=backend_url, backend_source=backend_source
    )
    results = identity.check_credentials(ctx)
    if ctx.account_id:
        results.extend(run_checks(ctx))
    else:
        results.append(
            CheckResult(
                "Other checks", Status.WARN, "not run: no working credentials", "fix the credentials first"
            )
        )
    return PreflightReport(
        spa=config.spa, account_id=ctx.account_id, caller_arn=ctx.caller_arn, results=results
    )
