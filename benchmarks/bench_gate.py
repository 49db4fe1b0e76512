"""Benchmark of the policy gate: prints figures next to their targets (not a test; nothing asserts).

    .venv/bin/python benchmarks/bench_gate.py [--copies 50] [--repeat 5] [--skip-demo]

For the demo stack: synth, bridge and checkov times, the wall clock of `medspa check demo`, a bare
checkov scan of the same plan and their ratio (target <= 1.5x): the two are run --repeat times,
interleaved, and the medians compared, because a shared 2-core machine easily varies by 20% run to run. Then for 1 + N stacks (the demo plus N
copies of its config, demo-01.., in a temporary MEDSPA_STACKS_DIR): `medspa check --all` (synthesis
included) against a bare `checkov -d` over the same finished plans (target: no slower), and the peak
memory of the check (target < 1.5 GiB): the largest single process (wait4 maxrss, like
RUSAGE_CHILDREN) and the whole process tree (RSS and PSS summed over the tree, sampled from /proc).
Both checkov runs get the same offline environment (scripts.checkov_runner.OFFLINE_ENV), so the
comparison measures work, not network timeouts. Timed runs are not sampled (the sampler would take CPU
from whichever side uses both cores); memory comes from one more, sampled run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from infra.config import load_stack  # noqa: E402
from scripts import check as gate  # noqa: E402
from scripts import paths  # noqa: E402
from scripts.checkov_runner import CHECKS_DIR, OFFLINE_ENV, checkov_executable, run_checkov  # noqa: E402
from scripts.plan_bridge import to_plan  # noqa: E402
from scripts.synth import synthesize  # noqa: E402

GIB = 1024**3
DEMO_RATIO_TARGET = 1.5
MEMORY_TARGET = 1.5 * GIB
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Run:
    """One subprocess: wall clock, exit code, and its peak memory (largest process, whole tree)."""

    seconds: float
    returncode: int
    max_process_rss: int
    tree_rss: int
    tree_pss: int


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == current]
        found += kids
        frontier += kids
    return found


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes; (0, 0) once it is gone."""
    try:
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0, 0
    pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError):
        pass
    return rss, pss


def run(command: Sequence[str], env: dict[str, str] | None = None, *, sample: bool = False) -> Run:
    """Run a command and time it; with `sample`, also sample its process tree's memory every 50 ms."""
    peak = {"rss": 0, "pss": 0}
    start = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    done = threading.Event()

    def sample_tree() -> None:
        while not done.is_set():
            totals = [_memory(p) for p in [process.pid, *_children(process.pid)]]
            peak["rss"] = max(peak["rss"], sum(t[0] for t in totals))
            peak["pss"] = max(peak["pss"], sum(t[1] for t in totals))
            done.wait(0.05)

    sampler = threading.Thread(target=sample_tree, daemon=True)
    if sample:
        sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    if sample:
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, process.returncode, usage.ru_maxrss * 1024, peak["rss"], peak["pss"])


def medspa(*args: str, env: dict[str, str] | None = None, sample: bool = False) -> Run:
    return run([sys.executable, "-m", "scripts.cli", *args], env=env, sample=sample)


def bare_checkov(*target: str, sample: bool = False) -> Run:
    """checkov as a user would run it by hand on finished plans (CLI output, our checks, offline)."""
    command = [
        str(checkov_executable()),
        *target,
        "--framework",
        "terraform_plan",
        "--skip-download",
        "--external-checks-dir",
        str(CHECKS_DIR),
    ]
    return run(command, env=OFFLINE_ENV, sample=sample)


def timed(label: str, seconds: float, target: str = "", met: bool | None = None) -> None:
    verdict = "" if met is None else ("  MET" if met else "  NOT MET")
    print(f"  {label:<46} {seconds:8.2f} s{('   target: ' + target) if target else ''}{verdict}")


def mib(value: int) -> str:
    return f"{value / 1024**2:,.0f} MiB"


def spread(runs: Sequence[Run]) -> str:
    seconds = [r.seconds for r in runs]
    return f"(median of {len(seconds)}; {min(seconds):.2f}-{max(seconds):.2f} s)" if len(seconds) > 1 else ""


