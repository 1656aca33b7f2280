"""Canonical frames <-> the columns stored in the line tables.

The only differences: ``covers`` (a list) is stored as comma-joined text, and dates travel as ISO text into
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

LINE_TABLES: Mapping[str, tuple[str, Schema]] = {
    "orders": ("order_line", ORDER_SCHEMA),
    "events": ("event_line", EVENT_SCHEMA),
    "payouts": ("payout_line", PAYOUT_SCHEMA),
}
CONTROL_TOTAL_TABLE = ("control_total", CONTROL_TOTAL_SCHEMA)
OUTCOME_TABLE = ("run_outcome", OUTCOME_SCHEMA)
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
