"""Shared fixtures: every stack file in stacks/ is synthesized once per session and is a test case."""

from __future__ import annotations

import pytest

from infra.config import SpaConfig, list_stacks, load_stack
from scripts import paths
from scripts.synth import Synthesis, synthesize

STACKS = list_stacks(paths.stacks_dir())
_CACHE: dict[str, Synthesis] = {}


def synth_stack(spa: str) -> Synthesis:
    if spa not in _CACHE:
        _CACHE[spa] = synthesize(load_stack(paths.stacks_dir(), spa))
    return _CACHE[spa]


@pytest.fixture(params=STACKS, ids=STACKS)
def stack_synthesis(request: pytest.FixtureRequest) -> Synthesis:
    """The offline synthesis of one bundled stack (each stack in stacks/ runs every invariant)."""
    return synth_stack(request.param)


@pytest.fixture
def demo_config() -> SpaConfig:
    return load_stack(paths.stacks_dir(), "demo")
