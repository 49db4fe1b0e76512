"""Runs in checkov's own environment, not ours: import checkov early, then scan when told to.

Importing checkov and its ~1,000 checks takes seconds. `medspa check` starts this driver before it
synthesizes, so the import overlaps the synthesis; once the plans are written it sends one JSON line
on stdin: {"argv": [checkov's arguments, with "-d PLANS" and "--output-file-path OUT"], "workers": N}.
An empty line (or a closed stdin) means "never mind": exit 3.

checkov scans on one core. With N > 1 workers and several plan files, the imported process forks N
children (the import is paid once), each scanning its share of the files into OUT/part-K, and the
parent merges their reports into OUT/results_json.json; every plan is its own graph, so splitting by
file changes no result. Standard library only, plus checkov itself.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

GAVE_UP = 3
RESULTS_FILE = "results_json.json"


def _option(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def _without(argv: list[str], *flags: str) -> list[str]:
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in flags:
            skip = True
        else:
            kept.append(arg)
    return kept


def _shares(files: list[Path], workers: int) -> list[list[Path]]:
    """Balanced by size: the largest files first, each to the lightest share."""
    shares: list[list[Path]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for path in sorted(files, key=lambda p: p.stat().st_size, reverse=True):
        lightest = loads.index(min(loads))
        shares[lightest].append(path)
        loads[lightest] += path.stat().st_size
    return [share for share in shares if share]


def _scan_in_parallel(checkov: Any, argv: list[str], workers: int) -> int:
    plans = Path(_option(argv, "-d"))
    output = Path(_option(argv, "--output-file-path"))
    shares = _shares(sorted(plans.glob("*.json")), workers)
    if len(shares) < 2:
        return int(checkov.Checkov(argv=argv).run() or 0)
    base = _without(argv, "-d", "--output-file-path")
    children: list[int] = []
    for index, share in enumerate(shares):
        pid = os.fork()
        if pid == 0:  # child: scan this share, never return into the parent's code
            code = 2
            try:
                part = ["-f", *map(str, share), *base, "--output-file-path", str(output / f"part-{index}")]
                code = int(checkov.Checkov(argv=part).run() or 0)
            finally:
                os._exit(code)
        children.append(pid)
    worst = 0
    for pid in children:
        _, status = os.waitpid(pid, 0)
        worst = max(worst, os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 2)
    if worst > 1:
        return worst
    merged: list[Any] = []
    for index in range(len(shares)):
        document = json.loads((output / f"part-{index}" / RESULTS_FILE).read_text())
        merged.extend(document if isinstance(document, list) else [document])
    (output / RESULTS_FILE).write_text(json.dumps(merged))
    return worst


def main() -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checkov = importlib.import_module("checkov.main")
        line = sys.stdin.readline()
        if not line.strip():
            return GAVE_UP
        request = json.loads(line)
        argv = list(request["argv"])
        workers = int(request.get("workers", 1))
        if workers > 1 and "-d" in argv and "--output-file-path" in argv and hasattr(os, "fork"):
            return _scan_in_parallel(checkov, argv, workers)
        return int(checkov.Checkov(argv=argv).run() or 0)


if __name__ == "__main__":
    sys.exit(main())
