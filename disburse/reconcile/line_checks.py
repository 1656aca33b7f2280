"""Rule 5: checks on a matched line, one row per order it matches (plus the fee of unpaid lines)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from disburse.profile import ProvinceProfile
from disburse.reconcile.fees import tariff_fee
from disburse.reconcile.matching import MATCHED
from disburse.reconcile.params import ProvinceParams
from disburse.reconcile.periods import first_day, last_day
from disburse.reconcile.rows import exception_rows, line_rows
from disburse.schema import Code, PayoutStatus, RegistryEvent
from disburse.text import fold_name, normalise_national_id

# Columns of a pairs frame the line checks (and their exception rows) read: the suspects keep only these.
_CHECK_COLUMNS: tuple[str, ...] = (
    "l_province", "l_period", "payout_id", "l_nid", "l_name", "l_amount", "l_fee", "paid_on", "status",
    "receiver", "l_ward", "_line", "is_paid", "_pi", "order_id", "o_ward", "beneficiary_id", "o_nid",
    "o_name", "o_amount", "proxy_nid", "proxy_valid_until", "_oi", "kind", "alloc", "line_ordered", "_key",
)  # fmt: skip


def _differs_after(left: str, right: str, normalise: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """Raw values differ and still differ once both are normalised. Callers filter on the raw difference
    first, so the (regex-heavy) normalisation only runs on the few rows that differ at all."""
    return normalise(pl.col(left)).ne_missing(normalise(pl.col(right)))


def _window_ok(lines: pl.DataFrame, params: ProvinceParams) -> pl.Expr:
    """paid_on inside the payment window of the line's province in the line's (file's) period.

    The window is a day range of the month; the month is checked against each period present (usually the
    run's only: one comparison decides it)."""
    start_day, end_day = params.window_days()
    day = pl.col("paid_on").dt.day()
    in_month: pl.Expr = pl.lit(False)
    periods = lines.get_column("l_period")
    if periods.null_count() == 0 and periods.len() > 0 and (periods == periods[0]).all():
        distinct = [str(periods[0])]
    else:
        distinct = sorted(p for p in periods.unique().to_list() if p is not None)
    for period in distinct:  # the periods of the files: one, or a handful
        month = pl.col("paid_on").is_between(first_day(period), last_day(period))
        in_month = (
            month
            if len(distinct) == 1
            else pl.when(pl.col("l_period") == period).then(month).otherwise(in_month)
        )
    return (in_month & (day >= start_day) & (day <= end_day)).fill_null(False)


def deaths(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Earliest DECEASED date per beneficiary_id and per national_id."""
    dead = events.filter(pl.col("event") == RegistryEvent.DECEASED)
    by_bene = (
        dead.filter(pl.col("beneficiary_id").is_not_null())
        .group_by("beneficiary_id")
        .agg(death=pl.col("effective_date").min())
    )
    by_nid = (
        dead.filter(pl.col("national_id").is_not_null())
        .group_by(o_nid="national_id")
        .agg(death=pl.col("effective_date").min())
    )
    return by_bene, by_nid


def line_checks(
    period: str,
    pairs: tuple[pl.DataFrame, ...],
    unpaid_cover: pl.DataFrame,
    lines: pl.DataFrame,
    events: pl.DataFrame,
    profiles: Mapping[str, ProvinceProfile],
    tolerance_override: int | None,
    cand_orders: pl.DataFrame,
) -> list[pl.DataFrame]:
    """Every line check over the matched pairs of each pairs frame (``cand_orders``: the candidate orders,
    by candidate row number ``_oi``; columns a pairs frame lacks are gathered from it for suspects only).
    The pairs frames are full size, so the cheap tests run in one pass and narrow them to the suspects;
    costly work (name folding, ID normalisation, dates of death) runs only on those few rows."""
    out: list[pl.DataFrame] = []
    params = ProvinceParams(profiles)
    tolerance = params.tolerance(tolerance_override)
    window_ok = _window_ok(lines, params)
    tariff = tariff_fee(params.flat_fee(), params.rate_bp(), pl.col("l_amount"), pl.col("is_paid"))
    by_bene, by_nid = deaths(events)
    for frame in pairs:
        out += _checks(period, frame, tolerance, window_ok, tariff, by_bene, by_nid, cand_orders)
    # FEE_MISMATCH on unpaid lines: they must carry 0.
    fee_bad = unpaid_cover.filter(pl.col("l_fee").is_not_null() & (pl.col("l_fee") != tariff))
    out.append(_fee_rows(period, fee_bad.with_columns(alloc=pl.lit(0, dtype=pl.Int64)), tariff))
    return out


def _fee_rows(period: str, frame: pl.DataFrame, tariff: pl.Expr) -> pl.DataFrame:
    return line_rows(
        frame.with_columns(_tariff=tariff), Code.FEE_MISMATCH, period,
        pl.format("reported fee {} VND, tariff {} VND", "l_fee", pl.col("_tariff").cast(pl.String)
                  .fill_null("(no tariff)")),
    )  # fmt: skip


def _checks(
    period: str,
    frame: pl.DataFrame,
    tolerance: pl.Expr,
    window_ok: pl.Expr,
    tariff: pl.Expr,
    by_bene: pl.DataFrame,
    by_nid: pl.DataFrame,
    cand_orders: pl.DataFrame,
) -> list[pl.DataFrame]:
    out: list[pl.DataFrame] = []
    m = pl.col("kind") == MATCHED
    amount = pl.col("l_amount")
    ordered = pl.col("line_ordered")
    full = frame
    # Every cheap test in one parallel pass over the full frame, then one filter down to the suspects (a few
    # percent of the rows), narrowed to the columns the checks read; each check below selects its rows by its
    # own flag (the same test, nulls as false: what a filter on the test keeps).
    cheap = {
        "_over": amount > ordered + tolerance,
        "_under": (amount > 0) & (amount < ordered - tolerance),
        "_proxy": pl.col("status") == PayoutStatus.PAID_PROXY,
        "_nid": pl.col("l_nid").ne_missing(pl.col("o_nid")),
        "_name": pl.col("l_name").ne_missing(pl.col("o_name")),
        "_ward": pl.col("l_ward").is_not_null() & (pl.col("l_ward") != pl.col("o_ward")),
        "_late": ~window_ok,
        "_fee": pl.col("l_fee").is_not_null() & (pl.col("l_fee") != tariff),
    }
    any_dead = not by_bene.is_empty() or not by_nid.is_empty()
    if any_dead:
        cheap["_dead"] = pl.col("beneficiary_id").is_in(by_bene["beneficiary_id"].implode()) | pl.col(
            "o_nid"
        ).is_in(by_nid["o_nid"].implode())
    keep = [c for c in _CHECK_COLUMNS if c in full.columns]
    frame = full.select(*keep, *[c.fill_null(False).alias(f) for f, c in cheap.items()], _m=m).filter(
        pl.col("_m") & pl.any_horizontal(list(cheap))
    )
    if "order_id" not in frame.columns:
        # (The single-order pairs frame does not carry order_id: on a matched pair it is the key.)
        frame = frame.with_columns(order_id=pl.col("_key"))
    money = pl.format("line paid {} VND for orders totalling {} VND", amount, ordered)
    out.append(line_rows(frame.filter("_over"), Code.OVERPAID, period, money))
    out.append(line_rows(frame.filter("_under"), Code.UNDERPAID, period, money))

    if any_dead:
        # Cheap membership test first; dates of death are looked up for the few rows that pass it.
        death = pl.min_horizontal(
            pl.col("beneficiary_id").replace_strict(
                by_bene["beneficiary_id"], by_bene["death"], default=None, return_dtype=pl.Date
            ),
            pl.col("o_nid").replace_strict(
                by_nid["o_nid"], by_nid["death"], default=None, return_dtype=pl.Date
            ),
        )
        dead = frame.filter("_dead").with_columns(death=death).filter(pl.col("death").is_not_null())
        if not dead.is_empty():
            # The latest period the line pays, over every order it matches (lines of dead people only).
            # (`covers` is not on the pairs frames: gathered from the candidates by their row number.)
            theirs = full.select("_line", "_oi", "kind").filter(
                m & pl.col("_line").is_in(dead.get_column("_line").implode())
            )
            # (Exploded first: a max over lists of text is much slower than over the text itself.)
            latest = (
                theirs.select(
                    "_line", covers=cand_orders.get_column("covers").gather(theirs.get_column("_oi"))
                )
                .explode("covers", empty_as_null=True)
                .group_by("_line")
                .agg(line_latest=pl.col("covers").max())
            )
            dead = (
                dead.join(latest, on="_line", how="left")
                .with_columns(latest_start=pl.format("{}-01", "line_latest").str.to_date("%Y-%m-%d"))
                .filter(pl.col("death") < pl.col("latest_start"))
            )
        out.append(
            line_rows(
                dead, Code.PAID_AFTER_DEATH, period,
                pl.format("deceased {}, paid {} for period {}", "death", "paid_on", "line_latest"),
            )
        )  # fmt: skip

    proxy = frame.filter("_proxy")
    if "proxy_nid" not in proxy.columns:
        # (The single-order pairs frame does not carry the proxy columns: gathered for these rows only.)
        proxy = proxy.with_columns(
            cand_orders.select(pl.col("proxy_nid", "proxy_valid_until").gather(proxy.get_column("_oi")))
        )
    receiver_is_proxy = pl.col("receiver").eq_missing(pl.col("proxy_nid")) | (
        pl.col("receiver").is_not_null()
        & pl.col("proxy_nid").is_not_null()
        & normalise_national_id(pl.col("receiver")).eq_missing(normalise_national_id(pl.col("proxy_nid")))
    )
    proxy = proxy.with_columns(_authorised=pl.col("proxy_nid").is_not_null() & receiver_is_proxy)
    out.append(
        line_rows(
            proxy.filter(~pl.col("_authorised")), Code.PROXY_UNAUTHORIZED, period,
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

    id_diff = frame.filter("_nid").filter(_differs_after("l_nid", "o_nid", normalise_national_id))
    out.append(
        line_rows(
            id_diff, Code.ID_MISMATCH, period,
            pl.format("payout national_id {} vs order {}", pl.col("l_nid").fill_null("(none)"), "o_nid"),
        )
    )  # fmt: skip

    name_diff = frame.filter("_name").filter(_differs_after("l_name", "o_name", fold_name))
    out.append(
        line_rows(
            name_diff, Code.NAME_MISMATCH, period,
            pl.format("payout name '{}' vs order name '{}'", pl.col("l_name").fill_null(""), "o_name"),
        )
    )  # fmt: skip

    ward_diff = frame.filter("_ward")
    out.append(
        line_rows(
            ward_diff, Code.LOCATION_MISMATCH, period,
            pl.format("paid at ward {}, order's ward {}", "l_ward", "o_ward"),
        )
    )  # fmt: skip

    late = frame.filter("_late")
    out.append(
        line_rows(
            late, Code.PAID_LATE, period,
            pl.format("paid on {} outside the payment window of {}", pl.col("paid_on").cast(pl.String)
                      .fill_null("(no date)"), "l_period"),
        )
    )  # fmt: skip

    # FEE_MISMATCH: the reported fee against the tariff on the line's whole amount (no check where the
    # dialect reports no fee).
    # (A null tariff, a province without a profile, compares as null: no row.)
    out.append(_fee_rows(period, frame.filter("_fee"), tariff))
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
