"""`medspa new SPA`: write a validated, commented `stacks/Pulumi.SPA.yaml`, by prompts or by flags.

Nothing is written until the whole candidate passes the same model that reads stack files
(`infra/config.py` SpaConfig), so a spa can never start from an unsafe value: every refusal is one line
and exit code 2. The file is written atomically (a temporary file, then a link or a replace), and an
existing file is never touched without `--force`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import jinja2
import typer
from rich.console import Console

from infra.config import NAMESPACE, ConfigError, SpaConfig, _check_slug, from_mapping, stack_file
from scripts import paths
from scripts.errors import BadInput

PASSPHRASE_PROVIDER = "passphrase"
DEFAULT_REGION = "us-east-1"

# A disaster-recovery region in the same country (or data-residency area) as the primary; a region not
# listed here needs an explicit --dr-region, so PHI copies never land abroad by default.
DR_REGION_PAIRS: dict[str, str] = {
    "us-east-1": "us-west-2",
    "us-east-2": "us-west-2",
    "us-west-1": "us-east-1",
    "us-west-2": "us-east-1",
    "ca-central-1": "ca-west-1",
    "ca-west-1": "ca-central-1",
    "eu-west-1": "eu-central-1",
    "eu-central-1": "eu-west-1",
    "ap-southeast-2": "ap-southeast-4",
}

# Valid stand-ins for required keys not answered yet, so one prompt's answer can be validated alone.
_PLACEHOLDER_CIDR = "203.0.113.0/24"
_PLACEHOLDER_EMAIL = "placeholder@medspa.example"


def default_secrets_provider(spa: str, region: str) -> str:
    """The stack's secrets are encrypted by a customer-managed KMS key (164.312(a)(2)(iv))."""
    return f"awskms://alias/medspa-{spa}-pulumi-secrets?region={region}"


def dr_region_for(region: str) -> str | None:
    return DR_REGION_PAIRS.get(region)


@dataclass(frozen=True)
class NewSpaOptions:
    """What the operator gave on the command line; None means "not given" (prompt, or default)."""

    spa: str
    region: str | None = None
    dr_region: str | None = None
    office_cidrs: tuple[str, ...] = ()
    admin_cidrs: tuple[str, ...] = ()
    alert_emails: tuple[str, ...] = ()
    owner: str | None = None
    display_name: str | None = None
    db_instance_class: str | None = None
    db_storage_gb: int | str | None = None  # text from a flag: the model parses it
    db_multi_az: bool | None = None
    log_retention_days: int | str | None = None  # text from a flag: the model parses it
    backup_retention_days: int | str | None = None  # text from a flag: the model parses it
    long_backup_retention_days: int | str | None = None  # text from a flag: the model parses it
    secrets_provider: str | None = None
    passphrase_secrets: bool = False
    """Weakens: the stack's secrets are encrypted with a passphrase instead of a KMS key; the passphrase
    must be stored and shared out of band, its use leaves no CloudTrail record, and losing it loses
    every secret in the stack (164.312(a)(2)(iv), 164.312(b))."""
    yes: bool = False
    force: bool = False
    check: bool = True


@dataclass(frozen=True)
class NewSpaResult:
    """A written stack file and the config it holds (load_stack(path) == config)."""

    path: Path
    config: SpaConfig
    secrets_provider: str
    overwrote: bool = False
    warnings: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------------------- validation


def check_spa_name(spa: str) -> str:
    """The stack name prefixes every resource: the same slug rule as the model's `spa` field."""
    try:
        return _check_slug(spa)
    except ValueError as error:
        raise BadInput(f"spa name {error}") from None


def validate(spa: str, values: Mapping[str, Any]) -> SpaConfig:
    """The whole candidate through SpaConfig; any refusal is one line (the ConfigError message)."""
    try:
        return from_mapping(spa, values)
    except ConfigError as error:
        raise BadInput(str(error)) from None


