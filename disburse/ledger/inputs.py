"""What a reconciliation of a period reads from the ledger (``Ledger.reconcile_input``).

Only active batches count. A prior order's state comes from the runs of earlier periods: for each earlier
period its latest run (an older run of that period was replaced), and of those the one of the latest period
that touched the order. Runs of the period itself are ignored, so re-running a period reads the same input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl
from sqlalchemy import Connection, func, select

from disburse.errors import LedgerError
from disburse.ledger import bulk, segments
from disburse.ledger.codec import CONTROL_TOTAL_TABLE
from disburse.ledger.models import Batch, BatchReversal, Run
from disburse.profile import ProvinceProfile
from disburse.reconcile.model import ReconcileInput
from disburse.reconcile.prior import needed_orders
from disburse.schema import (
    CONTROL_TOTAL_SCHEMA,
    EVENT_SCHEMA,
    ORDER_SCHEMA,
    PAYOUT_SCHEMA,
    PRIOR_ORDER_SCHEMA,
    OrderState,
    Schema,
)


def _ids(values: Iterable[int]) -> str:
    # Integers from our own tables, rendered inline: COPY (used to read on PostgreSQL) takes no parameters.
    return ", ".join(str(int(v)) for v in values) or "NULL"


def _with_batch(schema: Schema) -> Schema:
    return {"batch_id": pl.Int64(), **schema}


def _select(table: str, schema: Schema, where: str) -> str:
    return f"SELECT batch_id, {', '.join(schema)} FROM {table} WHERE {where} ORDER BY batch_id, line_no"


def reconcile_input(
    conn: Connection, period: str, profiles: Mapping[str, ProvinceProfile]
) -> tuple[ReconcileInput, list[int]]:
    active = conn.execute(
        select(Batch.id, Batch.kind, Batch.first_period, Batch.last_period)
        .where(Batch.id.not_in(select(BatchReversal.batch_id)))
        .order_by(Batch.id)
    ).all()
    order_batches = [b.id for b in active if b.kind == "orders" and (b.first_period or "") <= period]
    with_prior = [b.id for b in active if b.kind == "orders" and (b.first_period or "") < period]
    event_batches = [b.id for b in active if b.kind == "events"]
    payout_batches = [
        b.id
        for b in active
        if b.kind == "payouts" and (b.first_period or "") <= period <= (b.last_period or "9999-99")
    ]

    events = segments.load(conn, "events", event_batches, owner_column="batch_id")
    payouts = segments.load(
        conn, "payouts", payout_batches, where=pl.col("period") == period, owner_column="batch_id"
    )
    # Prior orders the core cannot need (settled, named by no line) are dropped segment by segment as they
    # are decoded: a national ledger holds millions of them, which would otherwise be read every month. The
    # few needed are found first from the prior orders' ids and the runs' states alone: testing each segment
    # against the millions of settled ids instead built that set once per segment (30 s at 5M orders).
    prior_ids = segments.load(
        conn, "orders", with_prior, columns=["order_id", "period"], where=pl.col("period") < period
    )
    states = prior_ids.join(_run_states(conn, period).drop("period"), on="order_id", how="left")
    del prior_ids
    # (unique: the states of the orders kept, joined to their lines below)
    needed = needed_orders(period, states, payouts).unique("order_id")
    del states
    keep = (pl.col("period") == _period(period)) | (
        (pl.col("period") < period) & pl.col("order_id").is_in(needed.get_column("order_id").implode())
    )
    all_orders = segments.load(conn, "orders", order_batches, where=keep, owner_column="batch_id")
    ct_table, _ = CONTROL_TOTAL_TABLE
    controls = bulk.read_frame(
        conn,
        _select(
            ct_table,
            CONTROL_TOTAL_SCHEMA,
            f"batch_id IN ({_ids(payout_batches)}) AND period = '{_period(period)}'",
        ),
        _with_batch(CONTROL_TOTAL_SCHEMA),
    )

    orders = all_orders.filter(pl.col("period") == period)
    prior = _with_states(all_orders.filter(pl.col("period") < period), needed)
    # Every order batch counts, even one whose prior orders were all left out: it holds lines of a period up
    # to this one, and status.py names the same batches.
    used = {*event_batches, *order_batches}
    for frame in (payouts, controls):
        used.update(frame["batch_id"].unique().to_list())
    data = ReconcileInput(
        period=period,
        orders=orders.select(list(ORDER_SCHEMA)),
        prior_orders=prior.select(list(PRIOR_ORDER_SCHEMA)),
        events=events.select(list(EVENT_SCHEMA)),
        payouts=payouts.select(list(PAYOUT_SCHEMA)),
        control_totals=controls.select(list(CONTROL_TOTAL_SCHEMA)),
        profiles=profiles,
    )
    return data, sorted(int(i) for i in used)


def _period(period: str) -> str:
    # Inline literal (see _ids): accept only the YYYY-MM shape so nothing else can reach the SQL text.
    if len(period) != 7 or period[4] != "-" or not (period[:4] + period[5:]).isdigit():
        raise LedgerError(f"{period!r} is not a period (YYYY-MM).")
    return period


def _run_states(conn: Connection, period: str) -> pl.DataFrame:
    """Per prior order the runs touched: its own period, its state after the latest run that touched it, and
    whether its own period's run found it unpaid. Runs: the latest of each earlier period."""
    runs = conn.execute(
        select(Run.period, func.max(Run.id)).where(Run.period < period).group_by(Run.period)
    ).all()
    run_period = pl.DataFrame(
        [(int(run_id), run_p) for run_p, run_id in runs],
        schema={"run_id": pl.Int64(), "run_period": pl.String()},
        orient="row",
    )
    touched = segments.load(
        conn,
        "outcomes",
        run_period["run_id"].to_list(),
        columns=["order_id", "period", "state", "unpaid_in_own_period"],
        owner_column="run_id",
    )
    if run_period.is_empty():  # (polars types an empty mapping's result by its keys, not return_dtype)
        return touched.drop("run_id")
    of_run = pl.col("run_id").replace_strict(
        run_period["run_id"], run_period["run_period"], return_dtype=pl.String()
    )
    rows = touched.select(
        "order_id",
        "period",
        "state",
        pl.when(pl.col("period") == of_run)
        .then(pl.col("unpaid_in_own_period"))
        .alias("unpaid_in_own_period"),
        run_period=of_run,
    )
    if run_period.height <= 1:  # a run's outcomes name each order once: nothing to combine
        return rows.drop("run_period")
    # An order touched by several runs: its state after the run of the latest period, and what the run of
    # its own period found (a null from the other runs).
    return (
        rows.sort("run_period", maintain_order=True)
        .group_by("order_id")
        .agg(
            pl.col("period").last(),
            pl.col("state").last(),
            pl.col("unpaid_in_own_period").drop_nulls().last(),
        )
    )


def _with_states(prior: pl.DataFrame, states: pl.DataFrame) -> pl.DataFrame:
    """Prior orders with their state (OPEN when no run touched them yet)."""
    return prior.join(states.drop("period"), on="order_id", how="left", maintain_order="left").with_columns(
        pl.col("state").fill_null(OrderState.OPEN.value),
        pl.col("unpaid_in_own_period").fill_null(False),
    )
