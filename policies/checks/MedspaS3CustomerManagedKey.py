"""CKV_MEDSPA_2: S3 default encryption is SSE-KMS under a customer-managed key."""

from __future__ import annotations

import re
from typing import Any

from _medspa_support import attr, blocks, is_customer_managed_key
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
# The one exception AWS forces: a server access log target bucket supports default encryption with
# SSE-S3 only (Amazon S3 User Guide, "Enabling Amazon S3 server access logging"). The kit names that
# bucket `<spa>-s3-access-logs-<account>`; a name or reference with "access-logs" may use AES256. PHI
# buckets cannot use this door: CKV_MEDSPA_107 demands the spa's key for every DataClassification=PHI bucket.
ACCESS_LOG_TARGET = re.compile(r"access[-_]logs?", re.IGNORECASE)


class MedspaS3CustomerManagedKey(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure S3 default encryption uses SSE-KMS with a customer-managed key, not aws/s3",
            id="CKV_MEDSPA_2",
            categories=(CheckCategories.ENCRYPTION,),
            supported_resources=("aws_s3_bucket_server_side_encryption_configuration",),
            guideline=(
                "HIPAA 164.312(a)(2)(iv) encryption and decryption: every rule's "
                "apply_server_side_encryption_by_default uses sse_algorithm aws:kms (or aws:kms:dsse) and a "
                "kms_master_key_id of the spa's own key; the AWS-managed alias/aws/s3 key cannot be "
                "restricted, rotated on demand or disabled by the spa. Only the S3 server access log "
                "bucket (a bucket named *access-logs*) may use AES256, because AWS supports nothing else there."
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        rules = blocks(conf, "rule")
        if not rules:
            return CheckResult.FAILED
        access_log_target = bool(ACCESS_LOG_TARGET.search(str(attr(conf, "bucket") or "")))
        for rule in rules:
            defaults = blocks(rule, "apply_server_side_encryption_by_default")
            if not defaults:
                return CheckResult.FAILED
            for default in defaults:
                if access_log_target and attr(default, "sse_algorithm") == "AES256":
                    continue
                if attr(default, "sse_algorithm") not in KMS_ALGORITHMS:
                    return CheckResult.FAILED
                if not is_customer_managed_key(default.get("kms_master_key_id")):
                    return CheckResult.FAILED
        return CheckResult.PASSED

    def get_evaluated_keys(self) -> list[str]:
        return ["rule/[0]/apply_server_side_encryption_by_default"]


check = MedspaS3CustomerManagedKey()
