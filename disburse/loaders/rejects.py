"""Turn per-cell reasons into reject rows and split a parsed frame into good rows and rejects, vectorised."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from disburse.loaders.read import ROW
from disburse.schema import REJECT_SCHEMA, empty


@dataclass(frozen=True)
class Check:
    """One way a row can be unreadable: the file's header, the cell text to show, and the reason.

    ``flag`` is a cheap row mask that is true wherever ``reason`` may be non-null (e.g. "the cell has text but
    no parsed value"): the reasons, which are costly string logic, are then computed on flagged rows only.
    None: the reason itself is the flag."""

    column: str  # header text as in the file
    value: pl.Expr  # what the person sees in that cell
    reason: pl.Expr  # String; null = fine
    flag: pl.Expr | None = None


def field_check(
    column: str, raw: pl.Expr, parsed_value: pl.Expr, reason: pl.Expr, *, required: bool
) -> Check:
    """The usual check of one parsed cell: it is bad iff it has text but no value, or is empty but needed."""
    flag = raw.is_not_null() & parsed_value.is_null()
    if required:
        flag = flag | raw.is_null()
    return Check(column, raw, reason, flag)


def split(frame: pl.DataFrame, checks: list[Check], source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows with no reason, REJECT_SCHEMA rows: one per failed check). Nothing is dropped: every row of
    ``frame`` is in exactly one of the two (a row may give several rejects)."""
    if not checks:
        return frame, empty(REJECT_SCHEMA)
    flags = [(c.flag if c.flag is not None else c.reason.is_not_null()).fill_null(False) for c in checks]
    bad = frame.select(pl.any_horizontal(flags)).to_series()
    if not bad.any():  # the usual case: no copy of the frame at all
        return frame, empty(REJECT_SCHEMA)
    flagged = frame.filter(bad).select(
        pl.col(ROW),
        *[c.value.cast(pl.String).alias(f"__value{i}") for i, c in enumerate(checks)],
        *[c.reason.cast(pl.String).alias(f"__reason{i}") for i, c in enumerate(checks)],
    )
    parts = [
        flagged.filter(pl.col(f"__reason{i}").is_not_null()).select(
            pl.lit(source).alias("file"),
            pl.col(ROW).cast(pl.Int64).alias("row"),
            pl.lit(c.column).alias("column"),
            pl.col(f"__value{i}").alias("value"),
            pl.col(f"__reason{i}").alias("reason"),
        )
        for i, c in enumerate(checks)
    ]
    rejects = pl.concat(parts).sort("row", maintain_order=True).cast(pl.Schema(REJECT_SCHEMA))
    good = frame.filter(~bad)
    rejected_rows = rejects.get_column("row").unique()
    false_alarms = frame.filter(bad & ~pl.col(ROW).is_in(rejected_rows.implode()))
    if false_alarms.height:  # a flag broader than its reason: those rows are fine, never lost
        good = pl.concat([good, false_alarms]).sort(ROW)
    return good, rejects
