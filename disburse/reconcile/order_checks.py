"""Rules 6-8: order outcomes (MISSING_RESULT, UNPAID, UNCOLLECTED_3_MONTHS), DUPLICATE_ORDER and control
totals."""

from __future__ import annotations

import polars as pl

from disburse.reconcile.matching import Candidates, Matching
from disburse.reconcile.periods import shift_period
from disburse.reconcile.rows import exception_rows
from disburse.schema import OUTCOME_SCHEMA, Code, OrderState, conform

MISSING = "missing"
UNPAID = "unpaid"


def order_status(cand: Candidates, matching: Matching) -> pl.DataFrame:
    """Every candidate order with its match (payout_id, paid_vnd) and, if unmatched, the unpaid reason."""
    reason = (
        matching.unpaid_cover.sort("_oi", "payout_id", nulls_last=True)
        .group_by("_oi")
        .agg(reason=pl.col("status").first(), unpaid_line=pl.col("payout_id").first())
    )
    n = cand.orders.height
    # By candidate row number instead of joining on order_id text: at national scale the join would cost as
    # much as the whole matching. The row of each candidate in the winners (reasons) frame is scattered once
    # into an integer array (numpy), then each column is one gather (a text scatter is slower).
    winners = matching.winners

    def row_of(at: pl.Series) -> pl.Series:
        import numpy as np  # only a reconciliation needs it, not every command's start-up

        rows = np.full(n, -1, dtype=np.int64)
        rows[at.to_numpy()] = np.arange(len(at), dtype=np.int64)
        index = pl.Series("_row", rows)
        return pl.select(pl.when(index >= 0).then(index).cast(pl.UInt32)).to_series()

    w_row, r_row = row_of(winners.get_column("_oi")), row_of(reason.get_column("_oi"))
    orders = cand.orders.select(
        "order_id", "o_period", "o_province", "beneficiary_id", "o_nid", "allowance_code", "o_amount",
        "is_current", "prior_unpaid_own",
    ).with_columns(
        winners.get_column("payout_id").gather(w_row),
        winners.get_column("paid_vnd").gather(w_row),
        reason.get_column("reason").gather(r_row),
        reason.get_column("unpaid_line").gather(r_row),
    )  # fmt: skip
    is_matched = pl.col("payout_id").is_not_null()
    return orders.with_columns(
        is_matched=is_matched,
        paid_vnd=pl.col("paid_vnd").fill_null(0),
        result=pl.when(is_matched)
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("reason").is_not_null())
        .then(pl.lit(UNPAID))
        .otherwise(pl.lit(MISSING)),
    )


def outcomes(status: pl.DataFrame, superseded: pl.DataFrame) -> pl.DataFrame:
    """OUTCOME_SCHEMA: the period's orders and every prior order the run touched (paid, superseded, open)."""
    now = status.select(
        "order_id",
        period="o_period",
        province_code="o_province",
        beneficiary_id="beneficiary_id",
        allowance_code="allowance_code",
        amount_vnd="o_amount",
        state=pl.when(pl.col("is_matched")).then(pl.lit(OrderState.PAID)).otherwise(pl.lit(OrderState.OPEN)),
        paid_vnd="paid_vnd",
        payout_id="payout_id",
        # A prior order keeps what its own period's run found; this period's order is unpaid if unmatched.
        unpaid_in_own_period=pl.when(pl.col("is_current"))
        .then(~pl.col("is_matched"))
        .otherwise(pl.col("prior_unpaid_own")),
    )
    gone = superseded.select(
        "order_id",
        "period",
        "province_code",
        "beneficiary_id",
        "allowance_code",
        "amount_vnd",
        state=pl.lit(OrderState.SUPERSEDED),
        paid_vnd=pl.lit(0, dtype=pl.Int64),
        payout_id=pl.lit(None, dtype=pl.String),
        unpaid_in_own_period="unpaid_in_own_period",
    )
    # order_id is unique among them (a prior order is never of this period): one sort key is enough.
    return pl.concat([conform(now, OUTCOME_SCHEMA), conform(gone, OUTCOME_SCHEMA)]).sort("order_id")


def _order_rows(frame: pl.DataFrame, code: str, period: str, detail: pl.Expr) -> pl.DataFrame:
    return exception_rows(
        frame,
        code,
        period,
        province=pl.col("o_province"),
        order_id=pl.col("order_id"),
        payout_id=pl.lit(None, dtype=pl.String),
        beneficiary_id=pl.col("beneficiary_id"),
        national_id=pl.col("o_nid"),
        ordered=pl.col("o_amount"),
        paid=pl.lit(0, dtype=pl.Int64),
        detail=detail,
    )


