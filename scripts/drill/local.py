"""``medspa drill SPA --local``: the same drill against an embedded AWS emulator (moto) on 127.0.0.1.

It seeds the emulator with the spa's environment as the stack deploys it (data key and alias, VPC with
two isolated subnets, DB subnet group, encrypted database with a snapshot, versioned SSE-KMS PHI
buckets holding a few synthetic, obviously fake objects), runs the real drill code and writes the
same evidence, marked as emulator evidence whose timings mean nothing. No request leaves 127.0.0.1:
the process's AWS endpoint and credentials point at the emulator until the drill ends.
"""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scripts.errors import BadInput

if TYPE_CHECKING:
    import boto3

    from infra.config import SpaConfig
    from scripts.drill.model import DrillRecord, ResourceKind

LOOPBACK = "127.0.0.1"
FAKE_CREDENTIAL = "medspa-local-emulator"
POLL_SECONDS = 1.0
SEED_SNAPSHOT_SUFFIX = "local-seed"

# Synthetic objects only: never realistic PHI, even in a demo.
SYNTHETIC_OBJECTS: dict[str, bytes] = {
    "synthetic/README.txt": b"SYNTHETIC DEMO DATA written by `medspa drill --local`. Not a patient record.\n",
    "synthetic/DEMO-0001/intake-form.txt": b"FAKE intake form for test client DEMO-0001. No real person.\n",
    "synthetic/DEMO-0002/consent.txt": b"FAKE consent record for test client DEMO-0002. No real person.\n",
}
SYNTHETIC_UPDATE = ("synthetic/DEMO-0001/intake-form.txt", b"FAKE intake form DEMO-0001, revision 2.\n")

# Variables that could send a request anywhere but the emulator, or read a real profile's credentials.
_CLEARED_PREFIXES = ("AWS_ENDPOINT_URL_",)
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


@dataclass(frozen=True)
class SeededEnvironment:
    """What the emulator holds after seeding; the drill finds it by tags, not from this object."""

    endpoint: str
    account_id: str
    data_key_arn: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    db_identifier: str
    snapshot_id: str
    buckets: tuple[str, ...]


@contextmanager
def scoped_environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) environment variables for the block, then restore every one."""
    saved = dict(os.environ)
    try:
        for key in [k for k in os.environ if k.startswith(_CLEARED_PREFIXES) or k in _CLEARED]:
            del os.environ[key]
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def emulator(region: str) -> Iterator[str]:
    """Start moto's server on a free loopback port with fresh state; yield its endpoint; stop it."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise BadInput(
            "--local needs the AWS emulator moto: install the dev extras (pip install -e '.[dev]')"
        ) from None
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on the operator's terminal
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        _reset(endpoint)  # moto's state is per process: start every demo from an empty account
        with scoped_environment(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": FAKE_CREDENTIAL,
                "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIAL,
                "AWS_SESSION_TOKEN": FAKE_CREDENTIAL,
                "AWS_DEFAULT_REGION": region,
                "AWS_REGION": region,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
                # boto3 honours HTTP(S)_PROXY: the emulator must be reached directly, never via a proxy.
                "NO_PROXY": f"{LOOPBACK},localhost",
                "no_proxy": f"{LOOPBACK},localhost",
            }
        ):
            yield endpoint
    finally:
        try:
            _reset(endpoint)
        finally:
            server.stop()


def _reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never via a proxy
    with opener.open(request, timeout=10) as response:
        response.read()


def emulator_session(region: str) -> boto3.session.Session:
    """A session with the fake credentials; the endpoint comes from the scoped environment."""
    import boto3

    return boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIAL,
        aws_secret_access_key=FAKE_CREDENTIAL,
        aws_session_token=FAKE_CREDENTIAL,
        region_name=region,
    )


