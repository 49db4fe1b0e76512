"""The spa environment as one Pulumi program: validated config in, secure components out.

Both `pulumi up` (through infra/__main__.py) and the offline synth call `build`, so what CI checks
is exactly what deploys.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config import SpaConfig
from infra.context import SpaContext
from infra.keys import Keys, KeysArgs


@dataclass
class SpaEnvironment:
    """Handles on the components, for tests and for later components that build on earlier ones."""

    ctx: SpaContext
    keys: Keys


def build(config: SpaConfig) -> SpaEnvironment:
    """Create every resource of the spa; config was validated before this is called."""
    identity = aws.get_caller_identity_output()
    ctx = SpaContext(config=config, account_id=identity.account_id)
    keys = Keys("keys", KeysArgs(region=config.region), ctx)
    # COMPONENTS: later components are wired here, in dependency order.
    env = SpaEnvironment(ctx=ctx, keys=keys)
    pulumi.export("spa", config.spa)
    pulumi.export("region", config.region)
    pulumi.export("drRegion", config.dr_region)
    pulumi.export("dataKeyArn", keys.data_key.arn)
    return env
