"""Restore a PHI bucket as it was at its recovery point into a temporary, locked-down bucket, and prove it.

The copy is created with all public access blocked, owner-enforced ownership, SSE-KMS under the
expected key and a TLS-only policy (164.312(a)(1), 164.312(a)(2)(iv), 164.312(e)(1)); a manifest of
keys, sizes and SHA-256 checksums is compared with the source as of that time (164.312(c)(1)). The
source is only read. Object keys may name patients, so reports carry counts and SHA-256 of key names,
never the keys (164.502(b) minimum necessary).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from infra.storage import tls_statements
from scripts.drill import backup_jobs
from scripts.drill.cleanup import BUCKET, DrillEnv, drill_name
from scripts.drill.discover import ProtectedResource
from scripts.drill.model import Check, ResourceResult, error_code, utc
from scripts.drill.restore import (
    HIPAA_ACCESS,
    HIPAA_BACKUP,
    HIPAA_ENCRYPTION,
    HIPAA_INTEGRITY,
    HIPAA_TRANSMISSION,
    report_to_backup,
    restore_with_backup,
    vault_recovery_point,
)

COPY_OBJECT_MAX_BYTES = 5 * 1024**3  # larger objects need a multipart copy
CHUNK_BYTES = 1024 * 1024
KEY_DIGESTS_SHOWN = 5


@dataclass(frozen=True)
class Entry:
    """One object in a manifest: its size and the SHA-256 of its bytes (hex)."""

    size: int
    sha256: str


def key_digest(key: str) -> str:
    """How an object key appears in evidence: a SHA-256, since keys may contain a patient's name."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def bucket_role(bucket: str, spa: str, account_id: str) -> str:
    """``documents`` from ``<spa>-phi-documents-<account>`` (infra/storage.py's naming); else ``bucket``."""
    role = bucket.removeprefix(f"{spa}-phi-").removesuffix(f"-{account_id}")
    return role if role != bucket and role else "bucket"


