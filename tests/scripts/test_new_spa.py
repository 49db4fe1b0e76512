"""`medspa new SPA`: validated before anything is written, atomic, round-trips, never clobbers a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from infra.config import SpaConfig, list_stacks, load_stack
from scripts.cli import app
from scripts.new_spa import default_secrets_provider
from tests.scripts.gate_support import needs_checkov

runner = CliRunner()

SPA = "glow-spa"
FLAGS = [
    "--region",
    "us-east-1",
    "--dr-region",
    "us-west-2",
    "--office-cidr",
    "203.0.113.0/24",
    "--office-cidr",
    "192.0.2.0/24",
    "--admin-cidr",
    "198.51.100.10/32",
    "--alert-email",
    "privacy@glow.example",
    "--alert-email",
    "it@glow.example",
    "--display-name",
    'Glow "Skin" Studio: #1',
    "--db-instance-class",
    "db.t4g.large",
    "--db-storage-gb",
    "100",
    "--no-db-multi-az",
    "--log-retention-days",
    "1096",
    "--backup-retention-days",
    "42",
    "--long-backup-retention-days",
    "2922",
]


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty stacks directory for `medspa new` to write into (MEDSPA_STACKS_DIR)."""
    directory = tmp_path / "stacks"
    directory.mkdir()
    monkeypatch.setenv("MEDSPA_STACKS_DIR", str(directory))
    return directory


def new(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, ["new", *args], input=stdin)


def assert_one_line_exit_2(result: Result, fragment: str) -> None:
    assert result.exit_code == 2, f"bad input must exit 2, got {result.exit_code}: {result.output}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {result.stderr!r}"
    assert "Traceback" not in result.output
    assert fragment in lines[0], f"error should mention {fragment!r}: {lines[0]}"


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*"))


# ------------------------------------------------------------------------------------ from flags


def test_flags_only_creation_round_trips(stacks: Path) -> None:
    result = new(SPA, *FLAGS, "--yes", "--no-check")
    assert result.exit_code == 0, result.output
    config = load_stack(stacks, SPA)
    expected = SpaConfig.model_validate(
        {
            "spa": SPA,
            "aws:region": "us-east-1",
            "drRegion": "us-west-2",
            "officeCidrs": ["203.0.113.0/24", "192.0.2.0/24"],
            "adminCidrs": ["198.51.100.10/32"],
            "alertEmails": ["privacy@glow.example", "it@glow.example"],
            "owner": "privacy@glow.example",
            "displayName": 'Glow "Skin" Studio: #1',
            "dbInstanceClass": "db.t4g.large",
            "dbAllocatedStorageGb": 100,
            "dbMultiAz": False,
            "logRetentionDays": 1096,
            "backupRetentionDays": 42,
            "longBackupRetentionDays": 2922,
        }
    )
    assert config == expected, "the written stack file must read back as exactly the validated config"


def test_flags_without_yes_do_not_prompt_when_every_required_value_is_given(stacks: Path) -> None:
    result = new(SPA, *FLAGS, "--no-check", stdin="")
    assert result.exit_code == 0, result.output
    assert (stacks / f"Pulumi.{SPA}.yaml").is_file()


