"""Entry point that `pulumi up` / `pulumi preview` run (Pulumi.yaml: main: infra/)."""

from __future__ import annotations

import pulumi

from infra.config import ConfigError, from_pulumi_runtime
from infra.program import build
from infra.pulumi_config import runtime_config_values

try:
    _config = from_pulumi_runtime(pulumi.get_stack(), runtime_config_values())
except ConfigError as error:
    # RunError ends the program with this one line instead of a traceback.
    raise pulumi.RunError(f"invalid stack config: {error}") from None

build(_config)
