"""Keys invariants for every bundled stack: 164.312(a)(2)(iv) encryption, keys never deleted by accident."""

from __future__ import annotations

from scripts.synth import Synthesis
from tests.support import policy_document, statements

KEY = "aws:kms/key:Key"


def test_every_key_rotates(stack_synthesis: Synthesis) -> None:
    for key in stack_synthesis.of_type(KEY):
        assert key.inputs.get("enableKeyRotation") is True, (
            f"{key.name}: KMS key rotation must be on (164.312(a)(2)(iv))"
        )


def test_every_key_has_a_thirty_day_deletion_window(stack_synthesis: Synthesis) -> None:
    for key in stack_synthesis.of_type(KEY):
        assert key.inputs.get("deletionWindowInDays") == 30, (
            f"{key.name}: deletion window must be 30 days to allow cancelling (164.312(c)(1))"
        )


def test_every_key_is_protected_from_deletion(stack_synthesis: Synthesis) -> None:
    for key in stack_synthesis.of_type(KEY):
        assert key.protect and key.retain_on_delete, (
            f"{key.name}: KMS key must be protected and retained on delete (164.312(a)(2)(iv))"
        )


def test_separate_keys_per_purpose(stack_synthesis: Synthesis) -> None:
    purposes = {
        k.inputs["tags"]["Purpose"] for k in stack_synthesis.of_type(KEY) if k.parent.endswith("::keys")
    }
    assert {"data", "logs", "backup"} <= purposes, (
        f"keys: separate data, logs and backup keys expected, found {sorted(purposes)} (164.312(a)(2)(iv))"
    )


def test_every_key_has_an_alias(stack_synthesis: Synthesis) -> None:
    aliases = stack_synthesis.of_type("aws:kms/alias:Alias")
    for key in stack_synthesis.of_type(KEY):
        linked = [a for a in aliases if key.urn in a.property_dependencies.get("targetKeyId", [])]
        assert linked, f"{key.name}: KMS key needs an alias so operators find it (164.312(a)(2)(iv))"


def test_no_key_policy_grants_a_wildcard_principal_without_conditions(stack_synthesis: Synthesis) -> None:
    for key in stack_synthesis.of_type(KEY):
        for statement in statements(policy_document(key.inputs["policy"])):
            principal = statement.get("Principal")
            if statement.get("Effect") == "Allow" and principal in ("*", {"AWS": "*"}):
                assert statement.get("Condition"), (
                    f"{key.name}: statement {statement.get('Sid')} allows any principal without a "
                    "condition (164.312(a)(1))"
                )


def test_service_principals_are_conditioned(stack_synthesis: Synthesis) -> None:
    for key in stack_synthesis.of_type(KEY):
        for statement in statements(policy_document(key.inputs["policy"])):
            principal = statement.get("Principal")
            if isinstance(principal, dict) and "Service" in principal:
                assert statement.get("Condition"), (
                    f"{key.name}: service statement {statement.get('Sid')} needs a condition "
                    "limiting it to this account (164.312(a)(1))"
                )
