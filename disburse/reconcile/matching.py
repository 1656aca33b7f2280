"""Which orders each payout line covers, which line is each order's match, and how a line's money is spread.

docs/ARCHITECTURE.md "Matching rules" 1-4. Everything here is joins, explodes and window expressions; the
frames that need sorting or grouping per line (lines covering several orders, orders covered by several
lines) are split off first: they are a small minority and a full-size sort or group-by would dominate.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from disburse.schema import PAID_STATUSES, OrderState

# Kinds of (line, order) pairs.
MATCHED = "matched"
DUPLICATE = "duplicate"
PHANTOM = "phantom"

# Line columns carried on every pair, prefixed so they never collide with the order's.
_LINE_COLUMNS: dict[str, str] = {
    "province_code": "l_province",
    "period": "l_period",
    "payout_id": "payout_id",
    "order_ref": "order_ref",
    "beneficiary_id": "l_bene",
    "national_id": "l_nid",
    "full_name": "l_name",
    "amount_paid_vnd": "l_amount",
    "fee_vnd": "l_fee",
    "paid_on": "paid_on",
    "status": "status",
    "receiver_national_id": "receiver",
    "ward_code": "l_ward",
    "post_office_code": "post_office_code",
}

# Order columns carried on every pair.
_ORDER_COLUMNS: dict[str, str] = {
    "order_id": "order_id",
    "period": "o_period",
    "province_code": "o_province",
    "ward_code": "o_ward",
    "beneficiary_id": "beneficiary_id",
    "national_id": "o_nid",
    "full_name": "o_name",
    "allowance_code": "allowance_code",
    "amount_vnd": "o_amount",
    "covers": "covers",
    "proxy_national_id": "proxy_nid",
    "proxy_name": "proxy_name",
    "proxy_valid_until": "proxy_valid_until",
}


@dataclass(frozen=True)
class Candidates:
    orders: pl.DataFrame  # candidate orders (o_* names), with is_current and prior_unpaid_own
    superseded: pl.DataFrame  # prior OPEN orders superseded by an arrears order of this period (PRIOR cols)
    open_prior: pl.DataFrame  # every prior OPEN order before this run (PRIOR cols): the money carried in


@dataclass(frozen=True)
class Matching:
    lines: pl.DataFrame  # every payout line (l_* names) with _line and is_paid
    matched: pl.DataFrame  # one row per (matched line, order): line + order columns, alloc, line_ordered, ...
    duplicates: pl.DataFrame  # one row per (duplicate line, order): line columns, order_id, o_amount, detail
    phantoms: pl.DataFrame  # one row per (phantom line, reference): line columns, order_id (ref or null)
    unpaid_cover: pl.DataFrame  # one row per (unpaid line, candidate order): line + order columns
    line_class: pl.DataFrame  # paid lines that matched nothing: _line, l_province, l_amount, kind


def candidates(period: str, orders: pl.DataFrame, prior_orders: pl.DataFrame) -> Candidates:
    """Rule 1: the period's orders plus prior OPEN orders not superseded by an arrears order of the period."""
    open_prior = prior_orders.filter(pl.col("state") == OrderState.OPEN)
    # An arrears order covers months before its own period; its covered months, per beneficiary+allowance.
    arrears_months = (
        orders.select("beneficiary_id", "allowance_code", "period", "covers")
        .explode("covers", empty_as_null=True)
        .filter(pl.col("covers") < pl.col("period"))
        .select("beneficiary_id", "allowance_code", "covers")
        .unique()
    )
    if arrears_months.is_empty() or open_prior.is_empty():
        superseded_ids = pl.Series("order_id", [], dtype=pl.String)
    else:
        # A prior open order is superseded when every month it covers is among the arrears order's months.
        superseded_ids = (
            open_prior.select(
                "order_id", "beneficiary_id", "allowance_code", "covers", n=pl.col("covers").list.len()
            )
            .explode("covers", empty_as_null=True)
            .join(arrears_months, on=["beneficiary_id", "allowance_code", "covers"], how="semi")
            .group_by("order_id")
            .agg(hit=pl.len(), n=pl.col("n").first())
            .filter(pl.col("hit") == pl.col("n"))
            .get_column("order_id")
        )
    superseded = open_prior.filter(pl.col("order_id").is_in(superseded_ids.implode()))
    still_open = open_prior.filter(~pl.col("order_id").is_in(superseded_ids.implode()))

    def as_candidate(frame: pl.DataFrame, *, current: bool) -> pl.DataFrame:
        unpaid = pl.col("unpaid_in_own_period") if not current else pl.lit(None, dtype=pl.Boolean)
        return frame.select(
            *[pl.col(src).alias(dst) for src, dst in _ORDER_COLUMNS.items()],
            is_current=pl.lit(current),
            prior_unpaid_own=unpaid,
        )

    cand = pl.concat([as_candidate(orders, current=True), as_candidate(still_open, current=False)])
    return Candidates(orders=cand, superseded=superseded, open_prior=open_prior)


