"""A beneficiary's history across months: orders, payout lines, exceptions (active batches, latest runs).

Lines are segments without an index by beneficiary: the active batches' segments are decoded for the one
column that finds the beneficiary, and only the batches holding them are decoded whole. Each segment is
filtered as it is decoded, so a year of national months (over 100M lines) is never held at once.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select

from disburse.ledger import bulk, segments
from disburse.ledger.models import Batch, BatchReversal
from disburse.schema import EXCEPTION_SCHEMA, ORDER_SCHEMA, PAYOUT_SCHEMA, Schema

LATEST_RUNS = "run_id IN (SELECT MAX(id) FROM run GROUP BY period)"


def history(conn: Connection, beneficiary_id: str) -> dict[str, pl.DataFrame]:
    orders = _lines(conn, "orders", ORDER_SCHEMA, beneficiary_id).sort("period", "order_id", "batch_id")
    payouts = _lines(conn, "payouts", PAYOUT_SCHEMA, beneficiary_id).sort(
        "period", "paid_on", "payout_id", nulls_last=False
    )
    exceptions = bulk.read_frame(
        conn,
        f"SELECT run_id, {', '.join(EXCEPTION_SCHEMA)} FROM run_exception "
        f"WHERE beneficiary_id = :beneficiary_id AND {LATEST_RUNS} ORDER BY period, run_id, line_no",
        {"run_id": pl.Int64(), **EXCEPTION_SCHEMA},
        {"beneficiary_id": beneficiary_id},
    )
    return {"orders": orders, "payouts": payouts, "exceptions": exceptions}


def _lines(conn: Connection, kind: str, schema: Schema, beneficiary_id: str) -> pl.DataFrame:
    active = conn.execute(
        select(Batch.id)
        .where(Batch.kind == kind, Batch.id.not_in(select(BatchReversal.batch_id)))
        .order_by(Batch.id)
    ).scalars()
    ids = [int(i) for i in active]
    theirs = pl.col("beneficiary_id") == beneficiary_id
    found = segments.load(conn, kind, ids, columns=["beneficiary_id"], where=theirs, owner_column="batch_id")
    holding = found["batch_id"].unique().to_list()
    return segments.load(conn, kind, holding, where=theirs, owner_column="batch_id")
