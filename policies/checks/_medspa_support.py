"""Helpers shared by the medspa checkov checks (not a check itself: it registers nothing).

checkov's terraform_plan framework hands a check each resource's `values` "HCL-ified": every scalar
is wrapped in a one-element list, every block is a list of dicts, `tags` is `[{...}]` and JSON
policies are parsed into `[{...}]`. These helpers read such confs without caring how deeply a value is
wrapped, so a check says what it means instead of indexing lists. checkov loads this file like a check
(it imports every .py in the directory); the leading underscore tells our own tests it is a helper.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

AWS_MANAGED_KEY = re.compile(r"(^|[:/])alias/aws/")
RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
# Unique local IPv6 (fd00::/8 inside fc00::/7) is the IPv6 counterpart of RFC 1918.
IPV6_PRIVATE = (ipaddress.ip_network("fc00::/7"),)
SECRET = "[secret]"


def scalar(value: Any) -> Any:
    """The value inside any number of one-element list wrappers (None when absent or empty)."""
    while isinstance(value, list):
        if not value:
            return None
        if len(value) != 1:
            return value
        value = value[0]
    return value


def attr(conf: dict[str, Any], key: str) -> Any:
    """A scalar attribute of a resource conf or of a block."""
    return scalar(conf.get(key)) if isinstance(conf, dict) else None


def flat(value: Any) -> list[Any]:
    """Every non-empty leaf of a (nested) list, in order."""
    if value is None:
        return []
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            out.extend(flat(item))
        return out
    if isinstance(value, str) and not value.strip():
        return []
    return [value]


def strings(conf: dict[str, Any], key: str) -> list[str]:
    """A list-of-strings attribute, flattened."""
    return [str(v) for v in flat(conf.get(key)) if not isinstance(v, dict)] if isinstance(conf, dict) else []


def blocks(conf: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """A nested block (list of dicts in Terraform's JSON), however it is wrapped."""
    if not isinstance(conf, dict):
        return []
    return [v for v in flat(conf.get(key)) if isinstance(v, dict)]


def truthy(value: Any) -> bool:
    value = scalar(value)
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def number(value: Any) -> float | None:
    """A numeric attribute, or None when absent or not a number (an unresolved reference)."""
    value = scalar(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def tags(conf: dict[str, Any]) -> dict[str, str]:
    """`tags_all` merged with `tags` (both maps)."""
    merged: dict[str, str] = {}
    for key in ("tags_all", "tags"):
        for block in blocks(conf, key):
            for name, value in block.items():
                if name not in ("start_line", "end_line", "__startline__", "__endline__"):
                    merged[str(name)] = str(scalar(value))
    return merged


def is_customer_managed_key(value: Any) -> bool:
    """A KMS key id, ARN, alias or reference that is set and is not an AWS-managed `alias/aws/*` key."""
    value = scalar(value)
    if not isinstance(value, str) or not value.strip():
        return False
    if value == SECRET:
        return False
    return not AWS_MANAGED_KEY.search(value.strip())


def policy_document(conf: dict[str, Any], key: str = "policy") -> dict[str, Any] | None:
    """A JSON policy attribute as a dict (checkov parses it for known types; a string is parsed here)."""
    value = scalar(conf.get(key))
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def cidr_inside_private(cidr: str) -> bool:
    """True when the CIDR lies inside RFC 1918 (IPv4) or unique-local (IPv6) space: inside a VPC.

    A Terraform-style reference to a VPC's own CIDR block (`aws_vpc.x.cidr_block`) counts as inside.
    Anything unparseable is outside: an unknown source must never pass.
    """
    text = cidr.strip()
    if re.match(r"^(module\.[\w-]+\.)*aws_vpc\.[\w-]+\.cidr_block$", text):
        return True
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    private = RFC1918 if network.version == 4 else IPV6_PRIVATE
    return any(network.subnet_of(p) for p in private if p.version == network.version)  # type: ignore[arg-type]
