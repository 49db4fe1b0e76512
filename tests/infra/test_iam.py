"""Workforce access invariants for every bundled stack.

164.308(a)(3) workforce security, 164.308(a)(4) information access management, 164.308(a)(5)(ii)(D)
password management, 164.312(a)(1) access control, 164.312(a)(2)(i) unique user identification,
164.312(a)(2)(ii) emergency access, 164.312(d) person or entity authentication.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from infra.config import load_stack
from infra.iam import (
    LONG_LIVED_CREDENTIAL_ACTIONS,
    TAMPERING_ACTIONS,
    WORKFORCE_ROLES,
    WorkforceAccessArgs,
    boundary_arn,
    workforce_trust_policy,
)
from scripts import paths
from scripts.synth import MOCK_ACCOUNT_ID, ResourceRecord, Synthesis
from tests.support import as_list, depends_on, policy_document, statements

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PASSWORD_POLICY = "aws:iam/accountPasswordPolicy:AccountPasswordPolicy"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
# Long-lived, per-person credentials the kit must never create (164.312(a)(2)(i), 164.312(d)).
FORBIDDEN_TYPES = {
    "aws:iam/user:User",
    "aws:iam/accessKey:AccessKey",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/userLoginProfile:UserLoginProfile",
    "aws:iam/userGroupMembership:UserGroupMembership",
    "aws:iam/groupMembership:GroupMembership",
    "aws:iam/serviceSpecificCredential:ServiceSpecificCredential",
    "aws:iam/signingCertificate:SigningCertificate",
    "aws:iam/sshKey:SshKey",
}
MAX_SESSION_SECONDS = 3600
BREAK_GLASS = "break-glass"


# ------------------------------------------------------------------------------------------ helpers


def _allowlist(synthesis: Synthesis) -> tuple[str, ...]:
    return load_stack(paths.stacks_dir(), synthesis.spa).allowlist_cidrs


def _roles(synthesis: Synthesis) -> dict[str, ResourceRecord]:
    """The workforce roles by job, from the component's children (named iam-<role>)."""
    return {role: synthesis.one(ROLE, f"iam-{role}") for role in WORKFORCE_ROLES}


def _attached(synthesis: Synthesis, role: ResourceRecord) -> list[ResourceRecord]:
    return [a for a in synthesis.of_type(ATTACHMENT) if depends_on(a, role, "role")]


def _inline(synthesis: Synthesis, role: ResourceRecord) -> list[dict[str, Any]]:
    return [
        s
        for p in synthesis.of_type(ROLE_POLICY)
        if depends_on(p, role, "role")
        for s in statements(policy_document(p.inputs["policy"]))
    ]


def trust_problems(document: dict[str, Any], account_id: str, cidrs: Sequence[str]) -> list[str]:
    """What a workforce trust policy lacks: every Allow needs this account, MFA and the allow-list."""
    problems = []
    allows = [s for s in statements(document) if s.get("Effect") == "Allow"]
    if not allows:
        problems.append("no Allow statement")
    for statement in allows:
        principal = (
            as_list((statement.get("Principal") or {}).get("AWS"))
            if statement.get("Principal") != "*"
            else ["*"]
        )
        if principal != [f"arn:aws:iam::{account_id}:root"]:
            problems.append(f"principal {principal} is not this account")
        condition = statement.get("Condition") or {}
        if (condition.get("Bool") or {}).get("aws:MultiFactorAuthPresent") != "true":
            problems.append("MFA is not required (aws:MultiFactorAuthPresent)")
        if sorted(as_list((condition.get("IpAddress") or {}).get("aws:SourceIp"))) != sorted(cidrs):
            problems.append("source IP is not limited to the allow-list (aws:SourceIp)")
    return problems


# ---------------------------------------------------------------------------------- password policy


def test_password_policy_meets_the_kits_minimums(stack_synthesis: Synthesis) -> None:
    policy = stack_synthesis.one(PASSWORD_POLICY, "iam-password-policy")
    inputs = policy.inputs
    assert inputs.get("minimumPasswordLength", 0) >= 14, (
        f"{policy.name}: passwords must be 14+ characters (164.308(a)(5)(ii)(D))"
    )
    assert all(
        inputs.get(k) is True
        for k in (
            "requireLowercaseCharacters",
            "requireUppercaseCharacters",
            "requireNumbers",
            "requireSymbols",
        )
    ), f"{policy.name}: every character class must be required (164.308(a)(5)(ii)(D))"
    assert inputs.get("passwordReusePrevention") == 24, (
        f"{policy.name}: the last 24 passwords must not be reused (164.308(a)(5)(ii)(D))"
    )
    assert 0 < inputs.get("maxPasswordAge", 0) <= 90, (
        f"{policy.name}: passwords must expire within 90 days (164.308(a)(5)(ii)(D))"
    )