def check_answer(spa: str, answered: Mapping[str, Any], key: str, value: Any) -> str | None:
    """Validate one prompt's answer against the model, with the answers so far; None when it is fine.

    Required keys not answered yet get valid stand-ins, so the only error left is about this answer (or
    its relation to an earlier one, e.g. a DR region equal to the primary).
    """
    with_answer = {**answered, key: value}
    candidate: dict[str, Any] = {**_placeholders(with_answer), **with_answer}
    try:
        from_mapping(spa, candidate)
    except ConfigError as error:
        return str(error)
    return None


def _placeholders(answered: Mapping[str, Any]) -> dict[str, Any]:
    region = str(answered.get("aws:region") or DEFAULT_REGION)
    dr = dr_region_for(region) or ("us-west-2" if region != "us-west-2" else "us-east-1")
    return {
        "aws:region": region,
        f"{NAMESPACE}:drRegion": dr,
        f"{NAMESPACE}:owner": _PLACEHOLDER_EMAIL,
        f"{NAMESPACE}:officeCidrs": [_PLACEHOLDER_CIDR],
        f"{NAMESPACE}:adminCidrs": [_PLACEHOLDER_CIDR],
        f"{NAMESPACE}:alertEmails": [_PLACEHOLDER_EMAIL],
    }


def resolve_secrets_provider(options: NewSpaOptions, region: str) -> str:
    """KMS by default; a passphrase only when asked for by name; anything else is refused."""
    if options.passphrase_secrets:  # create() has refused --secrets-provider with it
        return PASSPHRASE_PROVIDER
    provider = options.secrets_provider or default_secrets_provider(options.spa, region)
    if not provider.startswith("awskms://") or len(provider) <= len("awskms://"):
        raise BadInput(
            f"--secrets-provider: {provider!r} is not an awskms:// key "
            "(use --passphrase-secrets for a passphrase provider)"
        )
    if any(c.isspace() for c in provider):
        raise BadInput(f"--secrets-provider: {provider!r} must not contain spaces")
    return provider


# ------------------------------------------------------------------------------------------ answers


@dataclass(frozen=True)
class _Question:
    key: str
    flag: str
    label: str
    kind: str  # "text", "list", "int", "bool"
    required: bool = False

    @property
    def option(self) -> str:
        """The NewSpaOptions field the flag fills: --dr-region -> dr_region; a repeatable flag, a plural."""
        name = self.flag.removeprefix("--").replace("-", "_")
        return f"{name}s" if self.kind == "list" else name


_QUESTIONS: tuple[_Question, ...] = (
    _Question("aws:region", "--region", "Primary AWS region", "text", required=True),
    _Question(f"{NAMESPACE}:drRegion", "--dr-region", "Disaster-recovery region (backup copies)", "text"),
    _Question(f"{NAMESPACE}:displayName", "--display-name", "Display name of the spa", "text"),
    _Question(
        f"{NAMESPACE}:officeCidrs",
        "--office-cidr",
        "Office public egress CIDRs (comma-separated)",
        "list",
        required=True,
    ),
    _Question(f"{NAMESPACE}:adminCidrs", "--admin-cidr", "Contractor admin CIDRs (comma-separated)", "list"),
    _Question(
        f"{NAMESPACE}:alertEmails",
        "--alert-email",
        "Security alert e-mails (comma-separated)",
        "list",
        required=True,
    ),
    _Question(f"{NAMESPACE}:owner", "--owner", "Owner e-mail (who answers for this environment)", "text"),
    _Question(f"{NAMESPACE}:dbInstanceClass", "--db-instance-class", "Database instance class", "text"),
    _Question(f"{NAMESPACE}:dbAllocatedStorageGb", "--db-storage-gb", "Database storage (GB)", "int"),
    _Question(f"{NAMESPACE}:dbMultiAz", "--db-multi-az", "Database in two availability zones?", "bool"),
    _Question(f"{NAMESPACE}:logRetentionDays", "--log-retention-days", "Log retention (days)", "int"),
    _Question(
        f"{NAMESPACE}:backupRetentionDays", "--backup-retention-days", "Daily backup retention (days)", "int"
    ),
    _Question(
        f"{NAMESPACE}:longBackupRetentionDays",
        "--long-backup-retention-days",
        "Monthly backup retention (days)",
        "int",
    ),
)


