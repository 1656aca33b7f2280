"""Which prior orders a run of a period can still need: what the ledger may leave out of ``prior_orders``.

The core reads a prior order only when it is ``OPEN`` (a candidate, money carried in), when a line of the
period names it (paid twice, or paid after an earlier run settled it), or when it is an unpaid order of one of
the two periods before (UNCOLLECTED_3_MONTHS). Every other prior order is settled for good as far as this
period is concerned; leaving it out gives the same result, and a national ledger holds millions of them.
"""

from __future__ import annotations

import polars as pl

from disburse.reconcile.periods import shift_period
from disburse.schema import OrderState


def settled_orders(period: str, states: pl.DataFrame, payouts: pl.DataFrame) -> pl.Series:
    """Order ids (``order_id``) a run of ``period`` does not need among ``states`` (order_id, period: the
    order's own, state: after the latest run that touched it, unpaid_in_own_period), given the period's
    payout lines (their ``order_ref``, ``|``-separated)."""
    named = payouts.select(
        pl.col("order_ref").str.split("|").explode(empty_as_null=True).str.strip_chars().alias("order_id")
    )
    recent = [shift_period(period, -1), shift_period(period, -2)]
    still_counted = pl.col("period").is_in(recent) & pl.col("unpaid_in_own_period").fill_null(False)
    return (
        states.filter((pl.col("state") != OrderState.OPEN) & ~still_counted)
        .join(named.drop_nulls().unique(), on="order_id", how="anti")
        .get_column("order_id")
    )