def seed_environment(session: boto3.session.Session, config: SpaConfig, endpoint: str) -> SeededEnvironment:
    """Create what the stack deploys for the drill to find: same names, same tags, same encryption."""
    from infra.context import DataClassification, SpaContext
    from infra.database import BACKUP_RETENTION_DAYS, MASTER_USERNAME
    from infra.network import data_subnet_cidrs
    from scripts.drill.keys import restore_key_alias

    region = config.region
    account_id = session.client("sts", region_name=region).get_caller_identity()["Account"]
    ctx = SpaContext(config=config, account_id=account_id)

    def tag_list(classification: DataClassification, **extra: str) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in ctx.tags(classification, **extra).items()]

    kms = session.client("kms", region_name=region)
    key = kms.create_key(
        Description=f"{config.spa} data key: PHI at rest (local emulator)",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
        Tags=[
            {"TagKey": k, "TagValue": v} for k, v in ctx.tags(DataClassification.PHI, Purpose="data").items()
        ],
    )["KeyMetadata"]
    kms.create_alias(AliasName=restore_key_alias(config.spa, dr=False), TargetKeyId=key["KeyId"])
    data_key_arn = key["Arn"]

    ec2 = session.client("ec2", region_name=region)
    vpc_id = ec2.create_vpc(
        CidrBlock=config.vpc_cidr,
        TagSpecifications=[
            {"ResourceType": "vpc", "Tags": tag_list(DataClassification.INTERNAL, Name=ctx.name("vpc"))}
        ],
    )["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnet_ids: list[str] = []
    for letter, cidr, zone in zip("ab", data_subnet_cidrs(config.vpc_cidr), zones, strict=False):
        subnet_ids.append(
            ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=cidr,
                AvailabilityZone=zone,
                TagSpecifications=[
                    {
                        "ResourceType": "subnet",
                        "Tags": tag_list(
                            DataClassification.INTERNAL, Name=ctx.name(f"data-{letter}"), Tier="data-isolated"
                        ),
                    }
                ],
            )["Subnet"]["SubnetId"]
        )

    rds = session.client("rds", region_name=region)
    subnet_group = ctx.name("phi-db-isolated")
    rds.create_db_subnet_group(
        DBSubnetGroupName=subnet_group,
        DBSubnetGroupDescription="Isolated data subnets: no route to the internet",
        SubnetIds=subnet_ids,
        Tags=tag_list(DataClassification.INTERNAL),
    )
    db_identifier = ctx.name("phi-db")
    rds.create_db_instance(
        DBInstanceIdentifier=db_identifier,
        Engine=config.db_engine.value,
        EngineVersion=config.db_engine_version,
        DBInstanceClass=config.db_instance_class,
        AllocatedStorage=config.db_allocated_storage_gb,
        DBName=config.db_name,
        MasterUsername=MASTER_USERNAME,
        ManageMasterUserPassword=True,
        MasterUserSecretKmsKeyId=data_key_arn,
        StorageEncrypted=True,
        KmsKeyId=data_key_arn,
        DBSubnetGroupName=subnet_group,
        PubliclyAccessible=False,
        MultiAZ=config.db_multi_az,
        BackupRetentionPeriod=BACKUP_RETENTION_DAYS,
        CopyTagsToSnapshot=True,
        DeletionProtection=True,
        Tags=tag_list(DataClassification.PHI),
    )
    snapshot_id = f"{db_identifier}-{SEED_SNAPSHOT_SUFFIX}"
    rds.create_db_snapshot(DBSnapshotIdentifier=snapshot_id, DBInstanceIdentifier=db_identifier)

    s3 = session.client("s3", region_name=region)
    buckets: list[str] = []
    for role in config.phi_buckets:
        bucket = f"{config.spa}-phi-{role}-{account_id}"
        create: dict[str, object] = {"Bucket": bucket}
        if region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**create)
        s3.put_bucket_tagging(
            Bucket=bucket, Tagging={"TagSet": tag_list(DataClassification.PHI, Purpose=f"phi-{role}")}
        )
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": data_key_arn,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        for object_key, body in SYNTHETIC_OBJECTS.items():
            s3.put_object(Bucket=bucket, Key=object_key, Body=body)
        s3.put_object(Bucket=bucket, Key=SYNTHETIC_UPDATE[0], Body=SYNTHETIC_UPDATE[1])  # a second version
        buckets.append(bucket)

    return SeededEnvironment(
        endpoint=endpoint,
        account_id=account_id,
        data_key_arn=data_key_arn,
        vpc_id=vpc_id,
        subnet_ids=tuple(subnet_ids),
        db_identifier=db_identifier,
        snapshot_id=snapshot_id,
        buckets=tuple(buckets),
    )


def run_local_drill(
    config: SpaConfig,
    *,
    kinds: frozenset[ResourceKind] | None = None,
    timeout_seconds: float = 600,
    on_progress: Callable[[str], None] = lambda _msg: None,
) -> DrillRecord:
    """Seed a fresh emulator with the spa's environment and run the real drill against it.

    KeyboardInterrupt propagates as the engine raises it (with ``drill_record`` attached) after the
    emulator is stopped and the environment restored.
    """
    from scripts.drill.engine import DrillOptions, run_drill
    from scripts.drill.model import ResourceKind

    with emulator(config.region) as endpoint:
        session = emulator_session(config.region)
        on_progress(f"emulator on {endpoint}: seeding {config.spa}'s environment with synthetic data")
        seed_environment(session, config, endpoint)
        options = DrillOptions(
            spa=config.spa,
            config=config,
            kinds=kinds if kinds is not None else frozenset(ResourceKind),
            timeout_seconds=timeout_seconds,
            poll_seconds=POLL_SECONDS,
            emulator=True,
        )
        return run_drill(options, session, on_progress=on_progress)
