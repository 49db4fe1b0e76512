"""Reading policies/checks/ from the kit's environment: the check files import checkov, so they are parsed,
never imported, here."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from scripts import paths

CHECKS_DIR = paths.REPO_ROOT / "policies" / "checks"
FIXTURES_DIR = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class CheckSource:
    """What a check file declares, read from its syntax tree."""

    path: Path
    classes: tuple[str, ...]
    instances: tuple[str, ...]
    ids: tuple[str, ...]
    guideline: str


def check_files() -> list[Path]:
    """Every check file (helpers start with an underscore)."""
    return sorted(p for p in CHECKS_DIR.glob("*.py") if not p.name.startswith("_"))


def _keyword_string(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            try:
                value = ast.literal_eval(keyword.value)
            except ValueError:
                return None
            return value if isinstance(value, str) else None
    return None


def read_check(path: Path) -> CheckSource:
    tree = ast.parse(path.read_text(), filename=str(path))
    classes = tuple(
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and any(getattr(base, "id", "").startswith("BaseResource") for base in node.bases)
    )
    instances = tuple(
        node.value.func.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and [getattr(t, "id", None) for t in node.targets] == ["check"]
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
    )
    ids: list[str] = []
    guideline = ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "__init__":
            check_id = _keyword_string(node, "id")
            if check_id:
                ids.append(check_id)
            guideline = _keyword_string(node, "guideline") or guideline
    return CheckSource(path, classes, instances, tuple(ids), guideline)


def all_check_ids() -> list[str]:
    return [check_id for path in check_files() for check_id in read_check(path).ids]
