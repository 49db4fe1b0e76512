"""The restore key must be usable before a drill starts: a disabled key turns every restore into a failure.

A key that is disabled or pending deletion is itself a contingency-plan finding: encrypted backups
(164.312(a)(2)(iv)) are unrecoverable once their key is gone (164.308(a)(7)(ii)(A)-(B)). The drill
refuses to start, with a reason that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from scripts.drill.model import error_code

# Where infra/keys.py and infra/backups.py put the keys a restore is encrypted with.
DATA_KEY_ALIAS = "alias/{spa}/data"
DR_KEY_ALIAS = "alias/{spa}/backup-dr"

_ADVICE = {
    "Disabled": "enable it (kms enable-key) before restoring",
    "PendingDeletion": "cancel the deletion (kms cancel-key-deletion) now, or its backups are lost for good",
    "PendingReplicaDeletion": "cancel the replica's deletion before restoring",
    "Unavailable": "its key material store is unreachable; reconnect it before restoring",
    "PendingImport": "import its key material before restoring",
}


def restore_key_alias(spa: str, *, dr: bool) -> str:
    """The data key in the primary region; the DR backup key when restoring in the DR region."""
    return (DR_KEY_ALIAS if dr else DATA_KEY_ALIAS).format(spa=spa)


@dataclass(frozen=True)
class KeyStatus:
    """What DescribeKey said about a key; ``problem`` is None when it can encrypt and decrypt."""

    arn: str | None
    problem: str | None

    @property
    def usable(self) -> bool:
        return self.problem is None


def inspect_key(kms: Any, key_id: str) -> KeyStatus:
    """DescribeKey, and a one-line reason when the key cannot serve a restore."""
    try:
        metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    except ClientError as error:
        code = error_code(error)
        if code == "NotFoundException":
            return KeyStatus(None, f"restore key {key_id} does not exist")
        return KeyStatus(None, f"restore key {key_id} cannot be read (AWS error {code})")
    arn = str(metadata["Arn"])
    state = str(metadata.get("KeyState", ""))
    if state == "Enabled" and metadata.get("Enabled", True):
        return KeyStatus(arn, None)
    when = ""
    if state == "PendingDeletion" and metadata.get("DeletionDate") is not None:
        when = f" (deletion on {metadata['DeletionDate']:%Y-%m-%d})"
    advice = _ADVICE.get(state, "make it usable before restoring")
    return KeyStatus(arn, f"restore key {key_id} ({arn}) is {state}{when}: {advice}")
