"""The reconcile core against the floor: a bare polars full outer join of the same orders and payout lines.

Rows from ``BENCH_ROWS`` (default 200_000; also run at 1_000_000 and 5_000_000). The frames are generated
once per module: two months of ``generate`` with default injection rates, the first reconciled so that the
benchmarked month (the second) has a ledger behind it (prior orders, open orders carried in, arrears).
Group ``reconcile`` holds:

- ``bare_full_join``: ``orders.join(exploded_payouts, on="order_id", how="full")`` where the payouts'
  ``order_ref`` is already split and exploded into ``order_id`` (not timed): the floor of any matching.
- ``reconcile_core``: ``reconcile(ReconcileInput)`` for the same month: coverage, ranking, allocation,
  every check, outcomes, money.

``reconcile_core`` records ``ratio_to_join`` (its median over the join's, measured in the same session; the
target is <= 2). Run:

    BENCH_ROWS=1000000 .venv/bin/python -m pytest benchmarks/test_bench_reconcile.py --benchmark-only -s
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from disburse.fixtures.generate import generate
from disburse.profile import pilot_provinces
from disburse.reconcile import ReconcileInput, ReconcileResult, reconcile
from disburse.reconcile.simulate import inputs_for

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
GROUP = "reconcile"
SEED = 1
MEDIANS: dict[str, float] = {}
# Generating 5 M rows takes minutes and gigabytes: the benchmarked month's input is cached as parquet, keyed
# by rows and seed (delete the folder, or set BENCH_CACHE="", after changing the generator or the core's
# outcomes: the cached month's prior orders carry the states the core gave them).
CACHE = os.environ.get("BENCH_CACHE", "/tmp/disburse-bench-cache")
_FRAMES = ("orders", "prior_orders", "events", "payouts", "control_totals")


def bench_input(rows: int, seed: int = SEED) -> ReconcileInput:
    """The second of two generated months (the first reconciled, so it has a ledger behind it), cached."""
    folder = Path(CACHE) / f"rows{rows}-seed{seed}" if CACHE else None
    if folder is not None and all((folder / f"{name}.parquet").exists() for name in _FRAMES):
        frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in _FRAMES}
        period = (folder / "period.txt").read_text().strip()
        return ReconcileInput(period=period, profiles=pilot_provinces(), **frames)
    months = generate("2026-09", 2, rows, seed=seed)
    first = reconcile(inputs_for(months, 0, []))
    inp = inputs_for(months, 1, [first])
    if folder is not None:
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        for name in _FRAMES:
            getattr(inp, name).write_parquet(tmp / f"{name}.parquet")
        (tmp / "period.txt").write_text(inp.period)
        if not folder.exists():
            tmp.rename(folder)
    return inp


@pytest.fixture(scope="module")
def month() -> ReconcileInput:
    return bench_input(ROWS)


@pytest.fixture(scope="module")
def exploded(month: ReconcileInput) -> pl.DataFrame:
    return month.payouts.with_columns(order_id=pl.col("order_ref").str.split("|")).explode(
        "order_id", empty_as_null=True
    )


def _record(benchmark: BenchmarkFixture, name: str, rows: int) -> None:
    stats = benchmark.stats
    assert stats is not None
    median: float = stats.stats.median
    MEDIANS[name] = median
    benchmark.extra_info["rows"] = rows
    benchmark.extra_info["rows_per_s"] = round(rows / median)
    line = f"\n{name}: {rows:,} orders, median {median:.3f}s"
    if name != "bare_full_join" and "bare_full_join" in MEDIANS:
        ratio = median / MEDIANS["bare_full_join"]
        benchmark.extra_info["ratio_to_join"] = round(ratio, 3)
        line += f", {ratio:.2f}x the bare full join"
    print(line)


@pytest.mark.benchmark(group=GROUP)
def test_bare_full_join(benchmark: BenchmarkFixture, month: ReconcileInput, exploded: pl.DataFrame) -> None:
    def join() -> pl.DataFrame:
        return month.orders.join(exploded, on="order_id", how="full")

    joined = benchmark.pedantic(join, rounds=ROUNDS, iterations=1, warmup_rounds=1)  # type: ignore[no-untyped-call]
    assert joined.height >= month.orders.height
    _record(benchmark, "bare_full_join", month.orders.height)


@pytest.mark.benchmark(group=GROUP)
def test_reconcile_core(benchmark: BenchmarkFixture, month: ReconcileInput) -> None:
    result: ReconcileResult = benchmark.pedantic(  # type: ignore[no-untyped-call]
        reconcile, args=(month,), rounds=ROUNDS, iterations=1, warmup_rounds=1
    )
    assert result.outcomes.height >= month.orders.height
    assert not result.exceptions.is_empty()
    _record(benchmark, "reconcile_core", month.orders.height)