def test_admin_cidrs_default_to_the_office_cidrs(stacks: Path) -> None:
    result = new(
        SPA, "--region", "us-east-1", "--office-cidr", "203.0.113.0/24", "--alert-email", "a@glow.example",
        "--yes", "--no-check",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = load_stack(stacks, SPA)
    assert config.admin_cidrs == ("203.0.113.0/24",), (
        "admin allow-list defaults to the office (164.312(a)(1))"
    )
    assert config.dr_region == "us-west-2", "us-east-1's default DR region is us-west-2"


def test_file_has_kms_secrets_provider_and_commented_groups(stacks: Path) -> None:
    assert new(SPA, *FLAGS, "--yes", "--no-check").exit_code == 0
    text = (stacks / f"Pulumi.{SPA}.yaml").read_text()
    document = yaml.safe_load(text)
    assert document["secretsprovider"] == default_secrets_provider(SPA, "us-east-1"), (
        "stack secrets must be encrypted by a KMS key by default (164.312(a)(2)(iv))"
    )
    assert document["secretsprovider"].startswith("awskms://alias/medspa-glow-spa-pulumi-secrets")
    for section in ("164.312(a)(1)", "164.316(b)(2)(i)", "164.308(a)(7)(ii)(A)"):
        assert f"{section}" in text, f"the stack file's comments must name {section}"


def test_written_file_is_readable_by_others_and_no_temp_file_is_left(stacks: Path) -> None:
    assert new(SPA, *FLAGS, "--yes", "--no-check").exit_code == 0
    assert files_in(stacks) == [f"Pulumi.{SPA}.yaml"], "the atomic write must leave no temporary file"
    assert os.stat(stacks / f"Pulumi.{SPA}.yaml").st_mode & 0o777 == 0o644


# ---------------------------------------------------------------------------------- refusals


BASE = ["--region", "us-east-1", "--office-cidr", "203.0.113.0/24", "--alert-email", "a@glow.example"]


def _with(flag: str, value: str) -> list[str]:
    args = list(BASE)
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    return args


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (_with("--office-cidr", "203.0.113.300/24"), "medspa:officeCidrs"),
        (_with("--office-cidr", "0.0.0.0/0"), "whole internet"),
        (_with("--admin-cidr", "10.0.0.0/24"), "private or reserved"),
        (_with("--alert-email", "not-an-email"), "medspa:alertEmails"),
        (_with("--dr-region", "us-east-1"), "must differ from aws:region"),
        (_with("--region", "mars-east-1"), "not an AWS commercial region"),
        (_with("--log-retention-days", "30"), "medspa:logRetentionDays"),
        (_with("--backup-retention-days", "7"), "164.308(a)(7)(ii)(A)"),
        (_with("--db-instance-class", "db.m3.large"), "previous-generation"),
        (_with("--db-storage-gb", "lots"), "whole number"),
        (_with("--secrets-provider", "gcpkms://projects/x"), "--secrets-provider"),
    ],
    ids=[
        "bad-cidr", "world-open-cidr", "private-admin-cidr", "bad-email", "same-dr-region",
        "unknown-region", "short-log-retention", "short-backup-retention", "old-db-class",
        "non-numeric-storage", "non-kms-secrets-provider",
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    stacks: Path, args: list[str], fragment: str
) -> None:
    result = new(SPA, *args, "--yes", "--no-check")
    assert_one_line_exit_2(result, fragment)
    assert files_in(stacks) == [], "nothing may be written when the candidate config is refused"


@pytest.mark.parametrize("name", ["Glow_Spa", "gl", "9glow", "glow--spa", "glow-spa-" + "x" * 30])
def test_bad_spa_name_exits_2_and_writes_nothing(stacks: Path, name: str) -> None:
    assert_one_line_exit_2(new(name, *BASE, "--yes", "--no-check"), "spa name")
    assert files_in(stacks) == []


@pytest.mark.parametrize(("missing", "flag"), [(0, "--region"), (2, "--office-cidr"), (4, "--alert-email")])
def test_yes_without_a_required_value_names_the_flag(stacks: Path, missing: int, flag: str) -> None:
    args = BASE[:missing] + BASE[missing + 2 :]
    assert_one_line_exit_2(new(SPA, *args, "--yes", "--no-check"), flag)
    assert files_in(stacks) == []


def test_existing_file_without_force_is_byte_identical_and_exits_2(stacks: Path) -> None:
    path = stacks / f"Pulumi.{SPA}.yaml"
    original = b"# hand-written, must survive\nconfig:\n  aws:region: us-east-1\n"
    path.write_bytes(original)
    before = path.stat().st_mtime_ns
    assert_one_line_exit_2(new(SPA, *BASE, "--yes", "--no-check"), "--force")
    assert path.read_bytes() == original, f"{path.name} must not be touched without --force"
    assert path.stat().st_mtime_ns == before
    assert files_in(stacks) == [path.name]


def test_force_overwrites_an_existing_file(stacks: Path) -> None:
    path = stacks / f"Pulumi.{SPA}.yaml"
    path.write_text("config: {}\n")
    result = new(SPA, *BASE, "--yes", "--no-check", "--force")
    assert result.exit_code == 0, result.output
    assert load_stack(stacks, SPA).office_cidrs == ("203.0.113.0/24",), "--force must replace the file"
    assert files_in(stacks) == [path.name]


# ------------------------------------------------------------------------------------ secrets


