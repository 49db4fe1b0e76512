"""PHI storage invariants for every bundled stack.

164.312(a)(2)(iv) encryption (SSE-KMS under the data key), 164.312(e)(1) transmission security (TLS 1.2+
only), 164.312(a)(1) access control (public access blocks, VPC endpoint or allow-list only),
164.312(b) audit controls (server access logs), 164.312(c)(1) integrity (versioning, protection).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from infra.config import ConfigError, SpaConfig, from_pulumi_runtime, load_stack, to_pulumi_config
from infra.log_archive import log_archive_bucket_name
from infra.storage import BACKUP_ROLE_NAME
from scripts import paths
from scripts.synth import MOCK_ACCOUNT_ID, ResourceRecord, Synthesis
from tests.conftest import synth_stack
from tests.support import depends_on, policy_document, statements

COMPONENT = "medspa:storage:PhiStorage"
BUCKET = "aws:s3/bucket:Bucket"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
KEY = "aws:kms/key:Key"
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
WORLD = {"0.0.0.0/0", "::/0"}


def _config(synthesis: Synthesis) -> SpaConfig:
    return load_stack(paths.stacks_dir(), synthesis.spa)


def _component(synthesis: Synthesis) -> ResourceRecord:
    components = synthesis.of_type(COMPONENT)
    assert len(components) == 1, f"{synthesis.spa}: one PhiStorage component expected (164.312(a)(2)(iv))"
    return components[0]


def _buckets(synthesis: Synthesis) -> list[ResourceRecord]:
    component = _component(synthesis)
    return [b for b in synthesis.of_type(BUCKET) if b.parent == component.urn]


def _phi_buckets(synthesis: Synthesis) -> list[ResourceRecord]:
    return [b for b in _buckets(synthesis) if b.inputs.get("tags", {}).get("DataClassification") == "PHI"]


def _log_bucket(synthesis: Synthesis) -> ResourceRecord:
    found = [b for b in _buckets(synthesis) if b.inputs.get("tags", {}).get("DataClassification") == "Audit"]
    assert len(found) == 1, f"{synthesis.spa}: one S3 access-log bucket expected (164.312(b))"
    return found[0]


def _configuring(synthesis: Synthesis, type_token: str, bucket: ResourceRecord) -> ResourceRecord:
    """The single `type_token` resource whose `bucket` input comes from `bucket`."""
    found = [r for r in synthesis.of_type(type_token) if depends_on(r, bucket, "bucket")]
    assert len(found) == 1, f"{bucket.name}: expected one {type_token.split(':')[-1]}, found {len(found)}"
    return found[0]


def _policy_statements(synthesis: Synthesis, bucket: ResourceRecord) -> list[dict[str, Any]]:
    return statements(policy_document(_configuring(synthesis, POLICY, bucket).inputs["policy"]))


def _statement(synthesis: Synthesis, bucket: ResourceRecord, sid: str) -> dict[str, Any]:
    found = [s for s in _policy_statements(synthesis, bucket) if s.get("Sid") == sid]
    assert len(found) == 1, f"{bucket.name}: bucket policy lacks statement {sid}"
    return found[0]


def _data_key(synthesis: Synthesis) -> ResourceRecord:
    return synthesis.one(KEY, "keys-data")


def _s3_endpoint(synthesis: Synthesis) -> ResourceRecord:
    gateways = [e for e in synthesis.of_type(ENDPOINT) if e.inputs.get("vpcEndpointType") == "Gateway"]
    assert len(gateways) == 1, f"{synthesis.spa}: one S3 gateway endpoint expected (164.312(e)(1))"
    return gateways[0]


def _every_bucket(synthesis: Synthesis) -> list[ResourceRecord]:
    buckets = _buckets(synthesis)
    assert buckets, f"{synthesis.spa}: the storage component created no bucket"
    return buckets


# --- PHI buckets: existence, naming, deletion protection, tags ---


def test_one_phi_bucket_per_configured_role(stack_synthesis: Synthesis) -> None:
    roles = _config(stack_synthesis).phi_buckets
    purposes = sorted(b.inputs["tags"]["Purpose"] for b in _phi_buckets(stack_synthesis))
    assert purposes == sorted(f"phi-{role}" for role in roles), (
        f"{stack_synthesis.spa}: PHI buckets {purposes} must match medspa:phiBuckets {list(roles)} "
        "(164.312(a)(2)(iv))"
    )


def test_phi_bucket_names_derive_from_spa_role_and_account(stack_synthesis: Synthesis) -> None:
    spa = stack_synthesis.spa
    for role in _config(stack_synthesis).phi_buckets:
        expected = f"{spa}-phi-{role}-{MOCK_ACCOUNT_ID}"
        names = [b.inputs.get("bucket") for b in _phi_buckets(stack_synthesis)]
        assert expected in names, f"PHI bucket {expected} missing, found {names} (164.312(a)(1))"


def test_phi_buckets_are_never_force_destroyed(stack_synthesis: Synthesis) -> None:
    for bucket in _phi_buckets(stack_synthesis):
        assert bucket.inputs.get("forceDestroy") is False, (
            f"{bucket.name}: PHI bucket must not be force-destroyable (164.312(c)(1))"
        )


def test_every_storage_bucket_is_protected_and_retained(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        assert bucket.protect and bucket.retain_on_delete, (
            f"{bucket.name}: bucket must be protected and retained on delete (164.312(c)(1))"
        )


def test_phi_buckets_carry_phi_classification_and_backup_tag(stack_synthesis: Synthesis) -> None:
    buckets = _phi_buckets(stack_synthesis)
    assert buckets, (
        f"{stack_synthesis.spa}: no PHI bucket tagged DataClassification=PHI (164.308(a)(7)(ii)(A))"
    )
    for bucket in buckets:
        tags = bucket.inputs["tags"]
        assert tags.get("medspa:backup") == "phi" and tags.get("Spa") == stack_synthesis.spa, (
            f"{bucket.name}: PHI bucket needs the backup-selection and spa tags (164.308(a)(7)(ii)(A))"
        )


# --- Encryption ---


def test_phi_buckets_are_encrypted_with_the_data_key(stack_synthesis: Synthesis) -> None:
    data_key = _data_key(stack_synthesis)
    for bucket in _phi_buckets(stack_synthesis):
        encryption = _configuring(stack_synthesis, ENCRYPTION, bucket)
        default = encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        assert default.get("sseAlgorithm") == "aws:kms" and depends_on(encryption, data_key, "rules"), (
            f"{bucket.name}: PHI bucket must use SSE-KMS under the data key (164.312(a)(2)(iv))"
        )


def test_phi_buckets_use_s3_bucket_keys(stack_synthesis: Synthesis) -> None:
    for bucket in _phi_buckets(stack_synthesis):
        rule = _configuring(stack_synthesis, ENCRYPTION, bucket).inputs["rules"][0]
        assert rule.get("bucketKeyEnabled") is True, (
            f"{bucket.name}: S3 bucket keys keep SSE-KMS affordable and must be on (164.312(a)(2)(iv))"
        )


def test_every_storage_bucket_refuses_customer_provided_keys(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        rule = _configuring(stack_synthesis, ENCRYPTION, bucket).inputs["rules"][0]
        assert "SSE-C" in rule.get("blockedEncryptionTypes", []), (
            f"{bucket.name}: SSE-C uploads must be blocked (164.312(a)(2)(iv))"
        )


def test_access_log_bucket_uses_the_documented_sse_s3_encryption(stack_synthesis: Synthesis) -> None:
    """S3 server access log targets support only SSE-S3 default encryption (S3 User Guide)."""
    bucket = _log_bucket(stack_synthesis)
    default = _configuring(stack_synthesis, ENCRYPTION, bucket).inputs["rules"][0][
        "applyServerSideEncryptionByDefault"
    ]
    assert default.get("sseAlgorithm") == "AES256", (
        f"{bucket.name}: access-log bucket must be encrypted at rest with SSE-S3 (164.312(a)(2)(iv))"
    )


def test_phi_buckets_refuse_puts_under_another_algorithm_or_key(stack_synthesis: Synthesis) -> None:
    data_key = _data_key(stack_synthesis)
    data_key_arn = f"arn:aws:kms:{_config(stack_synthesis).region}:{MOCK_ACCOUNT_ID}:key/{data_key.id}"
    for bucket in _phi_buckets(stack_synthesis):
        algorithm = _statement(stack_synthesis, bucket, "DenyNonKmsEncryption")
        other_key = _statement(stack_synthesis, bucket, "DenyOtherKmsKeys")
        assert algorithm["Effect"] == "Deny" and algorithm["Condition"] == {
            "Null": {"s3:x-amz-server-side-encryption": "false"},
            "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
        }, f"{bucket.name}: puts asking for SSE-S3 must be denied (164.312(a)(2)(iv))"
        assert other_key["Effect"] == "Deny" and other_key["Condition"] == {
            "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
            "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": data_key_arn},
        }, f"{bucket.name}: puts naming a key other than the data key must be denied (164.312(a)(2)(iv))"


# --- Integrity: versioning and lifecycle ---


def test_every_storage_bucket_is_versioned(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        versioning = _configuring(stack_synthesis, VERSIONING, bucket)
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled", (
            f"{bucket.name}: versioning must be Enabled (164.312(c)(1))"
        )


def test_phi_noncurrent_versions_kept_for_the_configured_days(stack_synthesis: Synthesis) -> None:
    days = _config(stack_synthesis).noncurrent_version_days
    for bucket in _phi_buckets(stack_synthesis):
        rules = _configuring(stack_synthesis, LIFECYCLE, bucket).inputs["rules"]
        expiries = [
            r["noncurrentVersionExpiration"]["noncurrentDays"]
            for r in rules
            if "noncurrentVersionExpiration" in r
        ]
        assert expiries == [days], (
            f"{bucket.name}: noncurrent versions must expire after exactly {days} days, found {expiries} "
            "(164.312(c)(1))"
        )


def test_phi_current_objects_never_expire(stack_synthesis: Synthesis) -> None:
    for bucket in _phi_buckets(stack_synthesis):
        rules = _configuring(stack_synthesis, LIFECYCLE, bucket).inputs["rules"]
        assert not any(r.get("expiration", {}).get("days") for r in rules), (
            f"{bucket.name}: a lifecycle rule must never delete current PHI objects (164.312(c)(1))"
        )


def test_every_storage_bucket_aborts_incomplete_uploads(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        rules = _configuring(stack_synthesis, LIFECYCLE, bucket).inputs["rules"]
        assert any(r.get("abortIncompleteMultipartUpload", {}).get("daysAfterInitiation") for r in rules), (
            f"{bucket.name}: incomplete multipart uploads must be aborted (164.312(c)(1))"
        )


# --- Access control: public access, ownership, network restriction ---


def test_every_storage_bucket_blocks_all_public_access(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        block = _configuring(stack_synthesis, PUBLIC_ACCESS, bucket)
        off = [flag for flag in PUBLIC_ACCESS_FLAGS if block.inputs.get(flag) is not True]
        assert not off, f"{bucket.name}: public access block flags off: {off} (164.312(a)(1))"


def test_account_level_public_access_block_is_fully_on(stack_synthesis: Synthesis) -> None:
    blocks = stack_synthesis.of_type(ACCOUNT_PUBLIC_ACCESS)
    assert len(blocks) == 1, (
        f"{stack_synthesis.spa}: one account-level S3 public access block expected (164.312(a)(1))"
    )
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if blocks[0].inputs.get(flag) is not True]
    assert not off, f"{blocks[0].name}: account public access block flags off: {off} (164.312(a)(1))"


def test_account_public_access_block_survives_stack_deletion(stack_synthesis: Synthesis) -> None:
    block = stack_synthesis.one(ACCOUNT_PUBLIC_ACCESS, "storage-account-public-access")
    assert block.protect and block.retain_on_delete, (
        f"{block.name}: destroying the stack must not open the account's buckets (164.312(a)(1))"
    )


def test_every_storage_bucket_disables_acls(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        ownership = _configuring(stack_synthesis, OWNERSHIP, bucket)
        assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced", (
            f"{bucket.name}: ACLs must be disabled with BucketOwnerEnforced (164.312(a)(1))"
        )


def test_phi_buckets_deny_access_outside_the_vpc_endpoint_and_allowlist(stack_synthesis: Synthesis) -> None:
    endpoint = _s3_endpoint(stack_synthesis)
    cidrs = set(_config(stack_synthesis).allowlist_cidrs)
    for bucket in _phi_buckets(stack_synthesis):
        statement = _statement(stack_synthesis, bucket, "DenyOutsideVpcEndpointAndAllowList")
        condition = statement["Condition"]
        assert (
            statement["Effect"] == "Deny"
            and statement["Principal"] == "*"
            and statement["Action"] == "s3:*"
            and condition["StringNotEqualsIfExists"]["aws:SourceVpce"] == endpoint.id
            and set(condition["NotIpAddressIfExists"]["aws:SourceIp"]) == cidrs
        ), (
            f"{bucket.name}: requests outside the S3 endpoint and the allow-list must be denied (164.312(a)(1))"
        )


def test_network_restriction_covers_bucket_and_objects(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        statement = _statement(stack_synthesis, bucket, "DenyOutsideVpcEndpointAndAllowList")
        arn = f"arn:aws:s3:::{bucket.inputs['bucket']}"
        assert sorted(statement["Resource"]) == sorted([arn, f"{arn}/*"]), (
            f"{bucket.name}: the network deny must cover the bucket and every object (164.312(a)(1))"
        )


def test_network_restriction_never_allow_lists_the_world(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        statement = _statement(stack_synthesis, bucket, "DenyOutsideVpcEndpointAndAllowList")
        cidrs = set(statement["Condition"]["NotIpAddressIfExists"]["aws:SourceIp"])
        assert cidrs and not cidrs & WORLD, (
            f"{bucket.name}: allow-list {cidrs} must not be the world (164.312(a)(1))"
        )


def test_network_restriction_exempts_aws_services_and_break_glass(stack_synthesis: Synthesis) -> None:
    break_glass = f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/{stack_synthesis.spa}-break-glass"
    for bucket in _every_bucket(stack_synthesis):
        condition = _statement(stack_synthesis, bucket, "DenyOutsideVpcEndpointAndAllowList")["Condition"]
        services = condition.get("BoolIfExists", {})
        exempt = condition.get("ArnNotLikeIfExists", {}).get("aws:PrincipalArn", [])
        assert services == {"aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"} and (
            break_glass in exempt
        ), (
            f"{bucket.name}: AWS services (Backup, log delivery) and the break-glass role must not be "
            "locked out (164.308(a)(7)(ii)(A), 164.312(a)(2)(ii))"
        )


def test_network_restriction_exempts_the_aws_backup_role(stack_synthesis: Synthesis) -> None:
    backup_role = f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/{BACKUP_ROLE_NAME.format(spa=stack_synthesis.spa)}"
    for bucket in _phi_buckets(stack_synthesis):
        condition = _statement(stack_synthesis, bucket, "DenyOutsideVpcEndpointAndAllowList")["Condition"]
        assert backup_role in condition["ArnNotLikeIfExists"]["aws:PrincipalArn"], (
            f"{bucket.name}: AWS Backup calls S3 with {backup_role} from AWS's network; locking it out "
            "stops PHI backups (164.308(a)(7)(ii)(A))"
        )


def test_network_restriction_exempts_no_wildcard_principal(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        condition = _statement(stack_synthesis, bucket, "DenyOutsideVpcEndpointAndAllowList")["Condition"]
        exempt = condition["ArnNotLikeIfExists"]["aws:PrincipalArn"]
        broad = [arn for arn in exempt if arn.endswith(":*") or arn.endswith(":role/*") or arn == "*"]
        assert not broad, f"{bucket.name}: exemptions {broad} would exempt every principal (164.312(a)(1))"


def test_bucket_policies_allow_nothing_to_anonymous_principals(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        for statement in _policy_statements(stack_synthesis, bucket):
            if statement["Effect"] == "Allow":
                assert statement["Principal"] not in ("*", {"AWS": "*"}), (
                    f"{bucket.name}: statement {statement.get('Sid')} allows any principal (164.312(a)(1))"
                )


def test_bucket_policy_waits_for_the_public_access_block(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        policy = _configuring(stack_synthesis, POLICY, bucket)
        block = _configuring(stack_synthesis, PUBLIC_ACCESS, bucket)
        assert depends_on(policy, block), (
            f"{policy.name}: the bucket policy must be applied after the public access block (164.312(a)(1))"
        )


# --- Transmission security ---


def test_every_storage_bucket_denies_plain_http(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        statement = _statement(stack_synthesis, bucket, "DenyInsecureTransport")
        assert (
            statement["Effect"] == "Deny"
            and statement["Principal"] == "*"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ), f"{bucket.name}: requests without TLS must be denied (164.312(e)(1))"


def test_every_storage_bucket_denies_tls_older_than_1_2(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        statement = _statement(stack_synthesis, bucket, "DenyTlsOlderThan12")
        assert statement["Effect"] == "Deny" and statement["Condition"] == {
            "NumericLessThan": {"s3:TlsVersion": 1.2}
        }, f"{bucket.name}: TLS below 1.2 must be denied (164.312(e)(1))"


def test_tls_denies_exempt_nobody(stack_synthesis: Synthesis) -> None:
    for bucket in _every_bucket(stack_synthesis):
        for sid in ("DenyInsecureTransport", "DenyTlsOlderThan12"):
            statement = _statement(stack_synthesis, bucket, sid)
            assert statement["Action"] == "s3:*" and len(statement["Condition"]) == 1, (
                f"{bucket.name}: {sid} must apply to every action and principal (164.312(e)(1))"
            )


# --- Audit: server access logging and the log bucket ---


def test_every_phi_bucket_logs_to_the_access_log_bucket(stack_synthesis: Synthesis) -> None:
    log_bucket = _log_bucket(stack_synthesis)
    for bucket in _phi_buckets(stack_synthesis):
        logging = _configuring(stack_synthesis, LOGGING, bucket)
        assert depends_on(logging, log_bucket, "targetBucket") and logging.inputs.get("targetPrefix"), (
            f"{bucket.name}: server access logs must go to {log_bucket.name} (164.312(b))"
        )


def test_access_log_bucket_does_not_log_to_itself(stack_synthesis: Synthesis) -> None:
    log_bucket = _log_bucket(stack_synthesis)
    loops = [r for r in stack_synthesis.of_type(LOGGING) if depends_on(r, log_bucket, "bucket")]
    assert not loops, f"{log_bucket.name}: logging a log bucket to itself loops forever (164.312(b))"


def test_access_log_bucket_is_audit_classified(stack_synthesis: Synthesis) -> None:
    bucket = _log_bucket(stack_synthesis)
    assert (
        bucket.inputs["tags"]["DataClassification"] == "Audit" and bucket.inputs.get("forceDestroy") is False
    ), f"{bucket.name}: access-log bucket must be Audit-classified and not force-destroyable (164.312(b))"


def test_access_log_bucket_admits_s3_log_delivery_for_this_account_only(stack_synthesis: Synthesis) -> None:
    bucket = _log_bucket(stack_synthesis)
    statement = _statement(stack_synthesis, bucket, "S3ServerAccessLogDelivery")
    archive = f"arn:aws:s3:::{log_archive_bucket_name(stack_synthesis.spa, MOCK_ACCOUNT_ID)}"
    sources = sorted(
        [*(f"arn:aws:s3:::{b.inputs['bucket']}" for b in _phi_buckets(stack_synthesis)), archive]
    )
    assert (
        statement["Effect"] == "Allow"
        and statement["Principal"] == {"Service": "logging.s3.amazonaws.com"}
        and statement["Action"] == "s3:PutObject"
        and statement["Condition"]["StringEquals"] == {"aws:SourceAccount": MOCK_ACCOUNT_ID}
        and sorted(statement["Condition"]["ArnLike"]["aws:SourceArn"]) == sources
    ), (
        f"{bucket.name}: only S3 log delivery for this account's PHI buckets and log archive may write (164.312(b))"
    )


def test_access_log_bucket_keeps_logs_at_least_the_log_retention(stack_synthesis: Synthesis) -> None:
    days = _config(stack_synthesis).log_retention_days
    bucket = _log_bucket(stack_synthesis)
    for rule in _configuring(stack_synthesis, LIFECYCLE, bucket).inputs["rules"]:
        kept = [
            rule.get("expiration", {}).get("days"),
            rule.get("noncurrentVersionExpiration", {}).get("noncurrentDays"),
        ]
        short = [d for d in kept if d is not None and d < days]
        assert not short, f"{bucket.name}: logs expire after {short} days, before {days} (164.312(b))"


def test_access_log_bucket_moves_logs_to_cheaper_storage(stack_synthesis: Synthesis) -> None:
    bucket = _log_bucket(stack_synthesis)
    rules = _configuring(stack_synthesis, LIFECYCLE, bucket).inputs["rules"]
    classes = {t["storageClass"] for r in rules for t in r.get("transitions", [])}
    assert classes, f"{bucket.name}: access logs should transition to cheaper storage classes (164.312(b))"


def test_access_log_objects_cannot_be_deleted_except_by_break_glass(stack_synthesis: Synthesis) -> None:
    bucket = _log_bucket(stack_synthesis)
    statement = _statement(stack_synthesis, bucket, "DenyLogDeletion")
    break_glass = f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/{stack_synthesis.spa}-break-glass"
    assert (
        statement["Effect"] == "Deny"
        and set(statement["Action"]) == {"s3:DeleteObject", "s3:DeleteObjectVersion"}
        and statement["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": break_glass}}
    ), f"{bucket.name}: access logs must not be deletable by the people they record (164.312(c)(1))"


def test_logging_waits_for_the_log_bucket_policy(stack_synthesis: Synthesis) -> None:
    policy = _configuring(stack_synthesis, POLICY, _log_bucket(stack_synthesis))
    for bucket in _phi_buckets(stack_synthesis):
        logging = _configuring(stack_synthesis, LOGGING, bucket)
        assert depends_on(logging, policy), (
            f"{logging.name}: logging must start after the log bucket admits S3 log delivery (164.312(b))"
        )


# --- Config: names that S3 would refuse are caught before anything runs ---


def test_overlong_phi_bucket_name_is_rejected_before_deploy(demo_config: SpaConfig) -> None:
    raw = to_pulumi_config(demo_config)
    raw["medspa:phiBuckets"] = json.dumps(["x" * 24])
    with pytest.raises(ConfigError, match="medspa:phiBuckets"):
        from_pulumi_runtime("a" * 24, raw)


def test_longest_phi_bucket_name_that_fits_is_accepted(demo_config: SpaConfig) -> None:
    raw = to_pulumi_config(demo_config)
    raw["medspa:phiBuckets"] = json.dumps(["x" * 21])  # 24 + 21 + 18 = 63 characters
    assert from_pulumi_runtime("a" * 24, raw).phi_buckets == ("x" * 21,), (
        "medspa:phiBuckets: a 63-character bucket name is valid for S3 and must be accepted"
    )


# --- Negative controls: the invariants above fail on a weakened environment ---


def _weakened(mutate: Any) -> Synthesis:
    synthesis = copy.deepcopy(synth_stack("demo"))
    mutate(synthesis)
    return synthesis


def test_negative_control_dropping_the_vpc_endpoint_condition_is_caught() -> None:
    def drop_endpoint(synthesis: Synthesis) -> None:
        for policy in synthesis.of_type(POLICY):
            document = policy_document(policy.inputs["policy"])
            for statement in statements(document):
                if statement.get("Sid") == "DenyOutsideVpcEndpointAndAllowList":
                    statement["Condition"]["StringNotEqualsIfExists"]["aws:SourceVpce"] = "vpce-someone-else"
            policy.inputs["policy"] = document

    with pytest.raises(AssertionError, match="outside the S3 endpoint"):
        test_phi_buckets_deny_access_outside_the_vpc_endpoint_and_allowlist(_weakened(drop_endpoint))


def test_negative_control_public_access_flag_off_is_caught() -> None:
    def open_bucket(synthesis: Synthesis) -> None:
        synthesis.of_type(PUBLIC_ACCESS)[0].inputs["restrictPublicBuckets"] = False

    with pytest.raises(AssertionError, match="public access block"):
        test_every_storage_bucket_blocks_all_public_access(_weakened(open_bucket))


def test_negative_control_sse_s3_on_a_phi_bucket_is_caught() -> None:
    def downgrade(synthesis: Synthesis) -> None:
        for record in synthesis.of_type(ENCRYPTION):
            record.inputs["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}

    with pytest.raises(AssertionError, match="SSE-KMS"):
        test_phi_buckets_are_encrypted_with_the_data_key(_weakened(downgrade))