def given_values(options: NewSpaOptions) -> dict[str, Any]:
    """The values the flags set, under their stack-file keys."""
    given: dict[str, Any] = {}
    for question in _QUESTIONS:
        value = getattr(options, question.option)
        if question.kind == "list":
            value = list(value) or None
        if value is not None:
            given[question.key] = value
    return given


def _derived_default(key: str, answered: Mapping[str, Any]) -> Any:
    """Defaults that follow from earlier answers (admin = office, owner = first alert e-mail, DR pair)."""
    if key == f"{NAMESPACE}:drRegion":
        return dr_region_for(str(answered.get("aws:region", "")))
    if key == f"{NAMESPACE}:adminCidrs":
        return answered.get(f"{NAMESPACE}:officeCidrs")
    if key == f"{NAMESPACE}:owner":
        emails = answered.get(f"{NAMESPACE}:alertEmails") or []
        return emails[0] if emails else None
    if key == "aws:region":
        return DEFAULT_REGION
    return _model_default(key)


def _model_default(key: str) -> Any:
    name = key.removeprefix(f"{NAMESPACE}:")
    for field_name, info in SpaConfig.model_fields.items():
        if (info.alias or field_name) == name and not info.is_required():
            value = info.default
            return value.value if isinstance(value, Enum) else value
    return None


def fill_without_prompts(options: NewSpaOptions) -> dict[str, Any]:
    """Flags plus defaults; a required value with no flag is an error naming the flag."""
    answered = given_values(options)
    for question in _QUESTIONS:
        if question.key in answered:
            continue
        if question.required:
            raise BadInput(f"{question.flag} is required with --yes (or run without --yes to be asked)")
        default = _derived_default(question.key, answered)
        if question.key == f"{NAMESPACE}:drRegion" and default is None:
            region = answered["aws:region"]
            problem = check_answer(options.spa, {}, "aws:region", region)
            if problem is not None:
                raise BadInput(problem)
            raise BadInput(f"--dr-region is required: no default disaster-recovery region for {region}")
        if default is not None and question.key in _DERIVED_KEYS:
            source = _DERIVED_FROM.get(question.key)
            if source is not None and source in answered:
                # Report a bad e-mail or CIDR under the flag that gave it, not the key derived from it.
                problem = check_answer(options.spa, {}, source, answered[source])
                if problem is not None:
                    raise BadInput(problem)
            answered[question.key] = default
    return answered


_DERIVED_FROM = {
    f"{NAMESPACE}:adminCidrs": f"{NAMESPACE}:officeCidrs",
    f"{NAMESPACE}:owner": f"{NAMESPACE}:alertEmails",
}
# Keys whose default is written in: the DR pair and those above. The others stay absent, so the
# model's own defaults apply.
_DERIVED_KEYS = frozenset({f"{NAMESPACE}:drRegion", *_DERIVED_FROM})


def needs_prompts(options: NewSpaOptions) -> bool:
    """Interactive unless --yes or every required value came as a flag (fully by flags)."""
    if options.yes:
        return False
    given = given_values(options)
    return any(q.required and q.key not in given for q in _QUESTIONS)


Prompt = Callable[[str, str | None], str]


def _typer_prompt(label: str, default: str | None) -> str:
    try:
        answer = typer.prompt(label, default=default if default is not None else None, show_default=True)
    except typer.Abort:
        raise BadInput(f"no answer for {label!r} (input closed); pass it as a flag") from None
    return str(answer)


def ask(options: NewSpaOptions, console: Console, prompt: Prompt = _typer_prompt) -> dict[str, Any]:
    """Prompt for every value the flags did not give, re-asking until the model accepts the answer."""
    answered = given_values(options)
    for question in _QUESTIONS:
        if question.key in answered:
            continue
        default = _derived_default(question.key, answered)
        while True:
            text = prompt(question.label, _display_default(default))
            try:
                value = _parse(question, text)
            except ValueError as error:
                console.print(f"  [red]✗[/red] {error}", highlight=False, soft_wrap=True)
                continue
            if value is None and question.required:
                console.print(f"  [red]✗[/red] {question.label}: an answer is required", highlight=False)
                continue
            if value is None:
                break
            problem = check_answer(options.spa, answered, question.key, value)
            if problem is None:
                answered[question.key] = value
                break
            console.print(f"  [red]✗[/red] {problem}", highlight=False, soft_wrap=True)
    return answered