def test_passphrase_provider_only_when_asked_and_loudly_warned(stacks: Path) -> None:
    result = new(SPA, *BASE, "--passphrase-secrets", "--yes", "--no-check")
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.stderr and "164.312(a)(2)(iv)" in result.stderr, (
        "a passphrase provider must be warned about on stderr with its consequence"
    )
    document = yaml.safe_load((stacks / f"Pulumi.{SPA}.yaml").read_text())
    assert "secretsprovider" not in document, "a passphrase stack has no awskms secrets provider"
    assert '--secrets-provider "passphrase"' in result.stdout


def test_passphrase_and_explicit_provider_together_are_refused(stacks: Path) -> None:
    args = [*BASE, "--passphrase-secrets", "--secrets-provider", "awskms://alias/x", "--yes", "--no-check"]
    assert_one_line_exit_2(new(SPA, *args), "not both")
    assert files_in(stacks) == []


# -------------------------------------------------------------------------------- interactive


def test_interactive_mode_re_asks_until_each_answer_is_valid(stacks: Path) -> None:
    answers = [
        "mars-1",  # region: refused
        "us-east-2",
        "us-east-2",  # DR region equal to the primary: refused
        "",  # DR region: default pair
        "Glow",
        "0.0.0.0/0",  # office: refused
        "203.0.113.0/24, 192.0.2.0/24",
        "",  # admin = office
        "nope",  # alert e-mail: refused
        "a@glow.example",
        "",  # owner = first alert e-mail
        "",
        "",
        "",
        "30",  # log retention below the floor: refused
        "",
        "",
        "",
    ]
    result = new(SPA, "--no-check", stdin="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("✗") == 5, f"each bad answer must be refused and re-asked: {result.output}"
    for fragment in ("not an AWS commercial region", "must differ", "whole internet", "email", "365-day"):
        assert fragment in result.output, f"the refusal should explain {fragment!r}"
    config = load_stack(stacks, SPA)
    assert (config.region, config.dr_region) == ("us-east-2", "us-west-2")
    assert config.office_cidrs == config.admin_cidrs == ("203.0.113.0/24", "192.0.2.0/24")
    assert config.owner == "a@glow.example"


def test_interactive_mode_with_closed_input_exits_2_and_writes_nothing(stacks: Path) -> None:
    result = new(SPA, "--no-check", stdin="us-east-1\n")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert files_in(stacks) == []


# ---------------------------------------------------------------------------- stack file keys


def test_loader_accepts_the_top_level_keys_pulumi_adds(stacks: Path) -> None:
    assert new(SPA, *BASE, "--yes", "--no-check").exit_code == 0
    path = stacks / f"Pulumi.{SPA}.yaml"
    document = yaml.safe_load(path.read_text())
    before = load_stack(stacks, SPA)
    document["encryptedkey"] = "AQICAHh0ZXN0LWtleQ=="
    document["encryptionsalt"] = "v1:c2FsdA==:v1:bm9uY2U=:Y2lwaGVy"
    path.write_text(yaml.safe_dump(document))
    assert load_stack(stacks, SPA) == before, (
        "secretsprovider / encryptedkey / encryptionsalt are Pulumi's keys and must not break loading"
    )


# ------------------------------------------------------------------------------------- the check


def test_missing_checkov_is_a_warning_and_the_file_stays(
    stacks: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MEDSPA_CHECKOV", str(tmp_path / "no-checkov"))
    result = new(SPA, *BASE, "--yes")
    assert result.exit_code == 0, result.output
    assert "WARN" in result.stderr and "bootstrap.py" in result.stderr, result.stderr
    assert list_stacks(stacks) == [SPA]


def test_next_steps_are_printed(stacks: Path) -> None:
    result = new(SPA, *BASE, "--yes", "--no-check")
    for step in (f"medspa preflight {SPA}", "pulumi stack init", f"medspa up {SPA}", f"medspa drill {SPA}"):
        assert step in result.stdout, f"next steps must include {step!r}"


@needs_checkov
def test_a_spa_made_from_flags_alone_passes_the_policy_check(stacks: Path) -> None:
    """End to end: `medspa new` with flags only, then `medspa check` (checkov; ~10-60 s)."""
    created = new(SPA, *BASE, "--yes")
    assert created.exit_code == 0, f"new + its check must pass: {created.output}"
    assert "PASS" in created.stdout
    checked = runner.invoke(app, ["check", SPA, "--format", "json"])
    assert checked.exit_code == 0, f"medspa check {SPA} must pass for a spa made from flags: {checked.output}"