# ------------------------------------------------------------------------------------------- roles


def test_one_role_per_workforce_job(stack_synthesis: Synthesis) -> None:
    workforce = {r.name for r in stack_synthesis.of_type(ROLE) if r.name.startswith("iam-")}
    expected = {f"iam-{role}" for role in WORKFORCE_ROLES}
    assert workforce == expected, f"workforce roles {sorted(workforce)} != {sorted(expected)} (164.308(a)(3))"
    assert set(WORKFORCE_ROLES) == {
        "admin",
        "clinician",
        "front-desk",
        "auditor",
        "backup-operator",
        BREAK_GLASS,
    }


def test_every_role_requires_mfa_and_the_allowlist_to_assume(stack_synthesis: Synthesis) -> None:
    cidrs = _allowlist(stack_synthesis)
    for role in _roles(stack_synthesis).values():
        problems = trust_problems(policy_document(role.inputs["assumeRolePolicy"]), MOCK_ACCOUNT_ID, cidrs)
        assert not problems, f"{role.name}: trust policy {problems} (164.312(d), 164.312(a)(1))"


def test_trust_checker_catches_a_policy_without_mfa_or_allowlist() -> None:
    cidrs = ["203.0.113.0/24"]
    good = json.loads(workforce_trust_policy("aws", MOCK_ACCOUNT_ID, cidrs, elevated=False))
    assert not trust_problems(good, MOCK_ACCOUNT_ID, cidrs), "the kit's own trust policy must pass"
    no_mfa = json.loads(json.dumps(good))
    del no_mfa["Statement"][0]["Condition"]["Bool"]
    assert trust_problems(no_mfa, MOCK_ACCOUNT_ID, cidrs), (
        "a trust without MFA must be reported (negative control)"
    )
    anywhere = json.loads(json.dumps(good))
    del anywhere["Statement"][0]["Condition"]["IpAddress"]
    assert trust_problems(anywhere, MOCK_ACCOUNT_ID, cidrs), "a trust from anywhere must be reported"
    other = json.loads(workforce_trust_policy("aws", "999999999999", cidrs, elevated=False))
    assert trust_problems(other, MOCK_ACCOUNT_ID, cidrs), "another account's principal must be reported"


def test_elevated_roles_require_a_recent_mfa(stack_synthesis: Synthesis) -> None:
    roles = _roles(stack_synthesis)
    for job in ("admin", BREAK_GLASS):
        trust = statements(policy_document(roles[job].inputs["assumeRolePolicy"]))
        ages = [s["Condition"].get("NumericLessThanEquals", {}).get("aws:MultiFactorAuthAge") for s in trust]
        assert ages and all(age is not None and int(age) <= 3600 for age in ages), (
            f"{roles[job].name}: MFA must be at most an hour old to assume it (164.312(d))"
        )


def test_sessions_last_at_most_an_hour_and_break_glass_no_longer(stack_synthesis: Synthesis) -> None:
    roles = _roles(stack_synthesis)
    durations = {job: role.inputs.get("maxSessionDuration", 3600) for job, role in roles.items()}
    for job, seconds in durations.items():
        assert seconds <= MAX_SESSION_SECONDS, (
            f"{roles[job].name}: sessions of {seconds}s exceed an hour (164.312(a)(2)(iii))"
        )
    assert durations[BREAK_GLASS] <= min(durations.values()), (
        f"{roles[BREAK_GLASS].name}: emergency sessions must not outlast the others (164.312(a)(2)(ii))"
    )


