"""Which orders each payout line covers, which line is each order's match, and how a line's money is spread.

docs/ARCHITECTURE.md "Matching rules" 1-4, vectorised. Cost model: at national scale (5 M lines) every
full-size copy of a wide frame costs as much as the join itself, so the shape is

* one wide left join of the lines naming a single order (nearly all of them) with the candidate orders: the
  "pairs" frame, one row per line, never filtered as a whole;
* a second, much smaller pairs frame for the lines naming several orders or none (thainguyen);
* every decision (found, winner, duplicate, phantom, allocation) as a column of those frames, computed with
  expressions; only the small subsets that need sorting (orders covered by several paid lines, lines covering
  several orders) are ever sorted or grouped.

Downstream code filters the pairs frames by ``kind`` and gets small frames, except for the matched pairs,
which the line checks read as columns (a filter with a precomputed mask is cheap when its result is small).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from disburse.reconcile.params import ProvinceParams
from disburse.schema import PAID_STATUSES, OrderState

# ``kind`` of a (line, order) pair.
NONE = 0  # placeholder row of a line handled in the other pairs frame
MATCHED = 1
DUPLICATE = 2
PHANTOM = 3
UNPAID_COVER = 4  # an unpaid line covering a candidate order
IGNORED = 5  # an unpaid line naming an order that is no candidate: nothing to say

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


# Order columns the single-order pairs frame carries (the several-orders one carries every column). Not
# `order_id`: on a row with a candidate it equals `_key` (the reference joined on it, or the beneficiary's
# only candidate's id), so readers take `_key` where `_oi` is not null.
PAIR_ORDER_COLUMNS: tuple[str, ...] = (
    "o_ward", "beneficiary_id", "o_nid", "o_name", "o_amount", "_oi",
)  # fmt: skip


@dataclass(frozen=True)
class Candidates:
    orders: pl.DataFrame  # candidate orders (o_* names), with is_current and prior_unpaid_own
    superseded: pl.DataFrame  # prior OPEN orders superseded by an arrears order of this period (PRIOR cols)
    open_prior: pl.DataFrame  # every prior OPEN order before this run (PRIOR cols): the money carried in


@dataclass(frozen=True)
class Matching:
    lines: pl.DataFrame  # every payout line (l_* names) with _line and is_paid
    # Pairs frames (line + order columns, kind, alloc, line_ordered, line_last); rows of kind NONE are
    # placeholders to skip. Matched pairs are read from here by the line checks.
    pairs: tuple[pl.DataFrame, ...]
    duplicates: pl.DataFrame  # one row per (duplicate line, order), with detail
    phantoms: pl.DataFrame  # one row per (phantom line, reference), order_id = the reference or null
    unpaid_cover: pl.DataFrame  # one row per (unpaid line, candidate order)
    winners: pl.DataFrame  # _oi, payout_id, paid_vnd: each matched candidate and its matching line
    line_class: pl.DataFrame  # paid lines that matched nothing: _line, l_province, l_amount, kind


def candidates(period: str, orders: pl.DataFrame, prior_orders: pl.DataFrame) -> Candidates:
    """Rule 1: the period's orders plus prior OPEN orders not superseded by an arrears order of the period."""
    open_prior = prior_orders.filter(pl.col("state") == OrderState.OPEN)
    # An arrears order covers months before its own period; its covered months, per beneficiary+allowance.
    # (A cheap test first: nearly every order covers exactly its own period; list.min over all is slow.)
    plain = (pl.col("covers").list.len() == 1) & (pl.col("covers").list.first() == pl.col("period"))
    arrears = orders.filter(~plain).filter(pl.col("covers").list.min() < pl.col("period"))
    arrears_months = (
        arrears.select("beneficiary_id", "allowance_code", "covers")
        .explode("covers", empty_as_null=True)
        .filter(pl.col("covers") < period)
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
            .join(arrears_months.select("beneficiary_id").unique(), on="beneficiary_id", how="semi")
            .explode("covers", empty_as_null=True)
            .join(arrears_months, on=["beneficiary_id", "allowance_code", "covers"], how="semi")
            .group_by("order_id")
            .agg(hit=pl.len(), n=pl.col("n").first())
            .filter(pl.col("hit") == pl.col("n"))
            .get_column("order_id")
        )
    gone = pl.col("order_id").is_in(superseded_ids.implode())
    superseded = open_prior.filter(gone)
    still_open = open_prior.filter(~gone)

    def as_candidate(frame: pl.DataFrame, *, current: bool) -> pl.DataFrame:
        unpaid = pl.col("unpaid_in_own_period") if not current else pl.lit(None, dtype=pl.Boolean)
        return frame.select(
            *[pl.col(src).alias(dst) for src, dst in _ORDER_COLUMNS.items()],
            is_current=pl.lit(current),
            prior_unpaid_own=unpaid,
        )

    # One chunk: every order column is read by gathers on the candidate row number, and a gather from one
    # contiguous array is several times faster than from the many chunks a file reader or concat leaves.
    cand = (
        pl.concat([as_candidate(orders, current=True), as_candidate(still_open, current=False)])
        # The candidate's row number: a dense integer key, far cheaper to hash, group or scatter than text.
        .with_columns(_oi=pl.int_range(pl.len(), dtype=pl.UInt32))
        .rechunk()
    )
    return Candidates(orders=cand, superseded=superseded, open_prior=open_prior)


