"""CKV_MEDSPA_105-110: every PHI bucket, vault and trail has the companion resources that protect it.

checkov judges a bucket policy or an encryption configuration that exists; these checks make sure one
exists for every store that needs it, and that CloudTrail's own destinations are kept long enough.
"""

from __future__ import annotations

import re
from typing import Any

from policies.plan_checks.base import (
    PLAN_ADDRESS,
    PlanCheck,
    PlanFinding,
    PlanView,
    Resource,
    blocks,
    denies_plaintext,
    first,
    flatten,
    identities,
    is_phi,
    mentions,
    policy_document,
    truthy,
)

CLOUDTRAIL_RETENTION_FLOOR_DAYS = 2192
OBJECT_LOCK_FLOOR_DAYS = 2192
AWS_MANAGED_KEY = re.compile(r"(^|[:/])alias/aws/")
ALL_S3_OBJECTS = ("arn:aws:s3", "arn:aws:s3:::", "arn:aws:s3:::*", "arn:aws:s3:::*/*")


def phi_buckets(view: PlanView) -> list[Resource]:
    return [b for b in view.of_type("aws_s3_bucket") if is_phi(b)]


def _no_phi_bucket(check: PlanCheck) -> list[PlanFinding]:
    return [check.failed(PLAN_ADDRESS, "no S3 bucket tagged DataClassification=PHI in the plan")]


# ------------------------------------------------------------------------------------- data events


def _covers(values: list[str], bucket: Resource) -> bool:
    for value in values:
        text = str(value).strip()
        if text in ALL_S3_OBJECTS or mentions(text, bucket):
            return True
        if any(text.startswith(i) for i in identities(bucket) if i.startswith("arn:")):
            return True
    return False


def _basic_selector_access(view: PlanView, trail: Resource, bucket: Resource) -> set[str]:
    access: set[str] = set()
    for selector in blocks(trail.get("event_selector")):
        kind = str(first(selector.get("read_write_type")) or "All")
        for resource in blocks(selector.get("data_resource")):
            if first(resource.get("type")) != "AWS::S3::Object":
                continue
            if _covers([str(v) for v in flatten(resource.get("values"))], bucket):
                access |= {"read", "write"} if kind == "All" else {"read" if kind == "ReadOnly" else "write"}
    return access


def _advanced_selector_access(trail: Resource, bucket: Resource) -> set[str]:
    access: set[str] = set()
    for selector in blocks(trail.get("advanced_event_selector")):
        fields = {str(first(f.get("field"))): f for f in blocks(selector.get("field_selector"))}
        category = fields.get("eventCategory")
        kind = fields.get("resources.type")
        if not category or "Data" not in flatten(category.get("equals")):
            continue
        if not kind or "AWS::S3::Object" not in flatten(kind.get("equals")):
            continue
        arn = fields.get("resources.ARN")
        if arn is not None:
            listed = [str(v) for key in ("equals", "starts_with") for v in flatten(arn.get(key))]
            if not _covers(listed, bucket):
                continue
        read_only = fields.get("readOnly")
        if read_only is None:
            access |= {"read", "write"}
        else:
            flags = {str(v).lower() for v in flatten(read_only.get("equals"))}
            access |= {"read"} if "true" in flags else set()
            access |= {"write"} if "false" in flags else set()
    return access


