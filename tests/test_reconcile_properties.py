"""Properties of the core on generated months (hypothesis picks the seed, size, month and shuffles)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disburse.fixtures.generate import InjectionRates, generate
from disburse.fixtures.model import GeneratedMonth
from disburse.reconcile import ReconcileInput, ReconcileResult, reconcile
from disburse.reconcile.simulate import inputs_for
from disburse.schema import CONTROL_TOTAL_SCHEMA, Code

MONTHS = 3
PROFILE = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def world(
    seed: int, rows: int, rates: InjectionRates | None = None
) -> tuple[list[GeneratedMonth], list[ReconcileInput], list[ReconcileResult]]:
    months = generate("2026-08", MONTHS, rows, seed, rates)
    inputs: list[ReconcileInput] = []
    results: list[ReconcileResult] = []
    for k in range(MONTHS):
        inputs.append(inputs_for(months, k, results))
        results.append(reconcile(inputs[-1]))
    return months, inputs, results


def shuffled(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    return frame.sample(fraction=1.0, shuffle=True, seed=seed) if frame.height else frame


def same(a: ReconcileResult, b: ReconcileResult) -> None:
    assert a.exceptions.equals(b.exceptions)
    assert a.outcomes.equals(b.outcomes)
    assert a.summary.equals(b.summary)


seeds = st.integers(min_value=1, max_value=40)
sizes = st.sampled_from([500, 800])
month = st.integers(min_value=0, max_value=MONTHS - 1)


@PROFILE
@given(seed=seeds, rows=sizes, k=month, shuffle_seed=st.integers(0, 2**31))
def test_shuffling_any_input_frame_changes_nothing(seed: int, rows: int, k: int, shuffle_seed: int) -> None:
    _, inputs, results = world(seed, rows)
    inp = inputs[k]
    mixed = replace(
        inp,
        orders=shuffled(inp.orders, shuffle_seed),
        prior_orders=shuffled(inp.prior_orders, shuffle_seed + 1),
        events=shuffled(inp.events, shuffle_seed + 2),
        payouts=shuffled(inp.payouts, shuffle_seed + 3),
        control_totals=shuffled(inp.control_totals, shuffle_seed + 4),
    )
    same(results[k], reconcile(mixed))


@PROFILE
@given(seed=seeds, rows=sizes, k=month, province=st.sampled_from(["19", "48", "68", "75", "79"]),
       split_seed=st.integers(0, 2**31))  # fmt: skip
def test_splitting_a_payout_file_changes_nothing_but_control_totals(
    seed: int, rows: int, k: int, province: str, split_seed: int
) -> None:
    _, inputs, results = world(seed, rows)
    inp = inputs[k]
    mine = pl.col("province_code") == province
    lines = inp.payouts.filter(mine)
    first = pl.Series(
        pl.DataFrame({"x": range(lines.height)}).sample(fraction=1, shuffle=True, seed=split_seed)["x"]
        < lines.height // 2
    )
    part_a, part_b = lines.filter(first), lines.filter(~first)

    def honest_footer(part: pl.DataFrame, name: str) -> dict[str, object]:
        paid = int(part.filter(pl.col("status").str.starts_with("PAID"))["amount_paid_vnd"].sum())
        fee = int(part["fee_vnd"].fill_null(0).sum())
        return {"province_code": province, "period": inp.period, "source_name": name, "footer_paid_vnd": paid,
                "footer_fee_vnd": fee, "lines_paid_vnd": paid, "lines_fee_vnd": fee}  # fmt: skip

    controls = inp.control_totals.filter(~mine)
    if not inp.control_totals.filter(mine).is_empty():
        controls = pl.concat(
            [
                controls,
                pl.DataFrame(
                    [honest_footer(part_a, "a"), honest_footer(part_b, "b")], schema=CONTROL_TOTAL_SCHEMA
                ),
            ]
        )
    split = replace(
        inp, payouts=pl.concat([inp.payouts.filter(~mine), part_b, part_a]), control_totals=controls
    )
    result = reconcile(split)
    not_control = pl.col("code") != Code.CONTROL_TOTAL_MISMATCH
    assert result.exceptions.filter(not_control).equals(results[k].exceptions.filter(not_control))
    assert result.exceptions.filter(~not_control).get_column("province_code").to_list() == [
        p for p in results[k].exceptions.filter(~not_control).get_column("province_code") if p != province
    ]
    assert result.outcomes.equals(results[k].outcomes)
    assert result.summary.equals(results[k].summary)


@PROFILE
@given(seed=seeds, rows=sizes)
def test_money_conserved_per_province(seed: int, rows: int) -> None:
    _, _, results = world(seed, rows)
    for result in results:
        for row in result.summary.iter_rows(named=True):
            assert row["ordered_vnd"] == (
                row["matched_paid_vnd"] + row["underpaid_gap_vnd"] + row["unpaid_vnd"] + row["missing_vnd"]
            )
            assert row["advance_vnd"] == row["ordered_vnd"]
            assert row["residual_vnd"] == (
                row["advance_vnd"] + row["carried_in_vnd"] - row["paid_out_vnd"] - row["returned_vnd"]
                - row["carried_out_vnd"]
            )  # fmt: skip


@settings(max_examples=6, deadline=None)
@given(seed=seeds, rows=sizes)
def test_cash_close_is_zero_on_clean_data(seed: int, rows: int) -> None:
    months, _, results = world(seed, rows, InjectionRates.none())
    for m, result in zip(months, results, strict=True):
        assert m.expected.is_empty()
        assert result.exceptions.is_empty()
        assert result.summary.get_column("residual_vnd").to_list() == [0] * result.summary.height


@settings(max_examples=6, deadline=None)
@given(seed=seeds, rows=sizes)
def test_cash_close_residual_is_minus_the_leak(seed: int, rows: int) -> None:
    rates = InjectionRates.only(Code.PHANTOM_PAYOUT, Code.DUPLICATE_PAYOUT, Code.OVERPAID)
    months, inputs, results = world(seed, rows, rates)
    all_orders = pl.concat([m.orders for m in months]).select("order_id", "amount_vnd")
    for m, inp, result in zip(months, inputs, results, strict=True):
        # The leak from the generator's truth: whole phantom and duplicate lines, overpaid excess.
        lines = inp.payouts.select("province_code", "payout_id", "amount_paid_vnd")
        truth = m.expected
        whole = truth.filter(pl.col("code").is_in([Code.PHANTOM_PAYOUT, Code.DUPLICATE_PAYOUT]))
        whole_leak = lines.join(whole.select("payout_id").unique(), on="payout_id")
        over = (
            truth.filter(pl.col("code") == Code.OVERPAID)
            .join(all_orders, on="order_id")
            .group_by("payout_id")
            .agg(ordered=pl.col("amount_vnd").sum())
            .join(lines, on="payout_id")
            .with_columns(amount_paid_vnd=pl.col("amount_paid_vnd") - pl.col("ordered"))
        )
        leak = (
            pl.concat([whole_leak, over.select(lines.columns)])
            .group_by("province_code")
            .agg(leak=pl.col("amount_paid_vnd").sum())
        )
        got = result.summary.join(leak, on="province_code", how="left").with_columns(
            pl.col("leak").fill_null(0)
        )
        assert got.get_column("residual_vnd").to_list() == (-got.get_column("leak")).to_list()
        assert not truth.is_empty()