def prepare_lines(payouts: pl.DataFrame, params: ProvinceParams) -> pl.DataFrame:
    """Payout lines with a row key (internal only: no output depends on its value), the paid flag and the
    province index of the parameters."""
    return (
        payouts.select(
            *[pl.col(src).alias(dst) for src, dst in _LINE_COLUMNS.items()],
        )
        .with_columns(
            _line=pl.int_range(pl.len(), dtype=pl.UInt32),
            is_paid=pl.col("status").is_in(sorted(PAID_STATUSES)),
            _pi=params.index(pl.col("l_province")),
        )
        .rechunk()
    )  # one chunk: the lines are filtered and gathered many times (a reader leaves many chunks)


def match(lines: pl.DataFrame, cand: Candidates, prior_orders: pl.DataFrame) -> Matching:
    """Rules 2-4: coverage, ranking (earliest paid_on, then payout_id), allocation."""
    import numpy as np  # here, not at the top: only a reconciliation needs it, not every command's start-up

    orders = cand.orders
    has_ref = pl.col("order_ref").is_not_null()
    multi_ref = pl.col("order_ref").str.contains("|", literal=True)

    keyed = lines.with_columns(_one=has_ref & ~multi_ref)
    # Every reference (the single ones of nearly all lines, then the split ones of the few lines naming
    # several orders) is looked up in ONE join of text keys against the candidates' order_id, giving the
    # candidate row number `_oi`; every order column is then a gather by that integer. Lines without
    # order_ref (joined by beneficiary) are built on a thread meanwhile (polars releases the GIL).
    named = _named(keyed)
    with ThreadPoolExecutor(max_workers=1) as pool:
        by_bene = pool.submit(_by_beneficiary, keyed, orders)
        single_keys = keyed.select(_key=pl.when("_one").then(pl.col("order_ref")))
        oi = (
            pl.concat([single_keys, named.select("_key")])
            .join(
                orders.select("order_id", "_oi"),
                left_on="_key",
                right_on="order_id",
                how="left",
                maintain_order="left",
            )
            .get_column("_oi")
        )
        several_ref = named.with_columns(orders.select(pl.all().gather(oi.slice(keyed.height))))
        bene_solo, bene_pairs, orphans = by_bene.result()
        # Pairs of lines naming one order, or covering the only candidate of their beneficiary (nearly all
        # lines without order_ref): one row per line (others get a null key). Only the order columns the
        # checks read are gathered (not `covers`, a list, nor the period or province).
        # (`_line` is the line's row number: the beneficiary's only candidate is scattered in by it.)
        single_oi = oi.head(keyed.height).scatter(bene_solo.get_column("_line"), bene_solo.get_column("_oi"))
        # The key of a line joined by beneficiary is its candidate's order_id: gathered for those lines only
        # (the index is null elsewhere).
        solo_oi = (
            pl.Series("_oi", dtype=pl.UInt32)
            .clear(keyed.height)
            .scatter(bene_solo.get_column("_line"), bene_solo.get_column("_oi"))
        )
        solo_key = orders.get_column("order_id").gather(solo_oi)
        single = (
            keyed.with_columns(_key=pl.coalesce(single_keys.get_column("_key"), solo_key))
            .drop("order_ref", "post_office_code")
            .with_columns(orders.select(pl.col(PAIR_ORDER_COLUMNS).gather(single_oi)))
        )
        several = pl.concat([several_ref, bene_pairs], how="diagonal_relaxed")

    # Ranking: only orders covered by more than one paid line need it; found across both frames.
    paid_before = prior_orders.select("order_id", "state").filter(pl.col("state") == OrderState.PAID)
    frames = [single, several]
    found = pl.col("_oi").is_not_null()  # every candidate has a row number: null = no candidate joined
    contest_keys = []
    offset = 0
    for i, frame in enumerate(frames):
        frames[i] = frame.with_columns(_w=pl.int_range(offset, offset + pl.len(), dtype=pl.UInt64))
        offset += frame.height
        contest_keys.append(
            frames[i].select(
                "_w",
                "paid_on",
                "payout_id",
                "l_province",
                "_line",
                "_key",  # the order_id of a contested (found) pair
                _pk=pl.when(found & pl.col("is_paid")).then(pl.col("_oi")),
            )
        )
    keys = pl.concat(contest_keys)
    # Candidates covered by more than one paid line: a count per dense candidate number (numpy's bincount,
    # vectorised) is much cheaper than hashing for duplicates.
    pk = keys.get_column("_pk").drop_nulls().to_numpy()
    counts = np.bincount(pk, minlength=1) if len(pk) else np.zeros(0, dtype=np.int64)
    shared = pl.Series("_pk", np.flatnonzero(counts > 1), dtype=pl.UInt32)
    contested = keys.filter(pl.col("_pk").is_in(shared.implode()))
    ranked = contested.sort(
        ["_pk", "paid_on", "payout_id", "l_province", "_line"], nulls_last=True
    ).with_columns(_first=pl.col("_pk").is_first_distinct())
    loser_w = ranked.filter(~pl.col("_first")).get_column("_w")
    winner_of = ranked.filter(pl.col("_first")).select(order_id="_key", winner="payout_id")

    # Paid lines naming no candidate are few: whether they name an order paid before is decided on them.
    unknown = pl.concat(
        [
            f.filter(pl.col("_key").is_not_null() & ~found & pl.col("is_paid")).select("_w", "_key")
            for f in frames
        ]
    )
    again = paid_before.filter(pl.col("order_id").is_in(unknown.get_column("_key").implode()))
    paid_again = unknown.filter(pl.col("_key").is_in(again.get_column("order_id").implode())).get_column("_w")
    kind = (
        pl.when(pl.col("_key").is_null())
        .then(pl.lit(NONE))
        .when(~pl.col("is_paid"))
        .then(pl.when(found).then(pl.lit(UNPAID_COVER)).otherwise(pl.lit(IGNORED)))
        .when(found)
        .then(
            pl.when(pl.col("_w").is_in(loser_w.implode())).then(pl.lit(DUPLICATE)).otherwise(pl.lit(MATCHED))
        )
        .when(pl.col("_w").is_in(paid_again.implode()))
        .then(pl.lit(DUPLICATE))
        .otherwise(pl.lit(PHANTOM))
        .cast(pl.UInt8)
    )
    single = (
        frames[0]
        .with_columns(kind=kind)
        .with_columns(
            # A line naming one order: all its money goes to that order.
            alloc=pl.col("l_amount"),
            line_ordered=pl.col("o_amount"),
            line_last=pl.lit(True),
        )
    )
    several = _allocate(frames[1].with_columns(kind=kind))
    pairs = (single, several)

    def of_kind(k: int) -> pl.DataFrame:
        return pl.concat([p.filter(pl.col("kind") == k) for p in pairs], how="diagonal_relaxed")

    phantoms = pl.concat(
        [
            of_kind(PHANTOM).with_columns(
                order_id=pl.col("_key"),
                detail=pl.format("names order {}, which is neither of the period nor open", "_key"),
            ),
            orphans,
        ],
        how="diagonal_relaxed",
    )
    dup_rows = of_kind(DUPLICATE).with_columns(order_id=pl.col("_key"))
    prior_info = prior_orders.filter(
        pl.col("order_id").is_in(dup_rows.get_column("order_id").implode())
        & (pl.col("state") == OrderState.PAID)
    ).select(
        "order_id",
        prior_period=pl.col("period"),
        prior_amount=pl.col("amount_vnd"),
        prior_bene=pl.col("beneficiary_id"),
        prior_nid=pl.col("national_id"),
    )
    duplicates = (
        dup_rows.join(winner_of, on="order_id", how="left")
        .join(prior_info, on="order_id", how="left")
        .with_columns(
            o_amount=pl.coalesce("o_amount", "prior_amount"),
            beneficiary_id=pl.coalesce("beneficiary_id", "prior_bene"),
            o_nid=pl.coalesce("o_nid", "prior_nid"),
            detail=pl.when(pl.col("winner").is_not_null())
            .then(pl.format("order already paid by line {} this period", "winner"))
            .otherwise(pl.format("order already paid in period {} (earlier run)", "prior_period")),
        )
    )
    winners = pl.concat(
        [
            p.select("_oi", "payout_id", "kind", paid_vnd="alloc").filter(pl.col("kind") == MATCHED)
            for p in pairs
        ]
    ).drop("kind")

    # Paid lines with no matched order: all their money left beyond the orders (phantom wins over duplicate).
    bad = pl.concat(
        [
            duplicates.select("_line", "l_province", "l_amount", kind=pl.lit(DUPLICATE, dtype=pl.UInt8)),
            phantoms.select("_line", "l_province", "l_amount", kind=pl.lit(PHANTOM, dtype=pl.UInt8)),
        ]
    )
    if not bad.is_empty():
        matched_lines = pl.concat(
            [p.select("_line", "kind").filter(pl.col("kind") == MATCHED) for p in pairs]
        ).filter(pl.col("_line").is_in(bad.get_column("_line").implode()))
        bad = bad.filter(~pl.col("_line").is_in(matched_lines.get_column("_line").implode()))
    line_class = bad.sort("_line", "kind", descending=[False, True]).unique(
        subset=["_line"], keep="first", maintain_order=True
    )
    return Matching(
        lines=lines,
        pairs=pairs,
        duplicates=duplicates,
        phantoms=phantoms,
        # (Found pairs: the order_id is the key; the single-order frame does not carry it.)
        unpaid_cover=of_kind(UNPAID_COVER).with_columns(order_id=pl.col("_key")),
        winners=winners,
        line_class=line_class,
    )