def _display_default(default: Any) -> str | None:
    if default is None:
        return None
    if isinstance(default, bool):
        return "yes" if default else "no"
    if isinstance(default, list | tuple):
        return ", ".join(str(v) for v in default)
    return str(default)


def _parse(question: _Question, text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    if question.kind == "list":
        items = [part for part in text.replace(",", " ").split() if part]
        return items or None
    if question.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{question.label}: {text!r} is not a whole number") from None
    if question.kind == "bool":
        lowered = text.lower()
        if lowered in {"y", "yes", "true"}:
            return True
        if lowered in {"n", "no", "false"}:
            return False
        raise ValueError(f"{question.label}: answer yes or no")
    return text


# ---------------------------------------------------------------------------------------- rendering

# Groups of keys in the written file: what each controls and the HIPAA section behind it.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Where the spa runs. Backups are copied to the DR region (164.308(a)(7)(ii)(B) disaster recovery).",
        ("region", "dr_region", "display_name", "environment", "owner"),
    ),
    (
        "Who may reach the environment: the clinic's public egress networks and the contractor's admin\n"
        "# addresses (164.312(a)(1) access control). Never 0.0.0.0/0, never a private range.",
        ("office_cidrs", "admin_cidrs"),
    ),
    (
        "Who is told about security events: each address must confirm the SNS subscription e-mail\n"
        "# (164.308(a)(6)(ii) response and reporting).",
        ("alert_emails",),
    ),
    (
        "Network: the private VPC and its AWS service endpoints (164.312(e)(1) transmission security).",
        ("vpc_cidr", "skip_interface_endpoints", "enable_staff_portal_waf"),
    ),
    (
        "PHI storage: encrypted, versioned buckets (164.312(a)(2)(iv), 164.312(c)(1)).",
        ("phi_buckets", "noncurrent_version_days"),
    ),
    (
        "Database: encrypted, TLS-only, deletion-protected (164.312(a)(2)(iv), 164.312(e)(1)).",
        (
            "db_engine",
            "db_engine_version",
            "db_instance_class",
            "db_multi_az",
            "db_allocated_storage_gb",
            "db_name",
        ),
    ),
    (
        "Retention: audit logs 164.312(b) and 164.316(b)(2)(i); backups 164.308(a)(7)(ii)(A) and\n"
        "# 164.310(d)(2)(iv). The model refuses any value below its floor.",
        (
            "log_retention_days",
            "audit_log_retention_days",
            "backup_retention_days",
            "long_backup_retention_days",
            "cold_storage_after_days",
            "vault_lock_mode",
            "vault_lock_changeable_days",
        ),
    ),
    (
        "Region singletons: true only to adopt an existing recorder/detector/hub (docs/multi-account.md).",
        ("adopt_existing_config_recorder", "adopt_existing_guard_duty", "adopt_existing_security_hub"),
    ),
    (
        "Restore drills (164.308(a)(7)(ii)(D) testing): the objectives a drill is measured against.",
        ("rto_target_minutes", "rpo_target_hours", "drill_validation_query"),
    ),
)

_TEMPLATE = jinja2.Environment(
    autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True
).from_string(
    """\
# Stack file of the spa {{ spa }}, written by `medspa new {{ spa }}`.
# Every value below is checked by infra/config.py (SpaConfig) before any resource exists; edit it by
# hand if you like and run `medspa check {{ spa }}` afterwards. docs/configuration.md explains each key.
{% if passphrase %}
#
# WARNING: this stack encrypts its secrets with a PASSPHRASE, not a KMS key. Keep the passphrase in the
# spa's password manager; losing it loses every secret here, and its use leaves no CloudTrail record
# (164.312(a)(2)(iv), 164.312(b)). Pulumi adds `encryptionsalt:` on `pulumi stack init`.
{% else %}
#
# Secrets in this stack are encrypted by the customer-managed KMS key below (164.312(a)(2)(iv));
# Pulumi adds `encryptedkey:` on `pulumi stack init`.
secretsprovider: {{ secrets_provider }}
{% endif %}
config:
{% for comment, lines in groups %}
{% for comment_line in comment %}
  # {{ comment_line }}
{% endfor %}
{% for line in lines %}
  {{ line }}
{% endfor %}
{% endfor %}
"""
)


