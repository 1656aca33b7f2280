"""The core against the generator's ground truth, month after month through the in-memory ledger.

The expected rows come from what the generator injected (its own model of the world), never from the core.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from disburse.fixtures.generate import generate
from disburse.fixtures.model import GeneratedMonth
from disburse.reconcile import ReconcileResult, reconcile, sort_exceptions
from disburse.reconcile.prior import needed_orders, settled_orders
from disburse.reconcile.simulate import inputs_for
from disburse.schema import EXCEPTION_SCHEMA, OUTCOME_SCHEMA, SUMMARY_SCHEMA, Code

KEY = ["code", "order_id", "payout_id"]


@cache
def months_of(seed: int, rows: int, months: int) -> tuple[list[GeneratedMonth], list[ReconcileResult]]:
    generated = generate("2026-08", months, rows, seed)
    results: list[ReconcileResult] = []
    for k in range(months):
        results.append(reconcile(inputs_for(generated, k, results)))
    return generated, results


def diff_by_code(got: pl.DataFrame, expected: pl.DataFrame) -> str:
    """Per code: rows the core gave that the truth lacks, and rows of the truth the core missed."""
    extra = got.join(expected, on=KEY, how="anti", nulls_equal=True)
    missing = expected.join(got, on=KEY, how="anti", nulls_equal=True)
    lines = []
    for code in sorted(set(extra.get_column("code")) | set(missing.get_column("code"))):
        lines.append(f"{code}:")
        for label, frame in (("  unexpected", extra), ("  missed", missing)):
            for row in frame.filter(pl.col("code") == code).head(8).iter_rows():
                lines.append(f"{label} {row}")
    return "\n".join(lines)


CASES = [(seed, rows, months) for seed in (1, 2, 3, 4) for rows, months in ((600, 4), (3000, 3))]


@pytest.mark.parametrize(("seed", "rows", "months"), CASES)
def test_exceptions_equal_the_ground_truth(seed: int, rows: int, months: int) -> None:
    generated, results = months_of(seed, rows, months)
    for month, result in zip(generated, results, strict=True):
        got = result.exceptions.select(KEY).sort(KEY, nulls_last=True)
        expected = month.expected.sort(KEY, nulls_last=True)
        assert got.equals(expected), (
            f"{month.period} (seed {seed}, rows {rows}):\n{diff_by_code(got, expected)}"
        )


@pytest.mark.parametrize(("seed", "rows", "months"), CASES[:2])
def test_every_code_is_exercised(seed: int, rows: int, months: int) -> None:
    generated, _ = months_of(seed, rows, months)
    seen = set(pl.concat([m.expected for m in generated]).get_column("code"))
    assert seen == {str(c) for c in Code}


@pytest.mark.parametrize(("seed", "rows", "months"), CASES[:2])
def test_outputs_conform_and_are_sorted(seed: int, rows: int, months: int) -> None:
    _, results = months_of(seed, rows, months)
    for result in results:
        assert result.exceptions.schema == pl.Schema(EXCEPTION_SCHEMA)
        assert result.outcomes.schema == pl.Schema(OUTCOME_SCHEMA)
        assert result.summary.schema == pl.Schema(SUMMARY_SCHEMA)
        assert result.exceptions.equals(sort_exceptions(result.exceptions))
        assert result.outcomes.get_column("order_id").is_sorted()
        assert result.outcomes.get_column("order_id").is_unique().all()
        assert result.summary.get_column("province_code").is_sorted()
        assert result.exceptions.get_column("detail").is_not_null().all()


@pytest.mark.parametrize(("seed", "rows", "months"), CASES[:2])
def test_money_is_conserved_per_province(seed: int, rows: int, months: int) -> None:
    _, results = months_of(seed, rows, months)
    for result in results:
        s = result.summary
        gap = s.select(
            ordered=pl.col("ordered_vnd")
            - pl.col("matched_paid_vnd")
            - pl.col("underpaid_gap_vnd")
            - pl.col("unpaid_vnd")
            - pl.col("missing_vnd"),
            close=pl.col("advance_vnd")
            + pl.col("carried_in_vnd")
            - pl.col("paid_out_vnd")
            - pl.col("returned_vnd")
            - pl.col("carried_out_vnd")
            - pl.col("residual_vnd"),
        )
        assert gap.get_column("ordered").to_list() == [0] * s.height
        assert gap.get_column("close").to_list() == [0] * s.height


@pytest.mark.parametrize("seed", [1, 2])
def test_leaving_out_the_settled_prior_orders_changes_no_result(seed: int) -> None:
    """The ledger hands the core only the prior orders ``settled_orders`` does not name; every month of a
    generated history (every code injected) must give exactly the same results with and without them."""
    generated, results = months_of(seed, 600, 4)
    for k in range(1, len(generated)):
        full = inputs_for(generated, k, results[:k])
        states = full.prior_orders.select("order_id", "period", "state", "unpaid_in_own_period")
        settled = settled_orders(full.period, states, full.payouts)
        assert settled.len() > 0  # the month really has prior orders to leave out
        pruned = replace(
            full, prior_orders=full.prior_orders.filter(~pl.col("order_id").is_in(settled.implode()))
        )
        # What the ledger computes (``needed_orders``, over prior orders a run never touched too: a null
        # state) keeps exactly the prior orders ``settled_orders`` does not name.
        untouched = states.with_columns(
            pl.when(pl.col("state") != "OPEN").then(pl.col("state")).alias("state"),
            pl.when(pl.col("state") != "OPEN")
            .then(pl.col("unpaid_in_own_period"))
            .alias("unpaid_in_own_period"),
        )
        for prior in (states, untouched):
            needed = needed_orders(full.period, prior, full.payouts).get_column("order_id")
            assert sorted(needed.to_list()) == sorted(pruned.prior_orders.get_column("order_id").to_list())
        got = reconcile(pruned)
        assert_frame_equal(got.exceptions, results[k].exceptions)
        assert_frame_equal(got.summary, results[k].summary)
        assert_frame_equal(got.outcomes, results[k].outcomes)
