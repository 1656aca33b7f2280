"""Which schema each stored kind of line has, and canonical frames <-> the columns of the row tables.

Segments (segments.py) hold canonical frames as they are. In row tables (and the row tables of ledgers from
before migration 0002) ``covers`` (a list) is stored as comma-joined text, and dates travel as ISO text into
SQLite (what SQLAlchemy's Date stores there too). Reading back casts every column to the canonical dtype, so
a frame that went in comes out equal.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from disburse.schema import (
    CONTROL_TOTAL_SCHEMA,
    EVENT_SCHEMA,
    EXCEPTION_SCHEMA,
    ORDER_SCHEMA,
    OUTCOME_SCHEMA,
    PAYOUT_SCHEMA,
    SUMMARY_SCHEMA,
    Schema,
    conform,
)

# Batch kinds (their lines are segments owned by the batch).
LINE_SCHEMAS: Mapping[str, Schema] = {
    "orders": ORDER_SCHEMA,
    "events": EVENT_SCHEMA,
    "payouts": PAYOUT_SCHEMA,
}
# Every kind of segment: a batch's lines, or a run's outcomes.
SEGMENT_SCHEMAS: Mapping[str, Schema] = {**LINE_SCHEMAS, "outcomes": OUTCOME_SCHEMA}
# The longest text a line may hold in each identifier or code column: real ones are far shorter, so a longer
# value is a broken file (a shifted column, a whole row in one cell), refused before anything is stored.
TEXT_LIMITS: Mapping[str, int] = {
    "order_id": 64,
    "payout_id": 64,
    "beneficiary_id": 64,
    "period": 7,
    "province_code": 8,
    "ward_code": 8,
    "national_id": 32,
    "receiver_national_id": 32,
    "proxy_national_id": 32,
    "program": 8,
    "allowance_code": 32,
    "status": 24,
    "post_office_code": 16,
    "event": 16,
}
# Columns every stored line has a value in (what a loader's validation guarantees): asserted before storing.
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "orders": ("order_id", "period", "province_code", "beneficiary_id", "amount_vnd", "covers"),
    "payouts": ("province_code", "period", "payout_id", "amount_paid_vnd", "status"),
    "events": ("event",),
    "outcomes": ("order_id", "period", "state"),
}
CONTROL_TOTAL_TABLE = ("control_total", CONTROL_TOTAL_SCHEMA)
EXCEPTION_TABLE = ("run_exception", EXCEPTION_SCHEMA)
SUMMARY_TABLE = ("run_summary", SUMMARY_SCHEMA)


def to_storage(frame: pl.DataFrame, schema: Schema) -> pl.DataFrame:
    """The frame conformed to ``schema`` with lists joined to text (dates stay dates; bulk.py decides)."""
    out = conform(frame, schema)
    lists = [name for name, dtype in schema.items() if isinstance(dtype, pl.List)]
    if lists:
        out = out.with_columns(pl.col(name).list.join(",") for name in lists)
    return out


def from_storage(frame: pl.DataFrame, schema: Schema) -> pl.DataFrame:
    """Stored columns (any of the drivers' representations) back to the canonical schema, in its order."""
    exprs: list[pl.Expr] = []
    for name, dtype in schema.items():
        col = pl.col(name)
        current = frame.schema[name]
        if isinstance(dtype, pl.List):
            # An empty text would split to [""]: canonical frames never carry an empty list of periods.
            expr = col.cast(pl.String).str.split(",")
        elif isinstance(dtype, pl.Date) and current == pl.String:
            expr = col.str.to_date("%Y-%m-%d")
        elif isinstance(dtype, pl.Date) and isinstance(current, pl.Datetime):
            expr = col.dt.date()
        elif isinstance(dtype, pl.Boolean) and current != pl.Boolean:
            expr = col.cast(pl.Int64).cast(pl.Boolean)
        else:
            expr = col.cast(dtype)
        exprs.append(expr.alias(name))
    return frame.select(exprs)