def _named(keyed: pl.DataFrame) -> pl.DataFrame:
    """One row per (line naming several orders, reference): the references split and trimmed, in `_key`."""
    return (
        keyed.filter(~pl.col("_one") & pl.col("order_ref").is_not_null())
        .drop("_one")
        .with_columns(_key=pl.col("order_ref").str.split("|"))
        .explode("_key", empty_as_null=True)
        .with_columns(pl.col("_key").str.strip_chars())
        .unique(subset=["_line", "_key"], keep="first")
    )


def _by_beneficiary(
    keyed: pl.DataFrame, orders: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Lines without order_ref cover every candidate order of their beneficiary. Returns the lines whose
    beneficiary has exactly one candidate (`_line`, `_oi`: they join the single-order pairs), the pairs of
    the lines whose beneficiary has several, and the paid lines whose beneficiary has none (phantoms with a
    null reference).

    Only the lines' (row, beneficiary) and the candidates' (beneficiary, row number) are joined; every other
    column is a gather by row number."""
    # (Narrowed before filtering: a filter copies every column it keeps; the orphans are few.)
    no_ref = pl.col("order_ref").is_null()
    hits = (
        keyed.select("_line", "l_bene", "order_ref")
        .filter(no_ref)
        .select("_line", "l_bene")
        .join(
            orders.select("beneficiary_id", "_oi"), left_on="l_bene", right_on="beneficiary_id", how="inner"
        )
    )
    several = pl.col("_line").is_duplicated()
    solo = hits.filter(~several).select("_line", "_oi")
    shared = hits.filter(several)
    # `_line` is the row number of the line in `keyed`.
    by_bene = (
        keyed.drop("_one")
        .select(pl.all().gather(shared.get_column("_line")))
        .with_columns(orders.select(pl.all().gather(shared.get_column("_oi"))))
        .with_columns(_key=pl.col("order_id"))
    )
    orphan_rows = (
        keyed.select("_line", "order_ref", "is_paid")
        .filter(no_ref & pl.col("is_paid"))
        .filter(~pl.col("_line").is_in(hits.get_column("_line").implode()))
        .get_column("_line")
    )
    orphans = (
        keyed.drop("_one")
        .select(pl.all().gather(orphan_rows))
        .with_columns(
            order_id=pl.lit(None, dtype=pl.String),
            detail=pl.format("no open order for beneficiary {}", "l_bene"),
        )
    )
    return solo, by_bene, orphans


def _allocate(pairs: pl.DataFrame) -> pl.DataFrame:
    """Rule 4 for lines that may match several orders: the line's amount over the orders it matches in
    (period, order_id) order, each up to its amount, any excess to the last. Adds alloc, line_ordered (sum of
    the orders it matches) and line_last (one row per line carries the line's totals). Non-matched rows get
    alloc 0."""
    is_matched = pl.col("kind") == MATCHED
    matched = pairs.filter(is_matched)
    rest = pairs.filter(~is_matched).with_columns(
        alloc=pl.lit(0, dtype=pl.Int64), line_ordered=pl.lit(None, dtype=pl.Int64), line_last=pl.lit(False)
    )
    # Most lines here still match one order (a beneficiary with one allowance): no window needed.
    shared = pl.col("_line").is_duplicated()
    solo = matched.filter(~shared).with_columns(
        alloc=pl.col("l_amount"), line_ordered=pl.col("o_amount"), line_last=pl.lit(True)
    )
    multi = matched.filter(shared).sort(["_line", "o_period", "order_id"])
    before = pl.col("o_amount").cum_sum().over("_line") - pl.col("o_amount")
    last = pl.col("_line").is_last_distinct()
    remaining = pl.col("l_amount") - before
    multi = multi.with_columns(
        alloc=pl.when(last)
        .then(pl.max_horizontal(remaining, pl.lit(0)))
        .otherwise(pl.min_horizontal(pl.max_horizontal(remaining, pl.lit(0)), pl.col("o_amount")))
        .cast(pl.Int64),
        line_ordered=pl.col("o_amount").sum().over("_line"),
        line_last=last,
    )
    return pl.concat([solo, multi, rest], how="vertical_relaxed").rechunk()
