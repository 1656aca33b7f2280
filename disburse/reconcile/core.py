"""The reconcile core: one period's frames in; exceptions, order outcomes and money out. Pure, vectorised."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import polars as pl

from disburse.reconcile.line_checks import duplicate_rows, line_checks, phantom_rows
from disburse.reconcile.matching import candidates, match, prepare_lines
from disburse.reconcile.model import ReconcileInput, ReconcileResult
from disburse.reconcile.money import summary
from disburse.reconcile.order_checks import (
    control_total_rows,
    duplicate_orders,
    order_checks,
    order_status,
    outcomes,
)
from disburse.reconcile.params import ProvinceParams
from disburse.reconcile.rows import sort_exceptions
from disburse.schema import EXCEPTION_SCHEMA, ORDER_SCHEMA, PAYOUT_SCHEMA, PRIOR_ORDER_SCHEMA, conform


def reconcile(inp: ReconcileInput, *, amount_tolerance_vnd: int | None = None) -> ReconcileResult:
    """Reconcile the period's payout lines against its orders and the ledger's open orders.

    ``amount_tolerance_vnd`` overrides every province profile's tolerance (default: the profile's, 0 VND).
    The result does not depend on the row order of any input frame.
    """
    if amount_tolerance_vnd is not None and amount_tolerance_vnd < 0:
        raise ValueError("amount_tolerance_vnd must be >= 0")
    period = inp.period
    orders = conform(inp.orders, ORDER_SCHEMA)
    prior = conform(inp.prior_orders, PRIOR_ORDER_SCHEMA)
    payouts = conform(inp.payouts, PAYOUT_SCHEMA)

    # DUPLICATE_ORDER reads only the orders: it runs while the matching does; the lines are prepared while
    # the candidates are built. Polars releases the GIL, so independent stages on threads use the cores a
    # single-chunk column operation leaves idle. Each task is a pure function of frames; the result does not
    # depend on which finishes first.
    with ThreadPoolExecutor(max_workers=3) as pool:
        prepared = pool.submit(prepare_lines, payouts, ProvinceParams(inp.profiles))
        dup_orders = pool.submit(duplicate_orders, period, orders)
        cand = candidates(period, orders, prior)
        lines = prepared.result()
        matching = match(lines, cand, prior)
        checks = pool.submit(
            line_checks,
            period,
            matching.pairs,
            matching.unpaid_cover,
            matching.lines,
            inp.events,
            inp.profiles,
            amount_tolerance_vnd,
            cand.orders,
        )
        status = order_status(cand, matching)
        money = pool.submit(summary, period, status, cand, matching, inp.profiles)
        outcome = pool.submit(outcomes, status, cand.superseded)
        parts: list[pl.DataFrame] = [
            phantom_rows(period, matching.phantoms),
            duplicate_rows(period, matching.duplicates),
            *order_checks(period, status, prior),
            control_total_rows(period, inp.control_totals),
            *checks.result(),
            dup_orders.result(),
        ]
        exceptions = sort_exceptions(
            conform(pl.concat([conform(p, EXCEPTION_SCHEMA) for p in parts]), EXCEPTION_SCHEMA)
        )
        return ReconcileResult(exceptions=exceptions, outcomes=outcome.result(), summary=money.result())
