"""The spa's stack configuration: one frozen, validated model read before any resource exists.

A typo or an unsafe value must never silently drop a control, so every key in the ``medspa:``
namespace is known to the model and every value is checked against the floors HIPAA practice sets.
"""

from __future__ import annotations

import importlib.resources
import ipaddress
import json
import re
from collections.abc import Mapping
from enum import Enum, StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

NAMESPACE = "medspa"

# Floors, each with the HIPAA section that motivates it (documented in docs/configuration.md).
LOG_RETENTION_FLOOR_DAYS = 365  # 164.312(b) audit controls: a year of activity to review
AUDIT_LOG_RETENTION_FLOOR_DAYS = 2192  # 164.316(b)(2)(i): documentation kept 6 years
BACKUP_RETENTION_FLOOR_DAYS = 35  # 164.308(a)(7)(ii)(A): daily backups, five weeks to notice loss
LONG_BACKUP_RETENTION_FLOOR_DAYS = 2192  # 164.316(b)(2)(i) and 164.310(d)(2)(iv)
VAULT_LOCK_CHANGEABLE_FLOOR_DAYS = 3  # AWS Backup's own minimum cooling-off period
COLD_STORAGE_GAP_DAYS = 90  # AWS Backup keeps cold-storage recovery points at least 90 days

# PHI buckets are named f"{spa}-phi-{role}-{account_id}": 5 + 1 + 12 characters besides spa and role.
PHI_BUCKET_NAME_OVERHEAD = len("-phi-") + len("-") + 12
S3_BUCKET_NAME_MAX = 63

# Broadest allow-list entry accepted: an office or contractor network, never an ISP's block.
MAX_IPV4_PREFIX_BREADTH = 22  # at most 1,024 addresses
MAX_IPV6_PREFIX_BREADTH = 48  # one site's allocation

# Retention values CloudWatch Logs accepts.
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip

# RDS engines AWS lists as HIPAA-eligible that this kit knows how to force TLS on.
# (Oracle, SQL Server and Db2 are eligible too but need licensing and option groups the kit does not build.)
DB_ENGINE_FAMILIES: dict[str, str] = {"postgres": "postgres", "mysql": "mysql", "mariadb": "mariadb"}
PREVIOUS_GENERATION_DB_CLASSES = re.compile(r"^db\.(t1|t2|m1|m2|m3|r3)\.")

_NON_ALLOWLIST_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
        "::1/128",
    )
]


class ConfigError(ValueError):
    """A stack's configuration cannot be used; the message is one line naming the key and value."""


def _check_allowlist_cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not a valid IPv4 or IPv6 CIDR") from exc
        raise ValueError(f"{value!r} has host bits set; did you mean {loose}?") from exc
    if network.prefixlen == 0:
        raise ValueError(f"{value!r} opens access to the whole internet")
    bound = MAX_IPV4_PREFIX_BREADTH if network.version == 4 else MAX_IPV6_PREFIX_BREADTH
    if network.prefixlen < bound:
        raise ValueError(
            f"{value!r} is broader than /{bound}; list the office's or contractor's own addresses"
        )
    for reserved in _NON_ALLOWLIST_NETWORKS:
        if network.version == reserved.version and network.subnet_of(reserved):  # type: ignore[arg-type]
            raise ValueError(
                f"{value!r} is a private or reserved range; allow-lists take the public egress address"
            )
    return str(network)


def _check_region(value: str) -> str:
    if value not in known_regions():
        raise ValueError(f"{value!r} is not an AWS commercial region")
    return value


def _check_slug(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,22}[a-z0-9]", value) or "--" in value:
        raise ValueError(
            f"{value!r} must be 3-24 characters of lowercase letters, digits and single hyphens, "
            "starting with a letter"
        )
    return value


