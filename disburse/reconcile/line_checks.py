"""Rule 5: checks on a matched line, one row per order it matches (plus the fee of unpaid lines)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from disburse.profile import ProvinceProfile
from disburse.reconcile.fees import per_province, tariff_fee
from disburse.reconcile.periods import day_in_period
from disburse.reconcile.rows import exception_rows, line_rows
from disburse.schema import Code, PayoutStatus, RegistryEvent
from disburse.text import fold_name, normalise_national_id


def tolerance_expr(profiles: Mapping[str, ProvinceProfile], override: int | None) -> pl.Expr:
    """Amount tolerance of the line's province (profile), or the run's override for every province."""
    if override is not None:
        return pl.lit(override, dtype=pl.Int64)
    return per_province(pl.col("l_province"), {c: p.amount_tolerance_vnd for c, p in profiles.items()})


def _differs_after(left: str, right: str, normalise: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """Raw values differ and still differ once both are normalised. Callers filter on the raw difference
    first, so the (regex-heavy) normalisation only runs on the few rows that differ at all."""
    return normalise(pl.col(left)).ne_missing(normalise(pl.col(right)))


def _window_ok(lines: pl.DataFrame, profiles: Mapping[str, ProvinceProfile]) -> pl.Expr:
    """paid_on inside the payment window of the line's province in the line's (file's) period.

    One branch per (province, period) present: a handful, so the test stays one vectorised expression."""
    combos = lines.select("l_province", "l_period").unique().sort("l_province", "l_period")
    ok: pl.Expr = pl.lit(False)
    for province, period in combos.iter_rows():  # a few (province, period) pairs, not data rows
        profile = profiles.get(province)
        if profile is None or period is None:
            continue
        start = day_in_period(period, profile.window.start_day)
        end = day_in_period(period, profile.window.end_day)
        ok = (
            pl.when((pl.col("l_province") == province) & (pl.col("l_period") == period))
            .then(pl.col("paid_on").is_between(start, end).fill_null(False))
            .otherwise(ok)
        )
    return ok


def deaths(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Earliest DECEASED date per beneficiary_id and per national_id."""
    dead = events.filter(pl.col("event") == RegistryEvent.DECEASED)
    by_bene = (
        dead.filter(pl.col("beneficiary_id").is_not_null())
        .group_by("beneficiary_id")
        .agg(death_bene=pl.col("effective_date").min())
    )
    by_nid = (
        dead.filter(pl.col("national_id").is_not_null())
        .group_by(o_nid="national_id")
        .agg(death_nid=pl.col("effective_date").min())
    )
    return by_bene, by_nid


def line_checks(
    period: str,
    matched: pl.DataFrame,
    unpaid_cover: pl.DataFrame,
    lines: pl.DataFrame,
    events: pl.DataFrame,
    profiles: Mapping[str, ProvinceProfile],
    tolerance_override: int | None,
) -> list[pl.DataFrame]:
    out: list[pl.DataFrame] = []
    m = matched.with_columns(_tol=tolerance_expr(profiles, tolerance_override))
    amount = pl.col("l_amount")
    ordered = pl.col("line_ordered")

    over = m.filter(amount > ordered + pl.col("_tol"))
    out.append(
        line_rows(
            over, Code.OVERPAID, period,
            pl.format("line paid {} VND for orders totalling {} VND", amount, ordered),
        )
    )  # fmt: skip
    under = m.filter((amount > 0) & (amount < ordered - pl.col("_tol")))
    out.append(
        line_rows(
            under, Code.UNDERPAID, period,
            pl.format("line paid {} VND for orders totalling {} VND", amount, ordered),
        )
    )  # fmt: skip

    by_bene, by_nid = deaths(events)
    if not by_bene.is_empty() or not by_nid.is_empty():
        dead = (
            m.join(by_bene, on="beneficiary_id", how="left")
            .join(by_nid, on="o_nid", how="left")
            .with_columns(death=pl.min_horizontal("death_bene", "death_nid"))
            .filter(pl.col("death").is_not_null())
            .with_columns(latest_start=pl.format("{}-01", "line_latest").str.to_date("%Y-%m-%d"))
            .filter(pl.col("death") < pl.col("latest_start"))
        )
        out.append(
            line_rows(
                dead, Code.PAID_AFTER_DEATH, period,
                pl.format("deceased {}, paid {} for period {}", "death", "paid_on", "line_latest"),
            )
        )  # fmt: skip

    proxy = m.filter(pl.col("status") == PayoutStatus.PAID_PROXY)
    receiver_is_proxy = pl.col("receiver").eq_missing(pl.col("proxy_nid")) | (
        pl.col("receiver").is_not_null()
        & pl.col("proxy_nid").is_not_null()
        & normalise_national_id(pl.col("receiver")).eq_missing(normalise_national_id(pl.col("proxy_nid")))
    )
    proxy = proxy.with_columns(_authorised=pl.col("proxy_nid").is_not_null() & receiver_is_proxy)
    unauthorised = proxy.filter(~pl.col("_authorised"))
    out.append(
        line_rows(
            unauthorised, Code.PROXY_UNAUTHORIZED, period,
            pl.format(
                "paid to proxy {}; authorised proxy: {}",
                pl.col("receiver").fill_null("(none)"), pl.col("proxy_nid").fill_null("(none)"),
            ),
        )
    )  # fmt: skip
    expired = proxy.filter(
        pl.col("_authorised") & (pl.col("paid_on") > pl.col("proxy_valid_until")).fill_null(False)
    )
    out.append(
        line_rows(
            expired, Code.PROXY_EXPIRED, period,
            pl.format("paid {} to proxy whose authorisation ended {}", "paid_on", "proxy_valid_until"),
        )
    )  # fmt: skip

    id_diff = m.filter(pl.col("l_nid").ne_missing(pl.col("o_nid"))).filter(
        _differs_after("l_nid", "o_nid", normalise_national_id)
    )
    out.append(
        line_rows(
            id_diff, Code.ID_MISMATCH, period,
            pl.format("payout national_id {} vs order {}", pl.col("l_nid").fill_null("(none)"), "o_nid"),
        )
    )  # fmt: skip

    name_diff = m.filter(pl.col("l_name").ne_missing(pl.col("o_name"))).filter(
        _differs_after("l_name", "o_name", fold_name)
    )
    out.append(
        line_rows(
            name_diff, Code.NAME_MISMATCH, period,
            pl.format("payout name '{}' vs order name '{}'", pl.col("l_name").fill_null(""), "o_name"),
        )
    )  # fmt: skip

    ward_diff = m.filter(pl.col("l_ward").is_not_null() & (pl.col("l_ward") != pl.col("o_ward")))
    out.append(
        line_rows(
            ward_diff, Code.LOCATION_MISMATCH, period,
            pl.format("paid at ward {}, order's ward {}", "l_ward", "o_ward"),
        )
    )  # fmt: skip

    late = m.filter(~_window_ok(m, profiles))
    out.append(
        line_rows(
            late, Code.PAID_LATE, period,
            pl.format("paid on {} outside the payment window of {}", pl.col("paid_on").cast(pl.String)
                      .fill_null("(no date)"), "l_period"),
        )
    )  # fmt: skip

    # FEE_MISMATCH: the reported fee against the tariff on the line's whole amount; unpaid lines carry 0.
    tariff = tariff_fee(pl.col("l_province"), pl.col("l_amount"), pl.col("is_paid"), profiles)
    fee_rows = pl.concat(
        [m, unpaid_cover.with_columns(alloc=pl.lit(0, dtype=pl.Int64))], how="diagonal_relaxed"
    ).filter(pl.col("l_fee").is_not_null() & pl.col("l_fee").ne_missing(tariff))
    out.append(
        line_rows(
            fee_rows.with_columns(_tariff=tariff), Code.FEE_MISMATCH, period,
            pl.format("reported fee {} VND, tariff {} VND", "l_fee", pl.col("_tariff").cast(pl.String)
                      .fill_null("(no tariff)")),
        )
    )  # fmt: skip
    return out


def duplicate_rows(period: str, duplicates: pl.DataFrame) -> pl.DataFrame:
    return exception_rows(
        duplicates,
        Code.DUPLICATE_PAYOUT,
        period,
        province=pl.col("l_province"),
        order_id=pl.col("order_id"),
        payout_id=pl.col("payout_id"),
        beneficiary_id=pl.coalesce("beneficiary_id", "l_bene"),
        national_id=pl.coalesce("o_nid", "l_nid"),
        ordered=pl.col("o_amount"),
        paid=pl.col("l_amount"),
        detail=pl.col("detail"),
    )


def phantom_rows(period: str, phantoms: pl.DataFrame) -> pl.DataFrame:
    return exception_rows(
        phantoms,
        Code.PHANTOM_PAYOUT,
        period,
        province=pl.col("l_province"),
        order_id=pl.col("order_id"),
        payout_id=pl.col("payout_id"),
        beneficiary_id=pl.col("l_bene"),
        national_id=pl.col("l_nid"),
        ordered=pl.lit(None, dtype=pl.Int64),
        paid=pl.col("l_amount"),
        detail=pl.col("detail"),
    )
