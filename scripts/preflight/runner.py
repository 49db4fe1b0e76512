"""Run every preflight check against one account; one check's failure never stops the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ProfileNotFound

from infra.config import SpaConfig
from scripts.errors import BadInput
from scripts.preflight import account, baa, backend, identity, quotas, singletons
from scripts.preflight.errors import unexpected
from scripts.preflight.model import Check, CheckResult, PreflightContext, PreflightReport, QuotaNeeds, Status

CHECKS: tuple[Check, ...] = (
    Check(
        "Regions",
        identity.check_regions,
        "AWS console > account menu > Account > AWS Regions: both regions Enabled",
        "164.308(a)(7)(ii)(B)",
    ),
    Check(baa.ITEM, baa.check_baa, baa.BY_HAND, baa.HIPAA),
    Check(
        singletons.CONFIG_ITEM,
        singletons.check_config_recorder,
        "`aws configservice describe-configuration-recorders` in the primary region",
        "164.312(b)",
    ),
    Check(
        singletons.GUARDDUTY_ITEM,
        singletons.check_guard_duty,
        "`aws guardduty list-detectors` in the primary region",
        "164.308(a)(6)(ii)",
    ),
    Check(
        singletons.SECURITY_HUB_ITEM,
        singletons.check_security_hub,
        "`aws securityhub describe-hub` in the primary region",
        "164.308(a)(1)(ii)(D)",
    ),
    Check(
        singletons.TRAIL_ITEM,
        singletons.check_trails,
        "`aws cloudtrail describe-trails --include-shadow-trails`",
        "164.312(b)",
    ),
    Check(
        account.DEFAULT_VPC_ITEM,
        account.check_default_vpcs,
        "`aws ec2 describe-vpcs --filters Name=isDefault,Values=true` in both regions",
        "164.312(e)(1)",
    ),
    Check(
        account.PUBLIC_ACCESS_ITEM,
        account.check_account_public_access,
        "S3 console > Block Public Access settings for this account: all four on",
        "164.312(a)(1)",
    ),
    Check(
        account.EBS_ITEM,
        account.check_ebs_encryption,
        "EC2 console > Settings > EBS encryption in the primary region",
        "164.312(a)(2)(iv)",
    ),
    Check(
        account.ROOT_KEYS_ITEM,
        account.check_root_keys,
        "IAM console > Dashboard: root user has no access keys",
        "164.312(a)(2)(i)",
    ),
    Check(
        account.ROOT_MFA_ITEM,
        account.check_root_mfa,
        "IAM console > Dashboard: root user has MFA",
        "164.312(d)",
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
    needs: Callable[[], QuotaNeeds] | None = None,
    clients: dict[tuple[str, str], Any] | None = None,
    checks: tuple[Check, ...] = CHECKS,
) -> PreflightReport:
    """Credentials first: without them every other call would fail the same way, so they are not run."""
    ctx = PreflightContext(
        config=config,
        session=session,
        backend_url=backend_url,
        backend_source=backend_source,
        needs=needs,
        clients=dict(clients or {}),
    )
    results = identity.check_credentials(ctx)
    if ctx.account_id:
        results.extend(run_checks(ctx, checks))
    else:
        results.append(
            CheckResult(
                "Other checks", Status.WARN, "not run: no working credentials", "fix the credentials first"
            )
        )
    return PreflightReport(
        spa=config.spa, account_id=ctx.account_id, caller_arn=ctx.caller_arn, results=results
    )