AllowlistCidr = Annotated[str, AfterValidator(_check_allowlist_cidr)]
Region = Annotated[str, AfterValidator(_check_region)]
Slug = Annotated[str, AfterValidator(_check_slug)]


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Commercial AWS regions, read from botocore's bundled endpoint data (no network).

    Read as a data file rather than through `botocore.session`: importing the session machinery
    costs a quarter of a second at the start of every command, for one list of names.
    """
    data = json.loads(importlib.resources.files("botocore").joinpath("data", "endpoints.json").read_text())
    for partition in data.get("partitions", []):
        if partition.get("partition") == "aws":
            return frozenset(partition.get("regions", {}))
    raise RuntimeError("botocore's endpoints.json has no 'aws' partition")


class Environment(StrEnum):
    PROD = "prod"
    STAGING = "staging"
    DEV = "dev"


class DbEngine(StrEnum):
    POSTGRES = "postgres"
    MYSQL = "mysql"
    MARIADB = "mariadb"


class VaultLockMode(StrEnum):
    COMPLIANCE = "compliance"
    GOVERNANCE = "governance"


class SpaConfig(BaseModel):
    """Everything a spa's stack may set. Field aliases are the camelCase keys of the stack file."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)

    spa: Slug = Field(description="Spa identifier, the stack name; prefixes every resource name.")
    region: Region = Field(alias="aws:region", description="Primary region.")
    dr_region: Region = Field(alias="drRegion", description="Disaster-recovery region for backup copies.")
    display_name: str = Field(default="", alias="displayName", max_length=80)
    environment: Environment = Environment.PROD
    owner: EmailStr = Field(description="Who answers for this environment (tag Owner).")
    office_cidrs: tuple[AllowlistCidr, ...] = Field(alias="officeCidrs", min_length=1, max_length=20)
    admin_cidrs: tuple[AllowlistCidr, ...] = Field(alias="adminCidrs", min_length=1, max_length=20)
    alert_emails: tuple[EmailStr, ...] = Field(alias="alertEmails", min_length=1, max_length=10)

    vpc_cidr: str = Field(default="10.40.0.0/16", alias="vpcCidr")
    skip_interface_endpoints: bool = Field(
        default=False,
        alias="skipInterfaceEndpoints",
        description="Weakens: no KMS/Logs/STS/SSM/Secrets Manager endpoints; AWS API calls from the "
        "isolated subnets then fail instead of staying on the AWS network.",
    )
    enable_staff_portal_waf: bool = Field(default=False, alias="enableStaffPortalWaf")

    phi_buckets: tuple[Slug, ...] = Field(default=("documents", "photos"), alias="phiBuckets", min_length=1)
    noncurrent_version_days: int = Field(default=365, alias="noncurrentVersionDays", ge=35, le=3650)

    db_engine: DbEngine = Field(default=DbEngine.POSTGRES, alias="dbEngine")
    db_engine_version: str = Field(default="17", alias="dbEngineVersion", pattern=r"^\d+(\.\d+){0,2}$")
    db_instance_class: str = Field(default="db.t4g.medium", alias="dbInstanceClass")
    db_multi_az: bool = Field(default=True, alias="dbMultiAz")
    db_allocated_storage_gb: int = Field(default=50, alias="dbAllocatedStorageGb", ge=20, le=65536)
    db_name: str = Field(default="spa", alias="dbName", pattern=r"^[a-z][a-z0-9_]{0,30}$")

    log_retention_days: int = Field(default=731, alias="logRetentionDays")
    audit_log_retention_days: int = Field(default=2192, alias="auditLogRetentionDays")
    backup_retention_days: int = Field(default=35, alias="backupRetentionDays", le=36500)
    long_backup_retention_days: int = Field(default=2557, alias="longBackupRetentionDays", le=36500)
    cold_storage_after_days: int = Field(default=90, alias="coldStorageAfterDays", ge=1, le=36500)
    vault_lock_mode: VaultLockMode = Field(default=VaultLockMode.COMPLIANCE, alias="vaultLockMode")
    vault_lock_changeable_days: int = Field(default=3, alias="vaultLockChangeableDays", le=3650)

    # Region singletons (one each per account and region): adopt an existing one instead of creating it.
    adopt_existing_config_recorder: bool = Field(
        default=False,
        alias="adoptExistingConfigRecorder",
        description="Do not create the AWS Config recorder, delivery channel and recorder status; the "
        "contractor confirms the existing recorder records all types and delivers (docs: Detection).",
    )
    adopt_existing_guard_duty: bool = Field(
        default=False,
        alias="adoptExistingGuardDuty",
        description="Do not create the GuardDuty detector or manage its features; the contractor confirms "
        "the existing detector and its protections are on (docs: Detection).",
    )
    adopt_existing_security_hub: bool = Field(
        default=False,
        alias="adoptExistingSecurityHub",
        description="Do not enable Security Hub; the standards subscriptions are still created on the "
        "existing hub (docs: Detection).",
    )

    # Restore drills (164.308(a)(7)(ii)(D)): the objectives a drill is measured against.
    rto_target_minutes: int = Field(
        default=240,
        alias="rtoTargetMinutes",
        ge=5,
        le=10080,
        description="Recovery time objective: restore started until the copy is validated.",
    )
    rpo_target_hours: int = Field(
        default=24,
        alias="rpoTargetHours",
        ge=1,
        le=720,
        description="Recovery point objective: drill time minus the recovery point's time.",
    )
    drill_validation_query: str | None = Field(
        default=None,
        alias="drillValidationQuery",
        max_length=2000,
        description="A read-only SELECT the drill runs on the restored database; counts and hashes only.",
    )

    @field_validator("drill_validation_query")
    @classmethod
    def _validation_query(cls, value: str | None) -> str | None:
        """One read-only SELECT: the drill must never write to, or print PHI from, the restored copy."""
        if value is None:
            return None
        query = value.strip()
        if not re.match(r"(?is)^select\b", query):
            raise ValueError("must be a single read-only query starting with SELECT")
        body = query[:-1] if query.endswith(";") else query
        if ";" in body:
            raise ValueError("must be a single statement (no ';' except a trailing one)")
        if re.search(r"(?is)\binto\b", body):
            raise ValueError("must not use SELECT ... INTO (it writes); return counts or hashes only")
        return query

    @field_validator("db_instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        if not re.fullmatch(r"db\.[a-z0-9]+\.[a-z0-9]+", value):
            raise ValueError(f"{value!r} is not an RDS instance class such as db.t4g.medium")
        if PREVIOUS_GENERATION_DB_CLASSES.match(value):
            raise ValueError(
                f"{value!r} is a previous-generation class; choose a current one (db.t4g, db.m7g)"
            )
        return value

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid network address") from exc
        private = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
        if network.version != 4 or not any(network.subnet_of(p) for p in private):  # type: ignore[arg-type]
            raise ValueError(f"{value!r} must be an RFC 1918 IPv4 range")
        if not 16 <= network.prefixlen <= 24:
            raise ValueError(f"{value!r} must be between /16 and /24")
        return value

    @field_validator("log_retention_days", "audit_log_retention_days")
    @classmethod
    def _cloudwatch_value(cls, value: int) -> int:
        if value not in CLOUDWATCH_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention value (e.g. 365, 731, 2192, 2557)")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _log_floor(cls, value: int) -> int:
        if value < LOG_RETENTION_FLOOR_DAYS:
            raise ValueError(f"{value} is below the {LOG_RETENTION_FLOOR_DAYS}-day floor (164.312(b))")
        return value

    @field_validator("audit_log_retention_days")
    @classmethod
    def _audit_floor(cls, value: int) -> int:
        if value < AUDIT_LOG_RETENTION_FLOOR_DAYS:
            raise ValueError(
                f"{value} is below the {AUDIT_LOG_RETENTION_FLOOR_DAYS}-day floor (164.316(b)(2)(i))"
            )
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _backup_floor(cls, value: int) -> int:
        if value < BACKUP_RETENTION_FLOOR_DAYS:
            raise ValueError(
                f"{value} is below the {BACKUP_RETENTION_FLOOR_DAYS}-day floor (164.308(a)(7)(ii)(A))"
            )
        return value

    @field_validator("long_backup_retention_days")
    @classmethod
    def _long_backup_floor(cls, value: int) -> int:
        if value < LONG_BACKUP_RETENTION_FLOOR_DAYS:
            raise ValueError(
                f"{value} is below the {LONG_BACKUP_RETENTION_FLOOR_DAYS}-day floor (164.316(b)(2)(i))"
            )
        return value

    @field_validator("vault_lock_changeable_days")
    @classmethod
    def _changeable_floor(cls, value: int) -> int:
        if value < VAULT_LOCK_CHANGEABLE_FLOOR_DAYS:
            raise ValueError(f"{value} is below AWS Backup's {VAULT_LOCK_CHANGEABLE_FLOOR_DAYS}-day minimum")
        return value

    @model_validator(mode="after")
    def _cross_field(self) -> SpaConfig:
        if self.region == self.dr_region:
            raise ValueError(f"{NAMESPACE}:drRegion: {self.dr_region!r} must differ from aws:region")
        if self.long_backup_retention_days < self.cold_storage_after_days + COLD_STORAGE_GAP_DAYS:
            raise ValueError(
                f"{NAMESPACE}:coldStorageAfterDays: {self.cold_storage_after_days} leaves fewer than "
                f"{COLD_STORAGE_GAP_DAYS} days in cold storage before longBackupRetentionDays "
                f"({self.long_backup_retention_days})"
            )
        if self.long_backup_retention_days < self.backup_retention_days:
            raise ValueError(
                f"{NAMESPACE}:longBackupRetentionDays: {self.long_backup_retention_days} must not be "
                f"shorter than backupRetentionDays ({self.backup_retention_days})"
            )
        if len(set(self.phi_buckets)) != len(self.phi_buckets):
            raise ValueError(f"{NAMESPACE}:phiBuckets: {list(self.phi_buckets)!r} lists a bucket twice")
        return self

    @model_validator(mode="after")
    def _phi_bucket_names_fit(self) -> SpaConfig:
        """S3 refuses bucket names over 63 characters; catch it here, not halfway through a deploy."""
        for role in self.phi_buckets:
            length = len(self.spa) + len(role) + PHI_BUCKET_NAME_OVERHEAD
            if length > S3_BUCKET_NAME_MAX:
                raise ValueError(
                    f"{NAMESPACE}:phiBuckets: {role!r} makes the bucket name {self.spa}-phi-{role}-<account> "
                    f"{length} characters long (S3 allows {S3_BUCKET_NAME_MAX}); use a shorter name"
                )
        return self

    @property
    def db_parameter_family(self) -> str:
        major = self.db_engine_version.split(".")[0]
        if self.db_engine is DbEngine.POSTGRES:
            return f"postgres{major}"
        minor = ".".join(self.db_engine_version.split(".")[:2])
        if "." not in minor:
            minor = f"{minor}.0"
        return f"{DB_ENGINE_FAMILIES[self.db_engine.value]}{minor}"

    @property
    def allowlist_cidrs(self) -> tuple[str, ...]:
        """Office and admin networks, de-duplicated, in a stable order."""
        return tuple(dict.fromkeys((*self.office_cidrs, *self.admin_cidrs)))


def _display_value(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_FRIENDLY_MESSAGES = {
    "tuple_type": "must be a list (in YAML, one '- value' line per item)",
    "too_short": "must list at least one value",
    "too_long": "lists too many values",
    "string_type": "must be a text value",
    "bool_parsing": "must be true or false",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
}


def _first_error(exc: ValidationError, raw: Mapping[str, Any]) -> str:
    error = exc.errors()[0]
    location = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
    field = location[0] if location else ""
    key = _key_for_field(field)
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    message = _FRIENDLY_MESSAGES.get(str(error.get("type")), message)
    if error.get("type") == "missing":
        return f"{key}: required key is missing"
    if error.get("type") == "extra_forbidden":
        return f"{key}: unknown key (is it a typo?)"
    if not key:
        return message
    value = raw.get(key, error.get("input"))
    return f"{key}: {message} (got {_display_value(value)})"


def _key_for_field(field: str) -> str:
    if not field:
        return ""
    info = SpaConfig.model_fields.get(field)
    alias = info.alias if info is not None and info.alias else field
    return alias if alias.startswith("aws:") or alias == "spa" else f"{NAMESPACE}:{alias}"


def from_mapping(spa: str, values: Mapping[str, Any]) -> SpaConfig:
    """Build the model from fully-qualified keys (``medspa:officeCidrs``, ``aws:region``)."""
    data: dict[str, Any] = {"spa": spa}
    for key, value in values.items():
        if not isinstance(key, str) or ":" not in key:
            raise ConfigError(_one_line(f"{key!r}: config keys must be namespaced, e.g. medspa:{key}"))
        namespace, _, name = key.partition(":")
        if namespace == NAMESPACE:
            if name in {"spa", "aws:region"}:
                raise ConfigError(_one_line(f"{key}: unknown key (is it a typo?)"))
            data[name] = value
        elif key == "aws:region":
            data["aws:region"] = value
        # Other namespaces (aws:profile, pulumi:tags, ...) belong to their providers.
    try:
        return SpaConfig.model_validate(data)
    except ValidationError as exc:
        shown = {_key_for_field(k) if k != "aws:region" else k: v for k, v in data.items()}
        raw = {**shown, **{k: v for k, v in values.items() if isinstance(k, str)}}
        raise ConfigError(_one_line(_first_error(exc, raw))) from None


def _one_line(message: str) -> str:
    """Errors go to a terminal or a CI log as exactly one line, whatever the input held."""
    return " ".join(message.split()) or "invalid configuration"


def stack_file(stacks_dir: Path, spa: str) -> Path:
    return stacks_dir / f"Pulumi.{spa}.yaml"


def load_stack(stacks_dir: Path, spa: str) -> SpaConfig:
    """Read and validate ``stacks/Pulumi.<spa>.yaml``; every failure is a one-line ConfigError."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", spa):
        raise ConfigError(f"{spa!r} is not a valid stack name")
    path = stack_file(stacks_dir, spa)
    if not path.is_file():
        known = ", ".join(sorted(list_stacks(stacks_dir))) or "none"
        raise ConfigError(f"no stack file {path.name} in {stacks_dir} (known spas: {known})")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path.name}: malformed YAML{where}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot read file ({exc.__class__.__name__})") from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError(f"{path.name}: expected a mapping with a 'config:' section")
    values = {k: _plain(v) for k, v in document["config"].items()}
    return from_mapping(spa, values)


def _plain(value: Any) -> Any:
    """Pulumi stack files may wrap secrets as ``{secure: ...}``; the model holds no secrets."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return "[secret]"
    return value


def list_stacks(stacks_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))


def to_pulumi_config(config: SpaConfig) -> dict[str, str]:
    """The config as the Pulumi runtime holds it: fully-qualified keys, JSON strings for structures."""
    result: dict[str, str] = {}
    for name, info in SpaConfig.model_fields.items():
        if name == "spa":
            continue
        value = getattr(config, name)
        if value is None:  # unset optional key: absent, so the runtime sees the default again
            continue
        if isinstance(value, Enum):
            value = value.value
        if isinstance(value, tuple):
            value = list(value)
        key = info.alias or name
        key = key if key.startswith("aws:") else f"{NAMESPACE}:{key}"
        result[key] = value if isinstance(value, str) else json.dumps(value)
    return result


def from_pulumi_runtime(spa: str, raw: Mapping[str, str]) -> SpaConfig:
    """Rebuild the model inside the Pulumi program from the engine's config (strings, JSON for structures)."""
    values: dict[str, Any] = {}
    for key, text in raw.items():
        values[key] = _decode(text)
    return from_mapping(spa, values)


def _decode(text: str) -> Any:
    """Structured values arrive as JSON text; scalars stay strings and the model coerces them."""
    if isinstance(text, str) and text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