def test_every_role_is_under_the_workforce_boundary(stack_synthesis: Synthesis) -> None:
    boundary = stack_synthesis.one(POLICY, "iam-boundary")
    expected = boundary_arn("aws", MOCK_ACCOUNT_ID, stack_synthesis.spa)
    for role in _roles(stack_synthesis).values():
        assert depends_on(role, boundary, "permissionsBoundary"), (
            f"{role.name}: permissions boundary must be the workforce boundary (164.308(a)(4))"
        )
        assert role.inputs.get("permissionsBoundary") == expected, (
            f"{role.name}: boundary ARN {role.inputs.get('permissionsBoundary')} != {expected}; the boundary's "
            "own deny on CreateRole names this ARN (164.308(a)(4))"
        )


def test_every_role_has_the_workforce_ip_policy_attached(stack_synthesis: Synthesis) -> None:
    ip_policy = stack_synthesis.one(POLICY, "allowlist-workforce-ip")
    for role in _roles(stack_synthesis).values():
        assert any(depends_on(a, ip_policy, "policyArn") for a in _attached(stack_synthesis, role)), (
            f"{role.name}: the allow-list's workforce IP policy must be attached (164.312(a)(1))"
        )


def test_break_glass_role_has_the_name_the_alarm_watches(stack_synthesis: Synthesis) -> None:
    role = _roles(stack_synthesis)[BREAK_GLASS]
    name = f"{stack_synthesis.spa}-break-glass"
    assert role.inputs.get("name") == name, (
        f"{role.name}: IAM name must be exactly {name!r} (164.312(a)(2)(ii))"
    )
    watching = [f for f in stack_synthesis.of_type(FILTER) if f"*{name}*" in f.inputs.get("pattern", "")]
    assert watching, f"{role.name}: a CloudTrail metric filter must match {name!r} (164.312(a)(2)(ii))"


def test_no_iam_users_or_long_lived_credentials_anywhere(stack_synthesis: Synthesis) -> None:
    found = sorted({r.type for r in stack_synthesis.resources if r.type in FORBIDDEN_TYPES})
    assert not found, (
        f"the program creates {found}; use roles with MFA instead (164.312(a)(2)(i), 164.312(d))"
    )


# ---------------------------------------------------------------------------------------- boundary


def test_boundary_denies_tampering_and_long_lived_credentials(stack_synthesis: Synthesis) -> None:
    boundary = stack_synthesis.one(POLICY, "iam-boundary")
    denied = {
        action
        for s in statements(policy_document(boundary.inputs["policy"]))
        if s.get("Effect") == "Deny" and s.get("Resource") == "*" and not s.get("Condition")
        for action in as_list(s.get("Action"))
    }
    for action in (*TAMPERING_ACTIONS, *LONG_LIVED_CREDENTIAL_ACTIONS):
        assert action in denied, f"{boundary.name}: must deny {action} everywhere (164.312(b), 164.312(c)(1))"
    assert {"cloudtrail:StopLogging", "iam:CreateAccessKey", "iam:CreateUser"} <= denied, (
        f"{boundary.name}: must deny stopping CloudTrail and creating users or keys (164.312(b), 164.312(a)(2)(i))"
    )


def test_boundary_denies_creating_roles_without_it(stack_synthesis: Synthesis) -> None:
    boundary = stack_synthesis.one(POLICY, "iam-boundary")
    expected = boundary_arn("aws", MOCK_ACCOUNT_ID, stack_synthesis.spa)
    guarded = [
        s
        for s in statements(policy_document(boundary.inputs["policy"]))
        if s.get("Effect") == "Deny"
        and "iam:CreateRole" in as_list(s.get("Action"))
        and s.get("Condition", {}).get("StringNotEquals", {}).get("iam:PermissionsBoundary") == expected
    ]
    assert guarded, f"{boundary.name}: roles created under it must carry it too (164.308(a)(4))"


# ------------------------------------------------------------------------------- least privilege


def test_only_break_glass_has_administrator_access(stack_synthesis: Synthesis) -> None:
    for job, role in _roles(stack_synthesis).items():
        managed = {a.inputs.get("policyArn") for a in _attached(stack_synthesis, role)}
        has_admin = "arn:aws:iam::aws:policy/AdministratorAccess" in managed
        assert has_admin == (job == BREAK_GLASS), (
            f"{role.name}: AdministratorAccess is for the emergency role only (164.308(a)(4), 164.312(a)(2)(ii))"
        )


