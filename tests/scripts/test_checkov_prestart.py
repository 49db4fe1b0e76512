"""The prestarted checkov driver splits plans into small batches: bounded memory, no plan lost."""

from __future__ import annotations

from pathlib import Path

from scripts.checkov_prestart import MAX_PLANS_PER_SCAN, _batches


def _plans(directory: Path, sizes: list[int]) -> list[Path]:
    paths = []
    for index, size in enumerate(sizes):
        path = directory / f"plan-{index:02d}.json"
        path.write_text("x" * size)
        paths.append(path)
    return paths


def test_every_plan_is_scanned_exactly_once(tmp_path: Path) -> None:
    plans = _plans(tmp_path, [100 + i for i in range(51)])
    batches = _batches(plans, workers=2)
    scanned = [path for batch in batches for path in batch]
    assert sorted(scanned) == sorted(plans), "a plan was dropped or scanned twice by the batch split"


def test_no_batch_holds_more_plans_than_the_memory_bound(tmp_path: Path) -> None:
    batches = _batches(_plans(tmp_path, [100] * 51), workers=2)
    largest = max(len(batch) for batch in batches)
    assert largest <= MAX_PLANS_PER_SCAN, f"a scanner would hold {largest} plans (> {MAX_PLANS_PER_SCAN})"


def test_a_few_plans_still_use_every_worker(tmp_path: Path) -> None:
    batches = _batches(_plans(tmp_path, [100, 200, 300]), workers=2)
    assert len(batches) == 2, f"3 plans on 2 workers gave {len(batches)} batches, not 2"
