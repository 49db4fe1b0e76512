"""Shared pieces of the drill engine tests: a moto account seeded like the stack deploys a spa.

Everything runs in-process under moto's ``mock_aws`` with fake credentials; no request can reach AWS.
Faults are injected with botocore's event hooks on the session, so the engine's own code paths run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.config import SpaConfig
from scripts.drill.engine import DrillOptions, run_drill
from scripts.drill.local import SeededEnvironment, seed_environment
from scripts.drill.model import DRILL_TAG_KEY, DrillRecord, ResourceKind

FAKE = "testing"


@contextmanager
def fake_aws(region: str) -> Iterator[None]:
    """moto in-process, fake credentials, no profile or endpoint that could lead to a real account."""
    saved = dict(os.environ)
    try:
        for key in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[key]
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": FAKE,
                "AWS_SECRET_ACCESS_KEY": FAKE,
                "AWS_SESSION_TOKEN": FAKE,
                "AWS_DEFAULT_REGION": region,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        with mock_aws():
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class Account:
    """A seeded moto account: the session the drill uses, the config, and what the seed created."""

    session: Any
    config: SpaConfig
    seed: SeededEnvironment
    observer: Any = None
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        """A client of a separate session: the test's own view, untouched by the fault hooks."""
        if self.observer is None:
            self.observer = boto3.session.Session(region_name=self.config.region)
        key = (service, region or self.config.region)
        if key not in self.clients:
            self.clients[key] = self.observer.client(service, region_name=key[1])
        return self.clients[key]

    def drill(
        self,
        *,
        kinds: frozenset[ResourceKind] = frozenset(ResourceKind),
        from_dr_region: bool = False,
        clock: Callable[[], datetime] | None = None,
        validate: Any = None,
        config: SpaConfig | None = None,
    ) -> DrillRecord:
        config = config or self.config
        options = DrillOptions(
            spa=config.spa,
            config=config,
            kinds=kinds,
            from_dr_region=from_dr_region,
            timeout_seconds=1,
            poll_seconds=0,
            emulator=True,
        )
        extra: dict[str, Any] = {"sleep": lambda _s: None}
        if clock is not None:
            extra["clock"] = clock
        return run_drill(options, self.session, validate=validate, **extra)

    def state(self) -> dict[str, Any]:
        """A fingerprint of every source resource: must be identical before and after a drill."""
        rds = self.client("rds")
        db = rds.describe_db_instances(DBInstanceIdentifier=self.seed.db_identifier)["DBInstances"][0]
        s3 = self.client("s3")
        buckets = {}
        for bucket in self.seed.buckets:
            versions = s3.list_object_versions(Bucket=bucket)
            buckets[bucket] = {
                "versions": sorted(
                    (v["Key"], v["VersionId"], v["ETag"]) for v in versions.get("Versions", [])
                ),
                "markers": len(versions.get("DeleteMarkers", [])),
                "tags": s3.get_bucket_tagging(Bucket=bucket)["TagSet"],
                "encryption": s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"],
            }
        snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=self.seed.db_identifier)["DBSnapshots"]
        return {
            "db": {
                k: db.get(k)
                for k in (
                    "DBInstanceStatus",
                    "DeletionProtection",
                    "PubliclyAccessible",
                    "KmsKeyId",
                    "TagList",
                )
            },
            "snapshots": sorted(s["DBSnapshotIdentifier"] for s in snapshots),
            "buckets": buckets,
            "key": self.client("kms").describe_key(KeyId=self.seed.data_key_arn)["KeyMetadata"]["KeyState"],
        }

    def drill_leftovers(self) -> list[str]:
        """Everything still carrying a drill tag, or named like a drill copy, in both regions."""
        left: list[str] = []
        for region in (self.config.region, self.config.dr_region):
            tagging = self.client("resourcegroupstaggingapi", region)
            for mapping in tagging.get_resources(TagFilters=[{"Key": DRILL_TAG_KEY}])[
                "ResourceTagMappingList"
            ]:
                left.append(mapping["ResourceARN"])
            rds = self.client("rds", region)
            left += [
                d["DBInstanceIdentifier"]
                for d in rds.describe_db_instances()["DBInstances"]
                if d["DBInstanceIdentifier"].startswith("medspa-drill-")
            ]
            ec2 = self.client("ec2", region)
            left += [
                g["GroupId"]
                for g in ec2.describe_security_groups()["SecurityGroups"]
                if g["GroupName"].startswith("medspa-drill-")
            ]
        left += [
            b["Name"]
            for b in self.client("s3").list_buckets()["Buckets"]
            if b["Name"].startswith("medspa-drill-")
        ]
        return left

    def on(self, event: str, handler: Callable[..., Any]) -> None:
        """Register a botocore event hook (fault injection) on every client of the drill's session."""
        self.session.events.register(event, handler)


def seeded_account(config: SpaConfig) -> Account:
    session = boto3.session.Session(region_name=config.region)
    return Account(session=session, config=config, seed=seed_environment(session, config, "moto-in-process"))


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "injected fault"}}, operation)


def later(hours: float) -> Callable[[], datetime]:
    """A drill clock running ``hours`` ahead of real time (moto stamps recovery points with real time)."""
    return lambda: datetime.now(UTC) + timedelta(hours=hours)


def stepping_clock(step: timedelta) -> Callable[[], datetime]:
    """A clock that advances ``step`` on every reading: restores then take ``step`` per clock read."""
    now = [datetime.now(UTC)]

    def clock() -> datetime:
        now[0] += step
        return now[0]

    return clock


def is_drill_copy(params_or_parsed: dict[str, Any]) -> bool:
    identifier = str(params_or_parsed.get("DBInstanceIdentifier", ""))
    return identifier.startswith("medspa-drill-")
