"""Runs in checkov's own environment, not ours: import checkov early, then scan when told to.

Importing checkov and its ~1,000 checks takes seconds. `medspa check` starts this driver before it
synthesizes, so the import overlaps the synthesis; once the plans are written it sends one JSON line
on stdin: {"argv": [checkov's arguments, with "-d PLANS" and "--output-file-path OUT"], "workers": N}.
An empty line (or a closed stdin) means "never mind": exit 3.

checkov scans on one core. With N > 1 workers and several plan files, the imported process splits
the files into small batches and forks one child per batch, at most N at a time (the import is paid
once), each scanning its batch into OUT/part-K; the parent merges their reports into
OUT/results_json.json. Every plan is its own graph, so splitting by file changes no result.
Standard library only, plus checkov itself.
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
# Plans per forked scanner: bounds each scanner's memory (the batch path's peak) at a small cost in
# per-scan start-up; every plan is its own graph, so the batching changes no result.
MAX_PLANS_PER_SCAN = 8


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


def _batches(files: list[Path], workers: int) -> list[list[Path]]:
    """Balanced by size, and small: a scanner's memory grows with the plans it holds at once."""
    count = max(workers, -(-len(files) // MAX_PLANS_PER_SCAN))
    batches: list[list[Path]] = [[] for _ in range(count)]
    loads = [0] * count
    sizes = {path: path.stat().st_size for path in files}
    for path in sorted(files, key=sizes.__getitem__, reverse=True):
        lightest = loads.index(min(loads))
        batches[lightest].append(path)
        loads[lightest] += sizes[path]
    return [batch for batch in batches if batch]


def _fork_scan(checkov: Any, argv: list[str]) -> None:
    """Scan one batch in a child; the parent reaps it with os.wait()."""
    if os.fork() == 0:  # child: scan one batch, never return into the parent's code
        code = 2
        try:
            code = int(checkov.Checkov(argv=argv).run() or 0)
        finally:
            os._exit(code)


def _scan_in_parallel(checkov: Any, argv: list[str], workers: int) -> int:
    plans = Path(_option(argv, "-d"))
    output = Path(_option(argv, "--output-file-path"))
    batches = _batches(sorted(plans.glob("*.json")), workers)
    if len(batches) < 2:
        return int(checkov.Checkov(argv=argv).run() or 0)
    base = _without(argv, "-d", "--output-file-path")
    waiting = list(enumerate(batches))
    running = 0
    worst = 0
    while waiting or running:
        while waiting and running < workers:
            index, batch = waiting.pop(0)
            _fork_scan(
                checkov, ["-f", *map(str, batch), *base, "--output-file-path", str(output / f"part-{index}")]
            )
            running += 1
        _, status = os.wait()
        running -= 1
        worst = max(worst, os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 2)
    if worst > 1:
        return worst
    merged: list[Any] = []
    for index in range(len(batches)):
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
