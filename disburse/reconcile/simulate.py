"""An in-memory ledger: what the ledger would feed the core for month k of generated months.

Tests and benchmarks use it to run the core month after month without a database: prior orders carry the
state the core's own previous outcomes gave them (the latest run that touched an order wins)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from disburse.fixtures.model import GeneratedMonth
from disburse.profile import pilot_provinces
from disburse.reconcile.model import ReconcileInput, ReconcileResult
from disburse.schema import (
    CONTROL_TOTAL_SCHEMA,
    EVENT_SCHEMA,
    ORDER_SCHEMA,
    PAYOUT_SCHEMA,
    PRIOR_ORDER_SCHEMA,
    conform,
    empty,
)


def control_totals(month: GeneratedMonth) -> pl.DataFrame:
    """CONTROL_TOTAL_SCHEMA rows as a loader would report them for the month's footer files."""
    rows = []
    profiles = pilot_provinces()
    for code, (footer_paid, footer_fee) in sorted(month.footers.items()):
        lines = month.payouts.get(code, empty(PAYOUT_SCHEMA))
        paid = lines.filter(pl.col("status").str.starts_with("PAID")).get_column("amount_paid_vnd").sum()
        rows.append(
            {
                "province_code": code,
                "period": month.period,
                "source_name": f"{profiles[code].dialect}_{month.period}",
                "footer_paid_vnd": footer_paid,
                "footer_fee_vnd": footer_fee,
                "lines_paid_vnd": int(paid),
                "lines_fee_vnd": int(lines.get_column("fee_vnd").fill_null(0).sum()),
            }
        )
    return pl.DataFrame(rows, schema=CONTROL_TOTAL_SCHEMA) if rows else empty(CONTROL_TOTAL_SCHEMA)


def prior_orders(
    months: Sequence[GeneratedMonth], k: int, results: Sequence[ReconcileResult]
) -> pl.DataFrame:
    """Orders of months before k with the state of the latest outcome the core gave them."""
    if k == 0:
        return empty(PRIOR_ORDER_SCHEMA)
    orders = pl.concat([conform(m.orders, ORDER_SCHEMA) for m in months[:k]])
    latest = (
        pl.concat([r.outcomes.with_columns(_run=pl.lit(i)) for i, r in enumerate(results[:k])])
        .sort("_run")
        .group_by("order_id")
        .agg(pl.col("state", "unpaid_in_own_period").last())
    )
    joined = orders.join(latest, on="order_id", how="left")
    return conform(joined, PRIOR_ORDER_SCHEMA)


def inputs_for(
    months: Sequence[GeneratedMonth], k: int, previous_results: Sequence[ReconcileResult]
) -> ReconcileInput:
    """The ReconcileInput of month k, given the core's results of months 0..k-1."""
    if len(previous_results) < k:
        raise ValueError(f"month {k} needs the results of the {k} months before it")
    month = months[k]
    events = [m.events for m in months[: k + 1]]
    return ReconcileInput(
        period=month.period,
        orders=month.orders,
        prior_orders=prior_orders(months, k, previous_results),
        events=pl.concat([conform(e, EVENT_SCHEMA) for e in events]) if events else empty(EVENT_SCHEMA),
        payouts=pl.concat([conform(p, PAYOUT_SCHEMA) for _, p in sorted(month.payouts.items())]),
        control_totals=control_totals(month),
        profiles=pilot_provinces(),
    )