def render(config: SpaConfig, secrets_provider: str) -> str:
    """The commented stack file; every key written explicitly, so later default changes never drift in."""
    seen: set[str] = set()
    groups: list[tuple[list[str], list[str]]] = []
    for comment, names in GROUPS:
        lines = [line for name in names for line in _key_lines(config, name)]
        seen.update(names)
        if lines:
            groups.append(([part.removeprefix("# ") for part in comment.split("\n")], lines))
    others = [name for name in SpaConfig.model_fields if name not in seen and name != "spa"]
    extra = [line for name in others for line in _key_lines(config, name)]
    if extra:
        groups.append((["Other settings (docs/configuration.md)."], extra))
    return _TEMPLATE.render(
        spa=config.spa,
        passphrase=secrets_provider == PASSPHRASE_PROVIDER,
        secrets_provider=json.dumps(secrets_provider),
        groups=groups,
    )


def _key_lines(config: SpaConfig, name: str) -> list[str]:
    info = SpaConfig.model_fields.get(name)
    if info is None:
        return []
    value = getattr(config, name)
    if value is None:
        return []  # an unset optional key stays absent, so the model's default applies
    alias = info.alias or name
    key = alias if alias.startswith("aws:") else f"{NAMESPACE}:{alias}"
    if isinstance(value, tuple):
        return [f"{key}:"] + [f"  - {_scalar(item)}" for item in value]
    return [f"{key}: {_scalar(value)}"]