class CloudTrailDataEventsCoverPhi(PlanCheck):
    id = "CKV_MEDSPA_105"
    name = "Ensure CloudTrail records S3 data events (reads and writes) for every PHI bucket"
    hipaa = ("164.312(b)", "164.308(a)(1)(ii)(D)")

    def run(self, plan: dict[str, Any]) -> list[PlanFinding]:
        view = PlanView(plan)
        buckets = phi_buckets(view)
        if not buckets:
            return _no_phi_bucket(self)
        trails = view.of_type("aws_cloudtrail")
        if not trails:
            return [
                self.failed(PLAN_ADDRESS, "no CloudTrail trail in the plan, so no PHI access is recorded")
            ]
        findings = []
        for bucket in buckets:
            access: set[str] = set()
            for trail in trails:
                access |= _basic_selector_access(view, trail, bucket) | _advanced_selector_access(
                    trail, bucket
                )
            if access == {"read", "write"}:
                findings.append(
                    self.passed(bucket.address, f"object reads and writes on {bucket.label} are logged")
                )
            else:
                missing = " and ".join(sorted({"read", "write"} - access))
                findings.append(
                    self.failed(bucket.address, f"no CloudTrail data events for {missing}s on {bucket.label}")
                )
        return findings


# -------------------------------------------------------------------------------------- vault lock


class BackupVaultLockOnEveryVault(PlanCheck):
    id = "CKV_MEDSPA_106"
    name = "Ensure every AWS Backup vault has a vault lock configuration"
    hipaa = ("164.308(a)(7)(ii)(A)", "164.312(c)(1)")

    def run(self, plan: dict[str, Any]) -> list[PlanFinding]:
        view = PlanView(plan)
        vaults = view.of_type("aws_backup_vault")
        if not vaults:
            return [self.failed(PLAN_ADDRESS, "no AWS Backup vault in the plan")]
        findings = []
        for vault in vaults:
            if view.referencing("aws_backup_vault_lock_configuration", "backup_vault_name", vault):
                findings.append(self.passed(vault.address, f"vault {vault.label} is locked"))
            else:
                findings.append(self.failed(vault.address, f"vault {vault.label} has no vault lock"))
        return findings


# ------------------------------------------------------------------------------ PHI bucket companions


def _cmk_encrypted(configuration: Resource) -> bool:
    rules = blocks(configuration.get("rule"))
    if not rules:
        return False
    for rule in rules:
        defaults = blocks(rule.get("apply_server_side_encryption_by_default"))
        if not defaults:
            return False
        for default in defaults:
            key = first(default.get("kms_master_key_id"))
            if first(default.get("sse_algorithm")) not in ("aws:kms", "aws:kms:dsse"):
                return False
            if not isinstance(key, str) or not key.strip() or AWS_MANAGED_KEY.search(key):
                return False
    return True


class PhiBucketsUseCustomerManagedKey(PlanCheck):
    id = "CKV_MEDSPA_107"
    name = "Ensure every PHI bucket has default encryption with a customer-managed KMS key"
    hipaa = ("164.312(a)(2)(iv)",)

    def run(self, plan: dict[str, Any]) -> list[PlanFinding]:
        view = PlanView(plan)
        buckets = phi_buckets(view)
        if not buckets:
            return _no_phi_bucket(self)
        findings = []
        for bucket in buckets:
            configs = view.referencing("aws_s3_bucket_server_side_encryption_configuration", "bucket", bucket)
            if configs and all(_cmk_encrypted(c) for c in configs):
                findings.append(
                    self.passed(bucket.address, f"{bucket.label} is encrypted with the spa's key")
                )
            elif configs:
                findings.append(
                    self.failed(
                        bucket.address, f"{bucket.label} is not encrypted with a customer-managed key"
                    )
                )
            else:
                findings.append(
                    self.failed(bucket.address, f"{bucket.label} has no default encryption configuration")
                )
        return findings


class PhiBucketsTlsOnly(PlanCheck):
    id = "CKV_MEDSPA_108"
    name = "Ensure every PHI bucket has a bucket policy that denies requests without TLS"
    hipaa = ("164.312(e)(1)", "164.312(e)(2)(ii)")

    def run(self, plan: dict[str, Any]) -> list[PlanFinding]:
        view = PlanView(plan)
        buckets = phi_buckets(view)
        if not buckets:
            return _no_phi_bucket(self)
        findings = []
        for bucket in buckets:
            policies = view.referencing("aws_s3_bucket_policy", "bucket", bucket)
            if any(denies_plaintext(policy_document(p.get("policy"))) for p in policies):
                findings.append(self.passed(bucket.address, f"{bucket.label} refuses plaintext requests"))
            else:
                findings.append(self.failed(bucket.address, f"{bucket.label} has no TLS-only bucket policy"))
        return findings


