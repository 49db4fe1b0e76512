"""Read every config key the engine passed to the program, so unknown keys can be rejected."""

from __future__ import annotations

from pulumi.runtime import config as runtime_config


def runtime_config_values() -> dict[str, str]:
    """All fully-qualified config keys, from explicit settings and from the engine's environment."""
    values: dict[str, str] = {}
    values.update(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    return values