def _scalar(value: Any) -> str:
    """YAML scalars that read back as the same Python value (strings always double-quoted)."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return json.dumps(text, ensure_ascii=not text.isprintable())


# ------------------------------------------------------------------------------------------ writing


def _already_exists(path: Path) -> BadInput:
    return BadInput(f"{path.name} already exists in {path.parent}; use --force to overwrite it")


def write_stack_file(path: Path, text: str, *, force: bool) -> bool:
    """Atomically write `path`; without `force` an existing file is never touched. True if it replaced one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    if existed and not force:
        raise _already_exists(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if the file appeared meanwhile: never overwrite without --force
            except FileExistsError:
                raise _already_exists(path) from None
    finally:
        tmp.unlink(missing_ok=True)
    return existed


def create(options: NewSpaOptions, console: Console, prompt: Prompt = _typer_prompt) -> NewSpaResult:
    """Validate everything, then write the stack file. Raises BadInput (exit 2) and writes nothing on error."""
    spa = check_spa_name(options.spa)
    path = stack_file(paths.stacks_dir(), spa)
    if path.exists() and not options.force:
        raise _already_exists(path)
    if options.passphrase_secrets and options.secrets_provider is not None:
        raise BadInput("give --secrets-provider or --passphrase-secrets, not both")
    if needs_prompts(options):
        values = ask(options, console, prompt)
        values = {**fill_without_prompts_defaults(values), **values}
    else:
        values = fill_without_prompts(options)
    config = validate(spa, values)
    provider = resolve_secrets_provider(options, config.region)
    text = render(config, provider)
    _assert_round_trip(text, config)
    overwrote = write_stack_file(path, text, force=options.force)
    warnings: tuple[str, ...] = ()
    if provider == PASSPHRASE_PROVIDER:
        warnings = (PASSPHRASE_WARNING,)
    return NewSpaResult(
        path=path, config=config, secrets_provider=provider, overwrote=overwrote, warnings=warnings
    )


def fill_without_prompts_defaults(answered: Mapping[str, Any]) -> dict[str, Any]:
    """Derived defaults for keys the prompts left blank (admin = office, owner = first alert e-mail)."""
    filled: dict[str, Any] = {}
    for key in _DERIVED_KEYS:
        if key not in answered:
            default = _derived_default(key, answered)
            if default is not None:
                filled[key] = default
    return filled


PASSPHRASE_WARNING = (
    "WARNING: --passphrase-secrets: this stack's secrets will be encrypted with a passphrase, not a KMS "
    "key. Store the passphrase in the spa's password manager (set PULUMI_CONFIG_PASSPHRASE to use it); "
    "losing it loses every secret in the stack, and its use leaves no CloudTrail record "
    "(164.312(a)(2)(iv), 164.312(b))."
)


def _assert_round_trip(text: str, config: SpaConfig) -> None:
    """The file must read back as exactly the config that was validated; refuse to write otherwise."""
    import yaml

    document = yaml.safe_load(text)
    values = document.get("config") if isinstance(document, dict) else None
    if not isinstance(values, dict):
        raise BadInput("internal error: the rendered stack file has no config section")
    try:
        again = from_mapping(config.spa, values)
    except ConfigError as error:
        raise BadInput(f"internal error: the rendered stack file does not validate: {error}") from None
    if again != config:
        raise BadInput("internal error: the rendered stack file does not read back as the validated config")


def next_steps(result: NewSpaResult) -> list[str]:
    """What the contractor does next, in order (docs/runbook.md has the long version)."""
    spa = result.config.spa
    emails = ", ".join(result.config.alert_emails)
    provider = result.secrets_provider
    return [
        f"medspa preflight {spa}    # the account is ready: BAA accepted, no colliding singletons "
        "(docs/preflight.md)",
        f'pulumi stack init {spa} --secrets-provider "{provider}"    # from the repository root',
        f"medspa up {spa}    # runs the policy gate, then deploys",
        f"confirm the SNS subscription e-mail sent to each alert address: {emails}",
        f"medspa drill {spa}    # the first restore drill, after the first nightly backup "
        "(docs/restore-drills.md)",
    ]


def print_next_steps(result: NewSpaResult, console: Console) -> None:
    console.print("[bold]Next steps[/bold] (docs/runbook.md):")
    for number, step in enumerate(next_steps(result), start=1):
        console.print(f"  {number}. ", end="", highlight=False)
        console.print(step, markup=False, highlight=False, soft_wrap=True)


def summarize(config: SpaConfig) -> Sequence[tuple[str, str]]:
    """A short table of what was written, for the terminal (no secrets: the model holds none)."""
    return (
        ("regions", f"{config.region} (DR {config.dr_region})"),
        ("office CIDRs", ", ".join(config.office_cidrs)),
        ("admin CIDRs", ", ".join(config.admin_cidrs)),
        ("alert e-mails", ", ".join(config.alert_emails)),
        (
            "database",
            f"{config.db_engine.value} {config.db_engine_version} {config.db_instance_class}, "
            f"{config.db_allocated_storage_gb} GB, multi-AZ {'on' if config.db_multi_az else 'OFF'}",
        ),
        (
            "retention",
            f"logs {config.log_retention_days} d, daily backups {config.backup_retention_days} d, "
            f"monthly backups {config.long_backup_retention_days} d",
        ),
    )


def run_check(result: NewSpaResult, console: Console, err_console: Console, *, check: bool = True) -> int:
    """`medspa check SPA` on the new file: 0 pass (or skipped with a WARN), 1 a failing check."""
    from scripts import deploy

    spa = result.config.spa
    if not check:
        console.print(
            f"policy check skipped (--no-check); run `medspa check {spa}` before `medspa up`",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return 0
    if not deploy.checkov_available():
        err_console.print(
            f"WARN: policy check not run: {deploy.CHECKOV_MISSING_HINT}; then run `medspa check {spa}`",
            markup=False,
            highlight=False,
        )
        return 0
    console.print(f"policy check: medspa check {spa}", highlight=False)
    outcome = deploy.run_gate(spa, console)  # the table ends with the summary line
    if outcome.ok:
        return 0
    err_console.print(
        f"medspa: {result.path.name} was written, but the policy check failed "
        f"({', '.join(outcome.failed_check_ids)}); see `medspa check {spa}`",
        markup=False,
        highlight=False,
    )
    return 1