def test_auditor_can_never_read_phi(stack_synthesis: Synthesis) -> None:
    role = _roles(stack_synthesis)["auditor"]
    denies = [s for s in _inline(stack_synthesis, role) if s.get("Effect") == "Deny"]
    denied_actions = {a for s in denies for a in as_list(s.get("Action"))}
    assert {"kms:Decrypt", "s3:GetObject*"} <= denied_actions, (
        f"{role.name}: must be denied PHI objects and the data key (164.308(a)(4) minimum necessary)"
    )


def test_front_desk_can_never_delete_phi(stack_synthesis: Synthesis) -> None:
    role = _roles(stack_synthesis)["front-desk"]
    allowed = {
        a for s in _inline(stack_synthesis, role) if s.get("Effect") == "Allow" for a in as_list(s["Action"])
    }
    assert not any("Delete" in a or a.endswith("*") for a in allowed), (
        f"{role.name}: front desk may read and upload only, found {sorted(allowed)} (164.308(a)(4))"
    )


@pytest.mark.parametrize("job", ["clinician", "front-desk", "backup-operator"])
def test_job_roles_have_no_managed_policies_beyond_the_ip_policy(
    stack_synthesis: Synthesis, job: str
) -> None:
    role = _roles(stack_synthesis)[job]
    ip_policy = stack_synthesis.one(POLICY, "allowlist-workforce-ip")
    extra = [a.name for a in _attached(stack_synthesis, role) if not depends_on(a, ip_policy, "policyArn")]
    assert not extra, (
        f"{role.name}: only its own scoped inline policy may grant access, found {extra} (164.308(a)(4))"
    )


def test_clinician_phi_access_is_limited_to_the_phi_buckets(stack_synthesis: Synthesis) -> None:
    role = _roles(stack_synthesis)["clinician"]
    config = load_stack(paths.stacks_dir(), stack_synthesis.spa)
    buckets = {
        f"arn:aws:s3:::{stack_synthesis.one('aws:s3/bucket:Bucket', f'storage-{phi}').inputs['bucket']}"
        for phi in config.phi_buckets
    }
    for statement in _inline(stack_synthesis, role):
        if statement.get("Effect") != "Allow" or not any(
            a.startswith("s3:") for a in as_list(statement["Action"])
        ):
            continue
        resources = as_list(statement["Resource"])
        if resources == ["*"]:
            assert as_list(statement["Action"]) == ["s3:ListAllMyBuckets"], (
                f"{role.name}: S3 on every resource may only list bucket names (164.308(a)(4))"
            )
            continue
        outside = [r for r in resources if r.removesuffix("/*") not in buckets]
        assert not outside, f"{role.name}: S3 access outside the PHI buckets: {outside} (164.308(a)(4))"


def test_grants_on_every_resource_name_explicit_actions_only(stack_synthesis: Synthesis) -> None:
    for role in _roles(stack_synthesis).values():
        for statement in _inline(stack_synthesis, role):
            if statement.get("Effect") != "Allow" or as_list(statement.get("Resource")) != ["*"]:
                continue
            patterns = [a for a in as_list(statement.get("Action")) if "*" in a]
            assert not patterns, (
                f"{role.name}: {statement.get('Sid')} grants {patterns} on every resource; only actions that "
                "support no narrower resource may use '*', each by name (164.308(a)(4) minimum necessary)"
            )


def test_boundary_denies_silencing_the_spas_alerts(stack_synthesis: Synthesis) -> None:
    boundary = stack_synthesis.one(POLICY, "iam-boundary")
    spa = stack_synthesis.spa
    silencing = [
        s
        for s in statements(policy_document(boundary.inputs["policy"]))
        if s.get("Effect") == "Deny"
        and {"events:DisableRule", "sns:DeleteTopic"} <= set(as_list(s.get("Action")))
    ]
    resources = {r for s in silencing for r in as_list(s.get("Resource"))}
    assert any(f"rule/{spa}-" in r for r in resources) and any(
        f":{spa}-" in r and ":sns:" in r for r in resources
    ), (
        f"{boundary.name}: no workforce role may disable the spa's findings rules or its alert topic "
        "(164.308(a)(6)(ii))"
    )


def test_workforce_access_refuses_an_empty_allowlist() -> None:
    with pytest.raises(ValueError, match=r"164\.312\(a\)\(1\)"):
        WorkforceAccessArgs(allowlist_cidrs=(), data_key_arn="arn:key", workforce_ip_policy_arn="arn:policy")
