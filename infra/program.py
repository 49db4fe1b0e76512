"""The spa environment as one Pulumi program: validated config in, secure components out.

Both `pulumi up` (through infra/__main__.py) and the offline synth call `build`, so what CI checks
is exactly what deploys. Components are created in dependency order; each takes what it needs from
the earlier ones through its Args.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.alerts import Alerts, AlertsArgs
from infra.config import SpaConfig
from infra.context import SpaContext
from infra.keys import Keys, KeysArgs


@dataclass
class SpaEnvironment:
    """Handles on the components, for tests and for components that build on earlier ones."""

    ctx: SpaContext
    keys: Keys
    alerts: Alerts
    components: dict[str, Any] = field(default_factory=dict)


def build(config: SpaConfig) -> SpaEnvironment:
    """Create every resource of the spa; config was validated before this is called."""
    identity = aws.get_caller_identity_output()
    ctx = SpaContext(config=config, account_id=identity.account_id)
    keys = Keys("keys", KeysArgs(region=config.region), ctx)
    alerts = Alerts(
        "alerts", AlertsArgs(kms_key_arn=keys.logs_key.arn, emails=tuple(map(str, config.alert_emails))), ctx
    )
    env = SpaEnvironment(ctx=ctx, keys=keys, alerts=alerts)

    # WIRE: network
    # WIRE: allowlist
    # WIRE: storage
    # WIRE: database
    # WIRE: audit
    # WIRE: backups
    # WIRE: detection
    # WIRE: iam

    pulumi.export("spa", config.spa)
    pulumi.export("region", config.region)
    pulumi.export("drRegion", config.dr_region)
    pulumi.export("dataKeyArn", keys.data_key.arn)
    pulumi.export("alertTopicArn", alerts.topic.arn)
    return env
