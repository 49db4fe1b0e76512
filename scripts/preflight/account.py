"""Account-wide settings: default VPCs, the S3 public access block, EBS encryption, the root user."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from botocore.exceptions import ClientError

from scripts.preflight.errors import error_code
from scripts.preflight.model import CheckResult, PreflightContext, Status

DEFAULT_VPC_ITEM = "Default VPC"
PUBLIC_ACCESS_ITEM = "S3 account public access block"
EBS_ITEM = "EBS encryption by default"
ROOT_KEYS_ITEM = "Root user access keys"
ROOT_MFA_ITEM = "Root user MFA"
DEFAULT_VPC_HIPAA = "164.312(e)(1)"
PUBLIC_ACCESS_HIPAA = "164.312(a)(1)"
EBS_HIPAA = "164.312(a)(2)(iv)"
ROOT_KEYS_HIPAA = "164.312(a)(2)(i)"
ROOT_MFA_HIPAA = "164.312(d)"
PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def _removal_commands(ec2: Any, vpc_id: str, region: str) -> str:
    """The exact commands that remove one default VPC (its gateway and subnets go first)."""
    gateways = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    steps: list[str] = []
    for gateway in gateways.get("InternetGateways", []):
        igw = gateway["InternetGatewayId"]
        steps.append(
            f"aws ec2 detach-internet-gateway --region {region} --internet-gateway-id {igw} --vpc-id {vpc_id}"
        )
        steps.append(f"aws ec2 delete-internet-gateway --region {region} --internet-gateway-id {igw}")
    for subnet in subnets.get("Subnets", []):
        steps.append(f"aws ec2 delete-subnet --region {region} --subnet-id {subnet['SubnetId']}")
    steps.append(f"aws ec2 delete-vpc --region {region} --vpc-id {vpc_id}")
    return "; ".join(steps)


def check_default_vpcs(ctx: PreflightContext) -> list[CheckResult]:
    """A default VPC has public subnets that give instances public addresses: a path around the design."""
    results: list[CheckResult] = []
    for region in dict.fromkeys((ctx.config.region, ctx.config.dr_region)):
        ec2 = ctx.client("ec2", region)
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}]).get("Vpcs", [])
        for vpc in vpcs:
            vpc_id = str(vpc["VpcId"])
            results.append(
                CheckResult(
                    f"{DEFAULT_VPC_ITEM} ({region})",
                    Status.WARN,
                    f"{vpc_id} exists: public subnets that hand out public addresses, outside the spa's network",
                    "remove it if nothing runs in it (check `aws ec2 describe-network-interfaces --region "
                    f"{region} --filters Name=vpc-id,Values={vpc_id}` is empty): "
                    + _removal_commands(ec2, vpc_id, region),
                    DEFAULT_VPC_HIPAA,
                )
            )
    if not results:
        results.append(
            CheckResult(DEFAULT_VPC_ITEM, Status.OK, "none in the spa's regions", hipaa=DEFAULT_VPC_HIPAA)
        )
    return results


def _strip_account_host(account_id: str) -> Any:
    """S3 Control puts the account id in front of the host; an emulator or proxy endpoint has no such host."""

    def handler(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        prefix = f"{account_id}."
        if parts.netloc.startswith(prefix):
            request.url = urlunsplit(parts._replace(netloc=parts.netloc[len(prefix) :]))

    return handler


def s3control(ctx: PreflightContext) -> Any:
    client = ctx.client("s3control")
    host = urlsplit(str(client.meta.endpoint_url)).hostname or ""
    key = ("s3control-host-fix", ctx.config.region)
    if not host.endswith(AWS_HOST_SUFFIXES) and key not in ctx.clients:
        client.meta.events.register("before-sign.s3-control", _strip_account_host(ctx.account_id))
        ctx.clients[key] = True
    return client


def account_public_access_block(ctx: PreflightContext) -> dict[str, Any]:
    """s3control GetPublicAccessBlock for the account, read once per run (this check and the backend's)."""
    return dict(
        ctx.remember(
            "account-public-access-block",
            lambda: s3control(ctx).get_public_access_block(AccountId=ctx.account_id),
        )
    )


def flags_off(config: object) -> list[str]:
    """The public access block flags that are not on (all four when there is no block)."""
    flags = config if isinstance(config, dict) else {}
    return [flag for flag in PUBLIC_ACCESS_FLAGS if not flags.get(flag)]


def check_account_public_access(ctx: PreflightContext) -> list[CheckResult]:
    """All four account-wide flags keep every bucket private, present or future (164.312(a)(1))."""
    try:
        config = account_public_access_block(ctx)["PublicAccessBlockConfiguration"]
    except ClientError as error:
        if error_code(error) != "NoSuchPublicAccessBlockConfiguration":
            raise
        config = {}
    off = flags_off(config)
    if not off:
        return [
            CheckResult(PUBLIC_ACCESS_ITEM, Status.OK, "all four flags are on", hipaa=PUBLIC_ACCESS_HIPAA)
        ]
    return [
        CheckResult(
            PUBLIC_ACCESS_ITEM,
            Status.WARN,
            f"off: {', '.join(off)}; the stack turns all four on for the whole account",
            "before `medspa up`, find any bucket that is public on purpose (it will stop being public): "
            "`aws s3api list-buckets`, then `aws s3api get-bucket-policy-status --bucket NAME` for each",
            PUBLIC_ACCESS_HIPAA,
        )
    ]


def check_ebs_encryption(ctx: PreflightContext) -> list[CheckResult]:
    """New EBS volumes and snapshots encrypted at rest (164.312(a)(2)(iv))."""
    enabled = bool(ctx.client("ec2").get_ebs_encryption_by_default().get("EbsEncryptionByDefault"))
    if enabled:
        return [CheckResult(EBS_ITEM, Status.OK, f"on in {ctx.config.region}", hipaa=EBS_HIPAA)]
    return [
        CheckResult(
            EBS_ITEM,
            Status.WARN,
            f"off in {ctx.config.region}; the stack turns it on with the spa's data key",
            "nothing to do before `medspa up`; volumes created before it stay unencrypted, so "
            "list them: `aws ec2 describe-volumes --filters Name=encrypted,Values=false`",
            EBS_HIPAA,
        )
    ]


def _summary(ctx: PreflightContext) -> dict[str, Any]:
    """IAM GetAccountSummary, read once for both root checks."""
    return dict(
        ctx.remember(
            "iam-account-summary", lambda: ctx.client("iam").get_account_summary().get("SummaryMap", {})
        )
    )


def check_root_keys(ctx: PreflightContext) -> list[CheckResult]:
    """Root access keys are unscoped, unattributable credentials (164.312(a)(1), 164.312(a)(2)(i))."""
    if int(_summary(ctx).get("AccountAccessKeysPresent", 0)):
        return [
            CheckResult(
                ROOT_KEYS_ITEM,
                Status.FAIL,
                "the root user has access keys",
                "sign in as root: account menu > Security credentials > Access keys > Deactivate, then Delete",
                ROOT_KEYS_HIPAA,
            )
        ]
    return [CheckResult(ROOT_KEYS_ITEM, Status.OK, "none", hipaa=ROOT_KEYS_HIPAA)]


def check_root_mfa(ctx: PreflightContext) -> list[CheckResult]:
    """The root user must prove who it is with a second factor (164.312(d))."""
    if int(_summary(ctx).get("AccountMFAEnabled", 0)):
        return [CheckResult(ROOT_MFA_ITEM, Status.OK, "enabled", hipaa=ROOT_MFA_HIPAA)]
    return [
        CheckResult(
            ROOT_MFA_ITEM,
            Status.FAIL,
            "the root user has no MFA device",
            "sign in as root: account menu > Security credentials > Multi-factor authentication > Assign MFA "
            "device (a hardware key or passkey is best)",
            ROOT_MFA_HIPAA,
        )
    ]
