"""Per-province parameters (fee tariff, payment window, amount tolerance) as columns of the lines.

Each line gets a small province index (``_pi``) once; every parameter is then a gather from a tiny array by
that index, instead of a chain of text comparisons per province evaluated over every line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from disburse.profile import PaymentWindow, ProvinceProfile

INDEX = "_pi"


@dataclass(frozen=True)
class ProvinceParams:
    profiles: Mapping[str, ProvinceProfile]

    @property
    def codes(self) -> list[str]:
        return sorted(self.profiles)

    def index(self, province: pl.Expr) -> pl.Expr:
        """Position of the province among the profiles; one past the end for a province without a profile."""
        codes = self.codes
        return province.replace_strict(
            codes, list(range(len(codes))), default=len(codes), return_dtype=pl.UInt16
        )

    def _lookup(self, values: list[int | None], unknown: int | None, dtype: pl.DataType) -> pl.Expr:
        return pl.lit(pl.Series([*values, unknown], dtype=dtype)).gather(pl.col(INDEX))

    def flat_fee(self) -> pl.Expr:
        p = self.profiles
        return self._lookup(
            [p[c].fee.flat_vnd if p[c].fee.kind == "flat" else None for c in self.codes], None, pl.Int64()
        )

    def rate_bp(self) -> pl.Expr:
        p = self.profiles
        return self._lookup(
            [p[c].fee.rate_bp if p[c].fee.kind == "percent" else None for c in self.codes], None, pl.Int64()
        )

    def tolerance(self, override: int | None) -> pl.Expr:
        """Amount tolerance of the line's province, or the run's override for every province."""
        if override is not None:
            return pl.lit(override, dtype=pl.Int64)
        return self._lookup([self.profiles[c].amount_tolerance_vnd for c in self.codes], 0, pl.Int64())

    def window_days(self) -> tuple[pl.Expr, pl.Expr]:
        """First and last day of the month of the payment window (a province without a profile gets the
        domain's default, days 1-10)."""
        default = PaymentWindow()
        windows = [self.profiles[c].window for c in self.codes]
        return (
            self._lookup([w.start_day for w in windows], default.start_day, pl.Int8()),
            self._lookup([w.end_day for w in windows], default.end_day, pl.Int8()),
        )
