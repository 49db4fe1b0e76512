"""Who is calling, in which account, and whether the spa's regions are enabled for it."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
    SSOError,
    TokenRetrievalError,
)

from scripts.preflight.errors import error_code
from scripts.preflight.model import CheckResult, PreflightContext, Status

CREDENTIALS = "Credentials"
CALLER = "Caller identity"
CALLER_HIPAA = "164.312(a)(2)(i)"
REGIONS_HIPAA = "164.308(a)(7)(ii)(B)"  # the DR region's; the primary region's lines carry none
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
INVALID_CODES = frozenset(
    {"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "AuthFailure"}
)
ENABLED_OPT_STATUS = frozenset({"ENABLED", "ENABLED_BY_DEFAULT"})
ENABLED_OPT_IN = frozenset({"opt-in-not-required", "opted-in"})
SIGN_IN = "sign in (`aws sso login --profile NAME`) and run again with `--profile NAME`, or set AWS_PROFILE"


def _credentials_failure(error: Exception) -> CheckResult:
    code = error_code(error)
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return CheckResult(CREDENTIALS, Status.FAIL, "no usable AWS credentials were found", SIGN_IN)
    if isinstance(error, TokenRetrievalError | SSOError) or code in EXPIRED_CODES:
        return CheckResult(CREDENTIALS, Status.FAIL, f"the credentials have expired ({code})", SIGN_IN)
    if isinstance(error, CredentialRetrievalError):
        return CheckResult(
            CREDENTIALS, Status.FAIL, f"the profile's credentials could not be obtained ({code})", SIGN_IN
        )
    if code in INVALID_CODES:
        return CheckResult(
            CREDENTIALS, Status.FAIL, f"AWS does not accept these credentials ({code})", SIGN_IN
        )
    if isinstance(error, ClientError):
        return CheckResult(
            CREDENTIALS,
            Status.FAIL,
            f"sts:GetCallerIdentity was refused ({code})",
            "use a role that may call sts:GetCallerIdentity (an SCP may deny it); " + SIGN_IN,
        )
    if not isinstance(error, ConnectionError):
        return CheckResult(CREDENTIALS, Status.FAIL, f"the credentials could not be used ({code})", SIGN_IN)
    return CheckResult(
        CREDENTIALS,
        Status.FAIL,
        f"cannot reach AWS STS ({code})",
        "check the network, proxy and AWS_ENDPOINT_URL settings, then run again",
    )


def check_credentials(ctx: PreflightContext) -> list[CheckResult]:
    """sts:GetCallerIdentity: the one call every principal may make; it fixes the account id."""
    try:
        identity = ctx.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        return [_credentials_failure(error)]
    ctx.account_id = str(identity["Account"])
    ctx.caller_arn = str(identity["Arn"])
    results = [CheckResult(CREDENTIALS, Status.OK, f"account {ctx.account_id}")]
    if ctx.caller_arn.endswith(":root"):
        results.append(
            CheckResult(
                CALLER,
                Status.WARN,
                "signed in as the account's root user, which no one can be held to individually",
                "use an IAM Identity Center user or an IAM role for setup and daily work; keep root "
                "for the few tasks that need it",
                CALLER_HIPAA,
            )
        )
    else:
        results.append(CheckResult(CALLER, Status.OK, ctx.caller_arn, hipaa=CALLER_HIPAA))
    return results


def _opt_status(ctx: PreflightContext, region: str) -> tuple[bool | None, str]:
    """(enabled, status): account:GetRegionOptStatus, else ec2:DescribeRegions(AllRegions)."""
    try:
        status = str(ctx.client("account").get_region_opt_status(RegionName=region)["RegionOptStatus"])
        enabling = status == "ENABLING"
        return (None if enabling else status in ENABLED_OPT_STATUS), status
    except (ClientError, BotoCoreError, NotImplementedError):
        pass  # not allowed or not offered here: EC2 answers the same question
    regions = ctx.client("ec2").describe_regions(AllRegions=True, RegionNames=[region])["Regions"]
    status = str(regions[0].get("OptInStatus", "")) if regions else "unknown"
    return status in ENABLED_OPT_IN, status


def check_regions(ctx: PreflightContext) -> list[CheckResult]:
    """Both the primary and the DR region must be enabled; opt-in regions start disabled."""
    results: list[CheckResult] = []
    roles = ((ctx.config.region, "primary", ""), (ctx.config.dr_region, "DR", REGIONS_HIPAA))
    for region, role, section in roles:
        item = f"Region {region} ({role})"
        enabled, status = _opt_status(ctx, region)
        if enabled:
            results.append(CheckResult(item, Status.OK, f"enabled ({status})", hipaa=section))
        elif enabled is None:
            results.append(
                CheckResult(item, Status.WARN, "being enabled", "wait until it is enabled", section)
            )
        else:
            results.append(
                CheckResult(
                    item,
                    Status.FAIL,
                    f"not enabled for this account ({status})",
                    f"enable it: `aws account enable-region --region-name {region}`, then wait for "
                    f"`aws account get-region-opt-status --region-name {region}` to say ENABLED",
                    section,
                )
            )
    return results