def demo(workdir: Path, repeat: int) -> None:
    print("demo stack")
    config = load_stack(paths.stacks_dir(), "demo")
    start = time.perf_counter()
    synthesis = synthesize(config)
    synth_s = time.perf_counter() - start
    start = time.perf_counter()
    plan = to_plan(synthesis.resources, spa="demo")
    bridge_s = time.perf_counter() - start
    plans_dir = workdir / "demo-plans"
    plans_dir.mkdir()
    gate.prepare_plan("demo", plan, plans_dir, source=gate.stack_source("demo"))
    start = time.perf_counter()
    run_checkov(plans_dir)
    checkov_s = time.perf_counter() - start
    checks: list[Run] = []
    bares: list[Run] = []
    for _ in range(repeat):  # interleaved, so a slow spell of the machine hits both sides
        checks.append(medspa("check", "demo", "--format", "json"))
        bares.append(bare_checkov("-f", str(plans_dir / "demo.json")))
    check_s = statistics.median(r.seconds for r in checks)
    bare_s = statistics.median(r.seconds for r in bares)
    ratio = check_s / bare_s
    memory = medspa("check", "demo", "--format", "json", sample=True)
    timed("synth (in process)", synth_s)
    timed("bridge (in process)", bridge_s)
    timed("checkov via scripts.checkov_runner", checkov_s)
    print(f"  {f'medspa check demo (exit {checks[0].returncode})':<46} {check_s:8.2f} s   {spread(checks)}")
    print(
        f"  {f'bare checkov -f demo.json (exit {bares[0].returncode})':<46} {bare_s:8.2f} s   {spread(bares)}"
    )
    print(
        f"  {'ratio check / bare (medians)':<46} {ratio:8.2f} x   target: <= {DEMO_RATIO_TARGET}x"
        f"  {'MET' if ratio <= DEMO_RATIO_TARGET else 'NOT MET'}"
    )
    print(f"  {'peak memory, largest process':<46} {mib(memory.max_process_rss):>10}")
    print(
        f"  {'peak memory, process tree (RSS / PSS)':<46} {mib(memory.tree_rss):>10} / {mib(memory.tree_pss)}"
    )


def batch(workdir: Path, copies: int) -> None:
    stacks = workdir / "stacks"
    stacks.mkdir()
    source = paths.stacks_dir() / "Pulumi.demo.yaml"
    shutil.copy(source, stacks / "Pulumi.demo.yaml")
    for index in range(1, copies + 1):
        shutil.copy(source, stacks / f"Pulumi.demo-{index:02d}.yaml")
    total = copies + 1
    print(f"\n{total} stacks (demo + {copies} copies), {os.cpu_count()} cores")
    env = {"MEDSPA_STACKS_DIR": str(stacks)}
    check = medspa("check", "--all", "--format", "json", env=env)
    memory = medspa("check", "--all", "--format", "json", env=env, sample=True)

    # The same finished plans for the bare scan, produced with the gate's own synthesis code.
    os.environ["MEDSPA_STACKS_DIR"] = str(stacks)
    plans_dir = workdir / "batch-plans"
    plans_dir.mkdir()
    start = time.perf_counter()
    gate._prepare_stacks(gate.resolve_spas([], all_stacks=True), plans_dir, None)
    prepare_s = time.perf_counter() - start
    bare = bare_checkov("-d", str(plans_dir))
    timed(f"medspa check --all (exit {check.returncode})", check.seconds)
    timed(f"  (synthesis + bridge of {total} plans alone)", prepare_s)
    timed(
        f"bare checkov -d over {total} plans (exit {bare.returncode})",
        bare.seconds,
        "check --all <= bare",
        check.seconds <= bare.seconds,
    )
    print(f"  {'ratio check --all / bare':<46} {check.seconds / bare.seconds:8.2f} x")
    for label, value in (
        ("peak memory, largest process (wait4 maxrss)", memory.max_process_rss),
        ("peak memory, process tree RSS (sampled)", memory.tree_rss),
        ("peak memory, process tree PSS (sampled)", memory.tree_pss),
    ):
        met = value < MEMORY_TARGET
        print(f"  {label:<46} {mib(value):>10}   target: < 1.5 GiB  {'MET' if met else 'NOT MET'}")
    print(f"  {'bare checkov peak, largest process':<46} {mib(bare.max_process_rss):>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50, help="copies of the demo config (default 50)")
    parser.add_argument("--skip-demo", action="store_true", help="only the batch figures")
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed runs of each side of the demo comparison (default 5)"
    )
    options = parser.parse_args()
    if options.copies < 0 or options.repeat < 1:
        parser.error("--copies must be >= 0 and --repeat >= 1")
    checkov_executable()
    with tempfile.TemporaryDirectory(prefix="medspa-bench-") as tmp:
        if not options.skip_demo:
            demo(Path(tmp), options.repeat)
        batch(Path(tmp), options.copies)


if __name__ == "__main__":
    main()
