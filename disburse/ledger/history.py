"""A beneficiary's history across months: orders, payout lines, exceptions (active batches, latest runs)."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection

from disburse.ledger import bulk
from disburse.schema import EXCEPTION_SCHEMA, ORDER_SCHEMA, PAYOUT_SCHEMA

ACTIVE = "batch_id NOT IN (SELECT batch_id FROM batch_reversal)"
LATEST_RUNS = "run_id IN (SELECT MAX(id) FROM run GROUP BY period)"


def history(conn: Connection, beneficiary_id: str) -> dict[str, pl.DataFrame]:
    params = {"beneficiary_id": beneficiary_id}
    orders = bulk.read_frame(
        conn,
        f"SELECT batch_id, {', '.join(ORDER_SCHEMA)} FROM order_line "
        f"WHERE beneficiary_id = :beneficiary_id AND {ACTIVE} ORDER BY period, order_id, batch_id",
        {"batch_id": pl.Int64(), **ORDER_SCHEMA},
        params,
    )
    payouts = bulk.read_frame(
        conn,
        f"SELECT batch_id, {', '.join(PAYOUT_SCHEMA)} FROM payout_line "
        f"WHERE beneficiary_id = :beneficiary_id AND {ACTIVE} ORDER BY period, paid_on, payout_id",
        {"batch_id": pl.Int64(), **PAYOUT_SCHEMA},
        params,
    )
    exceptions = bulk.read_frame(
        conn,
        f"SELECT run_id, {', '.join(EXCEPTION_SCHEMA)} FROM run_exception "
        f"WHERE beneficiary_id = :beneficiary_id AND {LATEST_RUNS} ORDER BY period, run_id, line_no",
        {"run_id": pl.Int64(), **EXCEPTION_SCHEMA},
        params,
    )
    return {"orders": orders, "payouts": payouts, "exceptions": exceptions}