def order_checks(period: str, status: pl.DataFrame, prior_orders: pl.DataFrame) -> list[pl.DataFrame]:
    out: list[pl.DataFrame] = []
    open_now = status.filter(pl.col("is_current") & ~pl.col("is_matched"))
    missing = open_now.filter(pl.col("result") == MISSING)
    out.append(_order_rows(missing, Code.MISSING_RESULT, period, pl.lit("no payout line covers this order")))
    unpaid = open_now.filter(pl.col("result") == UNPAID)
    out.append(
        _order_rows(
            unpaid, Code.UNPAID, period, pl.format("reported unpaid: {} (line {})", "reason", "unpaid_line")
        )
    )

    # UNCOLLECTED_3_MONTHS: unpaid now, and unpaid in its own period in each of the two periods before.
    before = [shift_period(period, -1), shift_period(period, -2)]
    history = (
        prior_orders.filter(pl.col("period").is_in(before) & pl.col("unpaid_in_own_period").fill_null(False))
        .group_by("beneficiary_id", "allowance_code")
        .agg(n=pl.col("period").n_unique())
        .filter(pl.col("n") == len(before))
    )
    streak = open_now.join(history, on=["beneficiary_id", "allowance_code"], how="semi")
    out.append(
        _order_rows(
            streak, Code.UNCOLLECTED_3_MONTHS, period,
            pl.lit(f"unpaid in {before[1]}, {before[0]} and {period}: review the beneficiary"),
        )
    )  # fmt: skip
    return out


def duplicate_orders(period: str, orders: pl.DataFrame) -> pl.DataFrame:
    """Rule 7: orders of the period with the same national_id and allowance_code and overlapping covers."""
    import numpy as np  # only a reconciliation needs it, not every command's start-up

    keys = ["national_id", "allowance_code"]
    # Cheap pre-filter (no explode over every order): only same-person-same-allowance groups can overlap.
    # Hashes narrow it down to a superset (a hash collision only adds a suspect); the groups below are exact.
    # Repeated hash values are found by sorting the integers (numpy), cheaper than hashing them again.
    hashes = orders.select(
        h=pl.when(pl.col("national_id").is_not_null()).then(
            pl.col("national_id").hash(1) ^ pl.col("allowance_code").hash(2)
        )
    ).get_column("h")
    ordered = np.sort(hashes.drop_nulls().to_numpy())
    repeated = pl.Series(np.unique(ordered[1:][ordered[1:] == ordered[:-1]]), dtype=pl.UInt64)
    # (Narrowed first: a filter copies every column it keeps.)
    suspects = orders.select(
        "order_id", *keys, "covers", "province_code", "beneficiary_id", "amount_vnd"
    ).filter(hashes.is_in(repeated.implode()))
    if suspects.is_empty():
        return exception_rows(
            suspects, Code.DUPLICATE_ORDER, period, province=pl.lit(None), order_id=pl.lit(None),
            payout_id=pl.lit(None), beneficiary_id=pl.lit(None), national_id=pl.lit(None),
            ordered=pl.lit(None), paid=pl.lit(None), detail=pl.lit(None),
        )  # fmt: skip
    months = suspects.select("order_id", *keys, "covers").explode("covers", empty_as_null=True)
    groups = (
        months.group_by(*keys, "covers")
        .agg(ids=pl.col("order_id").unique())
        .filter(pl.col("ids").list.len() > 1)
    )
    flagged = groups.explode("ids", empty_as_null=True).select(*keys, order_id="ids").unique()
    # The other orders of the group, for the detail text.
    others = (
        flagged.join(flagged, on=keys, suffix="_other")
        .filter(pl.col("order_id") != pl.col("order_id_other"))
        .group_by("order_id")
        .agg(others=pl.col("order_id_other").unique().sort().str.join(", "))
    )
    rows = suspects.join(flagged.select("order_id"), on="order_id", how="semi").join(
        others, on="order_id", how="left"
    )
    return exception_rows(
        rows,
        Code.DUPLICATE_ORDER,
        period,
        province=pl.col("province_code"),
        order_id=pl.col("order_id"),
        payout_id=pl.lit(None, dtype=pl.String),
        beneficiary_id=pl.col("beneficiary_id"),
        national_id=pl.col("national_id"),
        ordered=pl.col("amount_vnd"),
        paid=pl.lit(None, dtype=pl.Int64),
        detail=pl.format("same national_id and allowance {} as order(s) {}", "allowance_code", "others"),
    )


def control_total_rows(period: str, control_totals: pl.DataFrame) -> pl.DataFrame:
    """Rule 8: one file-level row per file whose footer differs from its lines' sums."""
    bad = control_totals.filter(
        pl.col("footer_paid_vnd").ne_missing(pl.col("lines_paid_vnd"))
        | pl.col("footer_fee_vnd").ne_missing(pl.col("lines_fee_vnd"))
    )
    return exception_rows(
        bad,
        Code.CONTROL_TOTAL_MISMATCH,
        period,
        province=pl.col("province_code"),
        order_id=pl.lit(None, dtype=pl.String),
        payout_id=pl.lit(None, dtype=pl.String),
        beneficiary_id=pl.lit(None, dtype=pl.String),
        national_id=pl.lit(None, dtype=pl.String),
        ordered=pl.col("footer_paid_vnd"),
        paid=pl.col("lines_paid_vnd"),
        detail=pl.format(
            "file {}: footer paid {} / fee {} VND, lines sum to paid {} / fee {} VND",
            "source_name", "footer_paid_vnd", "footer_fee_vnd", "lines_paid_vnd", "lines_fee_vnd",
        ),
    )  # fmt: skip