def prepare_lines(payouts: pl.DataFrame) -> pl.DataFrame:
    """Payout lines with a row key (internal only: no output depends on its value) and the paid flag."""
    return payouts.select(
        *[pl.col(src).alias(dst) for src, dst in _LINE_COLUMNS.items()],
    ).with_columns(
        _line=pl.int_range(pl.len(), dtype=pl.UInt32),
        is_paid=pl.col("status").is_in(sorted(PAID_STATUSES)),
    )


def match(lines: pl.DataFrame, cand: Candidates, prior_orders: pl.DataFrame) -> Matching:
    """Rules 2-4: coverage, ranking (earliest paid_on, then payout_id), allocation."""
    orders = cand.orders.with_columns(_cand=pl.lit(True))
    has_ref = pl.col("order_ref").is_not_null()
    multi_ref = pl.col("order_ref").str.contains("|", literal=True)

    # Coverage. Single-reference lines (nearly all) need no split/explode.
    single = lines.filter(has_ref & ~multi_ref).with_columns(
        order_id=pl.col("order_ref").str.strip_chars(), single=pl.lit(True)
    )
    multi = (
        lines.filter(has_ref & multi_ref)
        .with_columns(order_id=pl.col("order_ref").str.split("|"))
        .explode("order_id", empty_as_null=True)
        .with_columns(pl.col("order_id").str.strip_chars(), single=pl.lit(False))
        .unique(subset=["_line", "order_id"], keep="first", maintain_order=True)
    )
    by_ref = pl.concat([single, multi]).join(orders, on="order_id", how="left")
    no_ref = lines.filter(~has_ref)
    by_bene = no_ref.join(
        orders, left_on="l_bene", right_on="beneficiary_id", how="inner", coalesce=False
    ).with_columns(single=pl.lit(False))
    # A line without order_ref whose beneficiary has no candidate order covers nothing: phantom.
    bene_orphans = no_ref.join(orders, left_on="l_bene", right_on="beneficiary_id", how="anti").with_columns(
        order_id=pl.lit(None, dtype=pl.String)
    )

    covered = pl.concat([by_ref.filter(pl.col("_cand").is_not_null()), by_bene], how="diagonal_relaxed")
    uncovered = by_ref.filter(pl.col("_cand").is_null())

    # Named orders that are no candidate: paid before (duplicate) or unknown / superseded (phantom).
    paid_before = prior_orders.filter(pl.col("state") == OrderState.PAID).select(
        "order_id",
        prior_period=pl.col("period"),
        o_amount_prior=pl.col("amount_vnd"),
        beneficiary_id_prior=pl.col("beneficiary_id"),
        o_nid_prior=pl.col("national_id"),
    )
    uncovered_paid = uncovered.filter(pl.col("is_paid"))
    dup_before = uncovered_paid.join(paid_before, on="order_id", how="inner").with_columns(
        o_amount=pl.col("o_amount_prior"),
        beneficiary_id=pl.col("beneficiary_id_prior"),
        o_nid=pl.col("o_nid_prior"),
        detail=pl.format("order already paid in period {} (earlier run)", pl.col("prior_period")),
    )
    phantom_ref = uncovered_paid.join(paid_before, on="order_id", how="anti")
    phantoms = pl.concat(
        [
            phantom_ref.with_columns(
                detail=pl.format("names order {}: not open nor of the period", "order_id")
            ),
            bene_orphans.filter(pl.col("is_paid")).with_columns(
                detail=pl.format("no open order for beneficiary {}", "l_bene")
            ),
        ],
        how="diagonal_relaxed",
    )

    paid_cov = covered.filter(pl.col("is_paid"))
    unpaid_cover = covered.filter(~pl.col("is_paid"))

    # Ranking: only orders covered by more than one paid line need it.
    contested = pl.col("order_id").is_duplicated()
    ranked = (
        paid_cov.filter(contested)
        .sort(["order_id", "paid_on", "payout_id", "l_province", "_line"], nulls_last=True)
        .with_columns(first=pl.col("order_id").is_first_distinct())
    )
    winners = ranked.filter(pl.col("first")).select("order_id", winner=pl.col("payout_id"))
    losers = (
        ranked.filter(~pl.col("first"))
        .join(winners, on="order_id", how="left")
        .with_columns(detail=pl.format("order already paid by line {} this period", "winner"))
    )
    matched = pl.concat(
        [paid_cov.filter(~contested), ranked.filter(pl.col("first"))], how="diagonal_relaxed"
    ).drop("first", strict=False)
    duplicates = pl.concat([losers, dup_before], how="diagonal_relaxed")

    matched = _allocate(matched)

    # Paid lines with no matched order: all their money left beyond the orders (phantom wins over duplicate).
    bad = pl.concat(
        [
            duplicates.select("_line", "l_province", "l_amount", kind=pl.lit(DUPLICATE)),
            phantoms.select("_line", "l_province", "l_amount", kind=pl.lit(PHANTOM)),
        ]
    )
    bad = bad.filter(~pl.col("_line").is_in(matched.get_column("_line").implode()))
    line_class = bad.sort("_line", "kind", descending=[False, True]).unique(  # "phantom" > "duplicate"
        subset=["_line"], keep="first", maintain_order=True
    )
    return Matching(
        lines=lines,
        matched=matched,
        duplicates=duplicates,
        phantoms=phantoms,
        unpaid_cover=unpaid_cover,
        line_class=line_class,
    )