# ----------------------------------------------------------------------------------- trail storage


def _locked_six_years(configuration: Resource) -> bool:
    for rule in blocks(configuration.get("rule")):
        for retention in blocks(rule.get("default_retention")):
            if first(retention.get("mode")) != "COMPLIANCE":
                return False
            days, years = first(retention.get("days")), first(retention.get("years"))
            kept = (
                days
                if isinstance(days, (int, float))
                else (years * 365.25 if isinstance(years, (int, float)) else 0)
            )
            return bool(kept >= OBJECT_LOCK_FLOOR_DAYS)
    return False


class TrailBucketObjectLock(PlanCheck):
    id = "CKV_MEDSPA_109"
    name = "Ensure CloudTrail's log archive bucket has Object Lock in COMPLIANCE mode for at least 2192 days"
    hipaa = ("164.312(c)(1)", "164.316(b)(2)(i)")

    def run(self, plan: dict[str, Any]) -> list[PlanFinding]:
        view = PlanView(plan)
        trails = view.of_type("aws_cloudtrail")
        if not trails:
            return [self.failed(PLAN_ADDRESS, "no CloudTrail trail in the plan, so there is no log archive")]
        findings = []
        for trail in trails:
            archives = [
                b for b in view.of_type("aws_s3_bucket") if view.refers_to(trail, "s3_bucket_name", b)
            ]
            if not archives:
                findings.append(
                    self.failed(trail.address, f"the bucket of trail {trail.label} is not in the plan")
                )
                continue
            for bucket in archives:
                locks = view.referencing("aws_s3_bucket_object_lock_configuration", "bucket", bucket)
                if not truthy(bucket.get("object_lock_enabled")):
                    findings.append(
                        self.failed(bucket.address, f"log archive {bucket.label} has Object Lock off")
                    )
                elif not any(_locked_six_years(lock) for lock in locks):
                    findings.append(
                        self.failed(
                            bucket.address, f"log archive {bucket.label} has no COMPLIANCE lock of 2192+ days"
                        )
                    )
                else:
                    findings.append(
                        self.passed(bucket.address, f"log archive {bucket.label} is locked for 6 years")
                    )
        return findings


class TrailLogGroupRetention(PlanCheck):
    id = "CKV_MEDSPA_110"
    name = "Ensure the log group CloudTrail delivers to keeps events at least 2192 days"
    hipaa = ("164.312(b)", "164.316(b)(2)(i)")

    def run(self, plan: dict[str, Any]) -> list[PlanFinding]:
        view = PlanView(plan)
        trails = view.of_type("aws_cloudtrail")
        if not trails:
            return [self.failed(PLAN_ADDRESS, "no CloudTrail trail in the plan")]
        findings = []
        for trail in trails:
            arns = view.attribute_strings(trail, "cloud_watch_logs_group_arn")
            groups = [
                g
                for g in view.of_type("aws_cloudwatch_log_group")
                if any(mentions(a, g) or f":log-group:{g.get('name')}" in a for a in arns)
            ]
            if not groups:
                findings.append(
                    self.failed(trail.address, f"trail {trail.label} delivers to no log group in the plan")
                )
                continue
            for group in groups:
                days = first(group.get("retention_in_days"))
                if days in (None, 0) or (
                    isinstance(days, (int, float)) and days >= CLOUDTRAIL_RETENTION_FLOOR_DAYS
                ):
                    findings.append(
                        self.passed(group.address, f"{group.label} keeps CloudTrail events 6 years")
                    )
                else:
                    findings.append(
                        self.failed(group.address, f"{group.label} keeps CloudTrail events {days} days")
                    )
        return findings