def versions_as_of(s3: Any, bucket: str, as_of: datetime) -> dict[str, str]:
    """Key -> version id of each object that existed at ``as_of`` (a delete marker hides the key)."""
    newest: dict[str, tuple[datetime, str | None]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            _keep_newest(newest, version, as_of, str(version["VersionId"]))
        for marker in page.get("DeleteMarkers", []):
            _keep_newest(newest, marker, as_of, None)
    return {key: vid for key, (_, vid) in newest.items() if vid is not None}


def _keep_newest(
    newest: dict[str, tuple[datetime, str | None]], item: dict[str, Any], as_of: datetime, vid: str | None
) -> None:
    when = utc(item["LastModified"])
    if when > as_of:
        return
    key = str(item["Key"])
    current = newest.get(key)
    # Same second: the listing puts the newer version first, so the first one seen wins ties.
    if current is None or when > current[0]:
        newest[key] = (when, vid)


def object_entry(s3: Any, bucket: str, key: str, version_id: str | None = None) -> tuple[Entry, str | None]:
    """Size and SHA-256 of an object's bytes (ETags of SSE-KMS or multipart objects are not digests),
    and the KMS key it is encrypted with."""
    args: dict[str, str] = {"Bucket": bucket, "Key": key}
    if version_id is not None:
        args["VersionId"] = version_id
    response = s3.get_object(**args)
    digest = hashlib.sha256()
    size = 0
    for chunk in response["Body"].iter_chunks(CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
    return Entry(size, digest.hexdigest()), response.get("SSEKMSKeyId")


def tls_only_policy(bucket: str) -> str:
    """The stack's own TLS-only statements (infra/storage.py), as the temporary bucket's whole policy."""
    return json.dumps({"Version": "2012-10-17", "Statement": tls_statements(f"arn:aws:s3:::{bucket}")})


def create_locked_bucket(env: DrillEnv, name: str) -> None:
    """The temporary bucket: tagged first (so cleanup finds it), then sealed before any byte arrives."""
    s3 = env.client("s3")
    env.workspace.register(BUCKET, env.region, name)
    create: dict[str, Any] = {"Bucket": name, "ObjectOwnership": "BucketOwnerEnforced"}
    if env.region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": env.region}
    s3.create_bucket(**create)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": env.workspace.tag_list()})
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": env.expected_key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    # AWS Backup restores S3 only into a versioned bucket; teardown deletes every version anyway.
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if not env.emulator:
        # Not in the emulator: moto ignores policy conditions, so this conditional deny would deny all.
        s3.put_bucket_policy(Bucket=name, Policy=tls_only_policy(name))


class CopyTimeout(Exception):
    """The point-in-time copy ran past the drill's timeout."""


def copy_versions(env: DrillEnv, source: str, versions: dict[str, str], target: str) -> None:
    """Copy each version into the target under the expected key; the source is only read."""
    s3 = env.client("s3")
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": env.expected_key_arn}
    deadline = env.clock() + timedelta(seconds=env.timeout_seconds)
    for done, (key, version_id) in enumerate(versions.items()):
        if env.clock() > deadline:
            raise CopyTimeout(
                f"timeout: {done} of {len(versions)} objects copied within {env.timeout_seconds:.0f} s"
            )
        copy_source = {"Bucket": source, "Key": key, "VersionId": version_id}
        head = s3.head_object(Bucket=source, Key=key, VersionId=version_id)
        if int(head.get("ContentLength", 0)) > COPY_OBJECT_MAX_BYTES:
            s3.copy(copy_source, target, key, ExtraArgs=encryption)
        else:
            s3.copy_object(
                CopySource=copy_source, Bucket=target, Key=key, BucketKeyEnabled=True, **encryption
            )


def restored_manifest(env: DrillEnv, target: str) -> tuple[dict[str, Entry], int]:
    """The copy's manifest, and how many of its objects are not under the expected key."""
    s3 = env.client("s3")
    manifest: dict[str, Entry] = {}
    wrong_key = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=target):
        for item in page.get("Contents", []):
            entry, kms_key = object_entry(s3, target, str(item["Key"]))
            manifest[str(item["Key"])] = entry
            wrong_key += kms_key != env.expected_key_arn
    return manifest, wrong_key


def compare(expected: dict[str, Entry], restored: dict[str, Entry]) -> Check:
    """Keys, sizes and SHA-256 must all match; differences are counted and named by key digest only."""
    missing = expected.keys() - restored.keys()
    extra = restored.keys() - expected.keys()
    changed = {k for k in expected.keys() & restored.keys() if expected[k] != restored[k]}
    total = sum(e.size for e in expected.values())
    if not (missing or extra or changed):
        return Check(
            "manifest matches the source",
            True,
            f"{len(expected)} objects, {total} bytes: keys, sizes and SHA-256 identical",
            HIPAA_INTEGRITY,
        )
    differing = sorted(key_digest(k) for k in missing | extra | changed)
    shown = ", ".join(d[:16] for d in differing[:KEY_DIGESTS_SHOWN])
    return Check(
        "manifest matches the source",
        False,
        f"{len(differing)} of {len(expected | restored)} objects differ (missing {len(missing)}, "
        f"extra {len(extra)}, changed {len(changed)}); SHA-256 of the differing key names: {shown}",
        HIPAA_INTEGRITY,
    )


def lockdown_checks(env: DrillEnv, target: str, objects: int, wrong_key: int) -> list[Check]:
    """The copy is private and under the expected key, as verified after the restore, not assumed."""
    s3 = env.client("s3")
    block = s3.get_public_access_block(Bucket=target)["PublicAccessBlockConfiguration"]
    rule = s3.get_bucket_encryption(Bucket=target)["ServerSideEncryptionConfiguration"]["Rules"][0]
    default = rule["ApplyServerSideEncryptionByDefault"]
    default_ok = (
        default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID") == env.expected_key_arn
    )
    if not env.emulator:
        policy = s3.get_bucket_policy(Bucket=target)["Policy"]
        tls = Check(
            "TLS-only bucket policy",
            "DenyInsecureTransport" in policy,
            "requests without TLS are denied"
            if "DenyInsecureTransport" in policy
            else "no TLS-only statement",
            HIPAA_TRANSMISSION,
        )
    else:
        tls = Check(
            "TLS-only bucket policy",
            True,
            "not applied in the emulator (it ignores policy conditions); applied on every real drill",
            HIPAA_TRANSMISSION,
            note=True,
        )
    return [
        tls,
        Check(
            "encrypted with the expected key",
            default_ok and wrong_key == 0,
            f"default {default.get('SSEAlgorithm')} {default.get('KMSMasterKeyID') or ''}".rstrip()
            + f"; {objects - wrong_key} of {objects} objects under {env.expected_key_arn}",
            HIPAA_ENCRYPTION,
        ),
        Check(
            "not publicly accessible",
            all(
                block.get(k) is True
                for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
            ),
            "public access block: " + ", ".join(f"{k} {str(v).lower()}" for k, v in sorted(block.items())),
            HIPAA_ACCESS,
        ),
    ]


def drill_bucket(env: DrillEnv, source: ProtectedResource, result: ResourceResult) -> None:
    """Restore one PHI bucket into a temporary bucket and compare; fills ``result`` as it goes."""
    point = vault_recovery_point(env, source.arn, result)
    if point is not None:
        as_of = utc(point.created)
        result.recovery_point_arn = point.arn
    elif env.from_dr_region:
        _, dr_vault = backup_jobs.vault_names(env.config)
        result.reasons.append(
            f"no recovery point: no backup of {source.identifier} in the DR vault {dr_vault} ({env.region})"
        )
        return
    else:
        as_of = env.started_at
        result.checks.append(
            Check(
                "recovery point",
                True,
                "no recovery point in the vault: reconstructed from the versioned source as of the drill's start",
                HIPAA_BACKUP,
                note=True,
            )
        )
    result.recovery_point_time = as_of
    source_s3 = env.client("s3", env.source_region)
    target = drill_name(
        env.workspace.drill_id, bucket_role(source.identifier, env.config.spa, env.account_id)
    )
    env.on_progress(f"bucket: restoring {source.identifier} as of {as_of:%Y-%m-%d %H:%M:%S}Z into {target}")
    result.restore_started = env.clock()
    create_locked_bucket(env, target)
    versions = versions_as_of(source_s3, source.identifier, as_of)
    if point is not None:
        metadata = backup_jobs.s3_restore_metadata(target_bucket=target, kms_key_arn=env.expected_key_arn)
        if not restore_with_backup(
            env,
            point,
            result,
            metadata=metadata,
            resource_type="S3",
            idempotency_token=f"{env.workspace.drill_id}-{target[-20:]}",
        ):
            return
    else:
        try:
            copy_versions(env, source.identifier, versions, target)
        except ClientError as error:
            result.reasons.append(f"restore failed: copying object versions: AWS error {error_code(error)}")
            return
        except CopyTimeout as late:
            result.reasons.append(str(late))
            return
    result.restored = target
    expected = {k: object_entry(source_s3, source.identifier, k, v)[0] for k, v in versions.items()}
    restored, wrong_key = restored_manifest(env, target)
    result.checks.append(compare(expected, restored))
    result.checks.extend(lockdown_checks(env, target, len(restored), wrong_key))
    result.validated_at = env.clock()
    if point is not None:
        report_to_backup(env, result)
