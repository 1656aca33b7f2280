"""Exception rows in EXCEPTION_SCHEMA and their canonical order."""

from __future__ import annotations

import polars as pl

from disburse.schema import EXCEPTION_SCHEMA, SEVERITY, SEVERITY_RANK, empty


def exception_rows(
    frame: pl.DataFrame,
    code: str,
    period: str,
    *,
    province: pl.Expr,
    order_id: pl.Expr,
    payout_id: pl.Expr,
    beneficiary_id: pl.Expr,
    national_id: pl.Expr,
    ordered: pl.Expr,
    paid: pl.Expr,
    detail: pl.Expr,
) -> pl.DataFrame:
    """One exception row per row of ``frame``; ``difference_vnd`` = paid - ordered (paid when no order)."""
    if frame.is_empty():
        return empty(EXCEPTION_SCHEMA)
    # One chunk: the frames here are small, and polars 1.44 can panic formatting text across chunks of
    # mismatched layout (seen with the several-orders pairs frame).
    return frame.rechunk().select(
        province_code=province.cast(pl.String),
        period=pl.lit(period, dtype=pl.String),
        code=pl.lit(code, dtype=pl.String),
        severity=pl.lit(SEVERITY[code], dtype=pl.String),
        order_id=order_id.cast(pl.String),
        payout_id=payout_id.cast(pl.String),
        beneficiary_id=beneficiary_id.cast(pl.String),
        national_id=national_id.cast(pl.String),
        ordered_vnd=ordered.cast(pl.Int64),
        paid_vnd=paid.cast(pl.Int64),
        # A phantom line has no order: all it paid is the difference.
        difference_vnd=pl.when(ordered.is_null())
        .then(paid.cast(pl.Int64))
        .otherwise(paid.cast(pl.Int64) - ordered.cast(pl.Int64)),
        detail=detail.cast(pl.String),
    )


def line_rows(frame: pl.DataFrame, code: str, period: str, detail: pl.Expr) -> pl.DataFrame:
    """Rows about a matched (line, order) pair: the file's province, the order's identity, the allocation."""
    return exception_rows(
        frame,
        code,
        period,
        province=pl.col("l_province"),
        order_id=pl.col("order_id"),
        payout_id=pl.col("payout_id"),
        beneficiary_id=pl.col("beneficiary_id"),
        national_id=pl.col("o_nid"),
        ordered=pl.col("o_amount"),
        paid=pl.col("alloc"),
        detail=detail,
    )


def sort_exceptions(frame: pl.DataFrame) -> pl.DataFrame:
    """exceptions.csv order: province, period, severity (critical first), code, order_id, payout_id (nulls
    last); then the remaining columns so that equal keys still come out in one deterministic order."""
    rank = pl.col("severity").replace_strict(SEVERITY_RANK, default=len(SEVERITY_RANK), return_dtype=pl.Int64)
    return (
        frame.with_columns(_rank=rank)
        .sort(
            [
                "province_code",
                "period",
                "_rank",
                "code",
                "order_id",
                "payout_id",
                "beneficiary_id",
                "national_id",
                "detail",
                "ordered_vnd",
                "paid_vnd",
            ],
            nulls_last=True,
        )
        .drop("_rank")
    )
