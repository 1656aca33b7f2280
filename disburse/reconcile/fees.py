"""The post office's fee tariff as an integer Polars expression (no floats: money is whole VND)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from disburse.profile import ProvinceProfile


def tariff_fee(
    province: pl.Expr, amount: pl.Expr, is_paid: pl.Expr, profiles: Mapping[str, ProvinceProfile]
) -> pl.Expr:
    """Fee the tariff of the line's province asks for one line: 0 for unpaid lines (and amounts <= 0);
    flat amount per paid line; or ``(amount * rate_bp + 5000) // 10000`` (half-up to a whole đồng).

    The profiles are a handful of provinces, so one ``when`` branch per province keeps it a single
    vectorised expression (no join). A province without a profile gets a null fee (nothing to compare)."""
    fee: pl.Expr = pl.lit(None, dtype=pl.Int64)
    for code, profile in sorted(profiles.items(), reverse=True):
        tariff = profile.fee
        per_line = (
            pl.lit(tariff.flat_vnd, dtype=pl.Int64)
            if tariff.kind == "flat"
            else (amount.cast(pl.Int64) * tariff.rate_bp + 5_000) // 10_000
        )
        fee = pl.when(province == code).then(per_line).otherwise(fee)
    return pl.when(is_paid & (amount > 0)).then(fee).otherwise(pl.lit(0, dtype=pl.Int64))


def per_province(province: pl.Expr, values: Mapping[str, int], default: int = 0) -> pl.Expr:
    """A scalar per province (e.g. the amount tolerance) as an expression."""
    out: pl.Expr = pl.lit(default, dtype=pl.Int64)
    for code, value in sorted(values.items(), reverse=True):
        out = pl.when(province == code).then(pl.lit(value, dtype=pl.Int64)).otherwise(out)
    return out
