"""Negative controls: weaken a component and show the invariant tests catch it.

An invariant test that passes on a weakened environment proves nothing; each case here builds a
weakened synthesis (by changing a component's input, or the recorded result) and asserts the invariant
test fails on it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from infra import keys as keys_module
from infra.config import load_stack
from scripts import paths
from scripts.synth import Synthesis, synthesize
from tests.conftest import synth_stack
from tests.infra import test_keys


def _mutated(mutate: Callable[[Synthesis], None]) -> Synthesis:
    synthesis = copy.deepcopy(synth_stack("demo"))
    mutate(synthesis)
    return synthesis


def _set_input(type_token: str, key: str, value: object) -> Callable[[Synthesis], None]:
    def mutate(synthesis: Synthesis) -> None:
        target = synthesis.of_type(type_token)[0]
        target.inputs[key] = value

    return mutate


def test_weakened_key_deletion_window_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys_module, "DELETION_WINDOW_DAYS", 7)
    weakened = synthesize(load_stack(paths.stacks_dir(), "demo"))
    with pytest.raises(AssertionError, match="deletion window"):
        test_keys.test_every_key_has_a_thirty_day_deletion_window(weakened)


def test_rotation_off_is_caught() -> None:
    weakened = _mutated(_set_input("aws:kms/key:Key", "enableKeyRotation", False))
    with pytest.raises(AssertionError, match="rotation"):
        test_keys.test_every_key_rotates(weakened)


def test_unprotected_key_is_caught() -> None:
    def unprotect(synthesis: Synthesis) -> None:
        synthesis.of_type("aws:kms/key:Key")[0].protect = False

    with pytest.raises(AssertionError, match="protected"):
        test_keys.test_every_key_is_protected_from_deletion(_mutated(unprotect))
