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


def _settled_by_state(period: str) -> pl.Expr:
    """On rows with an order's ``period``, ``state`` (null: no run touched it, so OPEN) and
    ``unpaid_in_own_period``: settled unless a line of the period names it."""
    recent = [shift_period(period, -1), shift_period(period, -2)]
    still_counted = pl.col("period").is_in(recent) & pl.col("unpaid_in_own_period").fill_null(False)
    return (pl.col("state").fill_null(OrderState.OPEN) != OrderState.OPEN) & ~still_counted


def _named(payouts: pl.DataFrame) -> pl.DataFrame:
    """The order ids the period's payout lines name (their ``order_ref``, ``|``-separated), repeats kept (they
    only meet semi and anti joins). Only the few lines naming several orders are split: splitting 5M
    references into lists costs more than the rest of this."""
    ref = pl.col("order_ref")
    several = ref.str.contains("|", literal=True)
    one = payouts.filter(~several).select(ref.str.strip_chars().alias("order_id"))
    split = payouts.filter(several).select(
        ref.str.split("|").explode(empty_as_null=True).str.strip_chars().alias("order_id")
    )
    return pl.concat([one, split]).drop_nulls()


def settled_orders(period: str, states: pl.DataFrame, payouts: pl.DataFrame) -> pl.Series:
    """Order ids (``order_id``) a run of ``period`` does not need among ``states`` (order_id, period: the
    order's own, state: after the latest run that touched it, unpaid_in_own_period), given the period's
    payout lines."""
    return (
        states.filter(_settled_by_state(period))
        .join(_named(payouts), on="order_id", how="anti")
        .get_column("order_id")
    )


def needed_orders(period: str, prior: pl.DataFrame, payouts: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``prior`` a run of ``period`` needs: every prior order but those ``settled_orders`` names.
    ``prior``: each prior order's order_id and period, with the state columns of ``settled_orders`` (null
    where no run touched the order). Two joins over a national ledger's millions of prior orders, where
    taking ``settled_orders`` away from them would take three."""
    settled = _settled_by_state(period)
    named_again = prior.filter(settled).join(_named(payouts), on="order_id", how="semi")
    return pl.concat([prior.filter(~settled), named_again])
