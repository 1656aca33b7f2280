"""The post office's fee tariff as an integer Polars expression (no floats: money is whole VND)."""

from __future__ import annotations

import polars as pl


def tariff_fee(flat_vnd: pl.Expr, rate_bp: pl.Expr, amount: pl.Expr, is_paid: pl.Expr) -> pl.Expr:
    """Fee the tariff asks for one line: 0 for unpaid lines (and amounts <= 0); a flat amount per paid line
    (``flat_vnd`` not null); else ``(amount * rate_bp + 5000) // 10000``, the percentage rounded half-up to a
    whole đồng. Null when the province has no tariff (both null): nothing to compare with."""
    percent = (amount.cast(pl.Int64) * rate_bp + 5_000) // 10_000
    return (
        pl.when(is_paid & (amount > 0))
        .then(pl.coalesce(flat_vnd, percent))
        .otherwise(pl.lit(0, dtype=pl.Int64))
    )
