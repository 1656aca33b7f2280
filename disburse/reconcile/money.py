"""Rule 9: money per province and period, and the post office's cash close.

ordered = matched_paid + underpaid_gap + unpaid + missing over the period's orders; what left the post office
beyond the orders (phantom, duplicate, overpaid excess) is shown apart;
residual = advance + carried_in - paid_out - returned - carried_out.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from disburse.profile import ProvinceProfile
from disburse.reconcile.fees import tariff_fee
from disburse.reconcile.matching import DUPLICATE, MATCHED, PHANTOM, Candidates, Matching
from disburse.reconcile.order_checks import MISSING, UNPAID
from disburse.reconcile.params import ProvinceParams
from disburse.schema import SUMMARY_SCHEMA, conform

_KEY = "province_code"


def _sum(cond: pl.Expr, value: pl.Expr) -> pl.Expr:
    return _masked(cond, value).sum()


def _masked(cond: pl.Expr, value: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(value).otherwise(0).cast(pl.Int64)


def summary(
    period: str,
    status: pl.DataFrame,
    cand: Candidates,
    matching: Matching,
    profiles: Mapping[str, ProvinceProfile],
) -> pl.DataFrame:
    capped = pl.min_horizontal("paid_vnd", "o_amount")
    current = pl.col("is_current")
    matched = pl.col("is_matched")
    # One lazy group-by per frame: the masked amounts are computed inside the aggregation, no wide
    # intermediate frame is materialised (the province is the group key, as text: a handful of groups).
    amount = pl.col("o_amount")
    per_order = (
        status.lazy()
        .group_by(pl.col("o_province").alias(_KEY))
        .agg(
            orders=current.cast(pl.Int64).sum(),
            ordered_vnd=_sum(current, amount),
            matched_paid_vnd=_sum(current & matched, capped),
            underpaid_gap_vnd=_sum(current & matched, amount - capped),
            unpaid_vnd=_sum(current & (pl.col("result") == UNPAID), amount),
            missing_vnd=_sum(current & (pl.col("result") == MISSING), amount),
            carried_out_vnd=_sum(~matched, amount),
            all_capped_vnd=_sum(matched, capped),  # prior orders too: for the paid-out invariant
        )
        .with_columns(advance_vnd=pl.col("ordered_vnd"))
        .collect()
    )
    paid = pl.col("is_paid")
    # Fee as reported, or from the tariff where the dialect reports none.
    params = ProvinceParams(profiles)
    fee = pl.coalesce(
        pl.col("l_fee"), tariff_fee(params.flat_fee(), params.rate_bp(), pl.col("l_amount"), paid)
    )
    per_line = (
        matching.lines.lazy()
        .group_by(pl.col("l_province").alias(_KEY))
        .agg(
            payout_lines=pl.len().cast(pl.Int64),
            paid_out_vnd=_sum(paid, pl.col("l_amount")),
            fee_vnd=fee.fill_null(0).cast(pl.Int64).sum(),
        )
        .collect()
    )
    leaks = (
        matching.line_class.rename({"l_province": _KEY})
        .group_by(_KEY)
        .agg(
            phantom_vnd=_sum(pl.col("kind") == PHANTOM, pl.col("l_amount")),
            duplicate_vnd=_sum(pl.col("kind") == DUPLICATE, pl.col("l_amount")),
        )
    )
    over = (
        pl.concat(
            [
                # (Narrowed before filtering: an eager filter copies every column of the wide pairs frame.)
                p.select("kind", "line_last", "l_province", "l_amount", "line_ordered")
                .filter(
                    (pl.col("kind") == MATCHED)
                    & pl.col("line_last")
                    & (pl.col("l_amount") > pl.col("line_ordered"))
                )
                .select("l_province", "l_amount", "line_ordered")
                for p in matching.pairs
            ]
        )
        .rename({"l_province": _KEY})
        .group_by(_KEY)
        .agg(
            overpaid_vnd=pl.max_horizontal(pl.col("l_amount") - pl.col("line_ordered"), pl.lit(0))
            .sum()
            .cast(pl.Int64)
        )
    )
    carried_in = cand.open_prior.group_by(_KEY).agg(carried_in_vnd=pl.col("amount_vnd").sum())
    returned = cand.superseded.group_by(_KEY).agg(returned_vnd=pl.col("amount_vnd").sum())

    parts = [per_order, per_line, leaks, over, carried_in, returned]
    frame = pl.concat([p.select(pl.col(_KEY).cast(pl.String)) for p in parts]).unique()
    for part in parts:
        frame = frame.join(part, on=_KEY, how="left")
    money = [c for c in SUMMARY_SCHEMA if c not in (_KEY, "period", "residual_vnd")] + ["all_capped_vnd"]
    frame = frame.with_columns(
        [pl.col(c).fill_null(0).cast(pl.Int64) for c in money], period=pl.lit(period, dtype=pl.String)
    ).with_columns(
        residual_vnd=pl.col("advance_vnd")
        + pl.col("carried_in_vnd")
        - pl.col("paid_out_vnd")
        - pl.col("returned_vnd")
        - pl.col("carried_out_vnd")
    )
    _assert_conserved(frame)
    return conform(frame, SUMMARY_SCHEMA).sort(_KEY)


def _assert_conserved(frame: pl.DataFrame) -> None:
    """TigerBeetle-style invariants: a violation is a bug in the core, never a data problem, so it stops the
    run instead of writing a summary that does not add up."""
    broken = frame.filter(
        pl.col("ordered_vnd")
        != pl.col("matched_paid_vnd")
        + pl.col("underpaid_gap_vnd")
        + pl.col("unpaid_vnd")
        + pl.col("missing_vnd")
    )
    if not broken.is_empty():
        raise AssertionError(f"money not conserved (ordered != matched + gap + unpaid + missing):\n{broken}")
    # Every paid đồng is on a matched order (capped), an overpaid excess, a phantom or a duplicate line.
    totals = frame.select(
        paid=pl.col("paid_out_vnd").sum(),
        parts=(
            pl.col("all_capped_vnd")
            + pl.col("overpaid_vnd")
            + pl.col("phantom_vnd")
            + pl.col("duplicate_vnd")
        ).sum(),
    ).row(0, named=True)
    if totals["paid"] != totals["parts"]:
        raise AssertionError(
            f"paid out {totals['paid']} VND != capped matched + overpaid + phantom + duplicate"
            f" = {totals['parts']} VND"
        )
