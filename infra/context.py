"""One naming and tagging context shared by every component, so names and tags never drift."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pulumi

from infra.config import SpaConfig

BACKUP_TAG_KEY = "medspa:backup"
BACKUP_TAG_VALUE = "phi"


class DataClassification(StrEnum):
    """What a resource holds; auditors filter on this tag (164.308(a)(1)(ii)(A) risk analysis)."""

    PHI = "PHI"
    AUDIT = "Audit"
    BACKUP = "Backup"
    CONFIDENTIAL = "Confidential"
    INTERNAL = "Internal"


@dataclass(frozen=True)
class SpaContext:
    """Names, tags and account facts for one spa; built once by the program and passed down."""

    config: SpaConfig
    account_id: pulumi.Input[str]
    partition: str = "aws"
    extra_tags: dict[str, str] = field(default_factory=dict)

    @property
    def spa(self) -> str:
        return self.config.spa

    @property
    def region(self) -> str:
        return self.config.region

    def name(self, role: str) -> str:
        """Physical-ish name for a resource role, always prefixed with the spa."""
        return f"{self.spa}-{role}"

    def tags(self, classification: DataClassification, **extra: str) -> dict[str, str]:
        tags = {
            "Spa": self.spa,
            "Environment": self.config.environment.value,
            "DataClassification": classification.value,
            "Owner": str(self.config.owner),
            "ManagedBy": "medspa-kit",
        }
        if classification is DataClassification.PHI:
            tags[BACKUP_TAG_KEY] = BACKUP_TAG_VALUE
        tags.update(self.extra_tags)
        tags.update(extra)
        return tags

    @staticmethod
    def keep(opts: pulumi.ResourceOptions | None = None) -> pulumi.ResourceOptions:
        """Options for a store that must survive `pulumi destroy` and accidental deletion.

        `protect` makes the engine refuse to delete it; `retain_on_delete` leaves it in the account
        even if protection is lifted (164.310(d)(2)(iv), 164.316(b)(2)(i)).
        """
        keep = pulumi.ResourceOptions(protect=True, retain_on_delete=True)
        return pulumi.ResourceOptions.merge(opts, keep) if opts is not None else keep