def _allocate(matched: pl.DataFrame) -> pl.DataFrame:
    """Rule 4: a line's amount over the orders it matches in (period, order_id) order, each up to its amount,
    any excess to the last. Adds alloc, line_ordered (sum of the orders it matches), line_latest (latest
    period it pays) and line_last (one row per line carries the line's totals)."""
    single = matched.filter(pl.col("single")).with_columns(
        alloc=pl.col("l_amount"),
        line_ordered=pl.col("o_amount"),
        line_latest=pl.col("covers").list.max(),
        line_last=pl.lit(True),
    )
    several = matched.filter(~pl.col("single")).sort(["_line", "o_period", "order_id"])
    before = pl.col("o_amount").cum_sum().over("_line") - pl.col("o_amount")
    last = pl.col("_line").is_last_distinct()
    remaining = pl.col("l_amount") - before
    several = several.with_columns(
        alloc=pl.when(last)
        .then(pl.max_horizontal(remaining, pl.lit(0)))
        .otherwise(pl.min_horizontal(pl.max_horizontal(remaining, pl.lit(0)), pl.col("o_amount"))),
        line_ordered=pl.col("o_amount").sum().over("_line"),
        line_latest=pl.col("covers").list.max().max().over("_line"),
        line_last=last,
    )
    return pl.concat([single, several], how="vertical_relaxed").with_columns(pl.col("alloc").cast(pl.Int64))
