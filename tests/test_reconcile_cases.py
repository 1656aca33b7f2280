"""One small hand-written case per exception code (and a few matching rules), readable top to bottom.

Every case builds its frames literally, runs the core and asserts the exact (code, order_id, payout_id) rows.
Period 2026-10 throughout; HCM (79, flat fee 6,600 VND, footer), Đà Nẵng (48, 0.70 %), Thái Nguyên (19, no
order_ref and no fee column).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from disburse.profile import pilot_provinces
from disburse.reconcile import ReconcileInput, ReconcileResult, reconcile, sort_exceptions
from disburse.schema import (
    CONTROL_TOTAL_SCHEMA,
    EVENT_SCHEMA,
    EXCEPTION_SCHEMA,
    ORDER_SCHEMA,
    OUTCOME_SCHEMA,
    PAYOUT_SCHEMA,
    PRIOR_ORDER_SCHEMA,
    SUMMARY_SCHEMA,
)

P = "2026-10"
AN = "Nguyễn Văn An"
AN_ID = "079123456789"


def order(order_id: str, **kw: Any) -> dict[str, Any]:
    """An order of An (HCM, NCC.TB, 2,789,000 VND) unless overridden."""
    period = kw.pop("period", P)
    row = {
        "order_id": order_id,
        "period": period,
        "province_code": order_id[:2],
        "ward_code": "26734",
        "beneficiary_id": "79-NCC-0000001",
        "national_id": AN_ID,
        "full_name": AN,
        "birth_date": date(1950, 1, 1),
        "program": "NCC",
        "allowance_code": "NCC.TB",
        "amount_vnd": 2_789_000,
        "covers": [period],
        "proxy_national_id": None,
        "proxy_name": None,
        "proxy_valid_until": None,
    }
    row.update(kw)
    return _own_id(row, kw)


def _own_id(row: dict[str, Any], kw: dict[str, Any]) -> dict[str, Any]:
    """Another beneficiary is another person: give them their own national ID unless one is given."""
    if "beneficiary_id" in kw and "national_id" not in kw and kw["beneficiary_id"] != "79-NCC-0000001":
        row["national_id"] = f"0{kw['beneficiary_id'][:2]}{int(kw['beneficiary_id'][-7:]):09d}"
    return row


def prior(order_id: str, state: str, unpaid_own: bool, **kw: Any) -> dict[str, Any]:
    return {**order(order_id, **kw), "state": state, "unpaid_in_own_period": unpaid_own}


def line(payout_id: str, order_ref: str | None, **kw: Any) -> dict[str, Any]:
    """A clean HCM line paying An 2,789,000 VND on 2026-10-03 (fee 6,600) unless overridden."""
    row = {
        "province_code": "79",
        "period": P,
        "payout_id": payout_id,
        "order_ref": order_ref,
        "beneficiary_id": "79-NCC-0000001",
        "national_id": AN_ID,
        "full_name": AN,
        "amount_paid_vnd": 2_789_000,
        "fee_vnd": 6_600,
        "paid_on": date(2026, 10, 3),
        "status": "PAID",
        "receiver_national_id": None,
        "ward_code": "26734",
        "post_office_code": "BC26734",
    }
    row.update(kw)
    return _own_id(row, kw)


def run(
    orders: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    *,
    prior_orders: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    control: list[dict[str, Any]] | None = None,
    tolerance: int | None = None,
) -> ReconcileResult:
    inp = ReconcileInput(
        period=P,
        orders=pl.DataFrame(orders, schema=ORDER_SCHEMA),
        prior_orders=pl.DataFrame(prior_orders or [], schema=PRIOR_ORDER_SCHEMA),
        events=pl.DataFrame(events or [], schema=EVENT_SCHEMA),
        payouts=pl.DataFrame(lines, schema=PAYOUT_SCHEMA),
        control_totals=pl.DataFrame(control or [], schema=CONTROL_TOTAL_SCHEMA),
        profiles=pilot_provinces(),
    )
    result = reconcile(inp, amount_tolerance_vnd=tolerance)
    assert result.exceptions.schema == pl.Schema(EXCEPTION_SCHEMA)
    assert result.outcomes.schema == pl.Schema(OUTCOME_SCHEMA)
    assert result.summary.schema == pl.Schema(SUMMARY_SCHEMA)
    assert result.exceptions.equals(sort_exceptions(result.exceptions))
    return result


def rows(result: ReconcileResult) -> list[tuple[str, str | None, str | None]]:
    return [(c, o, p) for c, o, p in result.exceptions.select("code", "order_id", "payout_id").iter_rows()]


def state(result: ReconcileResult, order_id: str) -> str:
    return str(result.outcomes.filter(pl.col("order_id") == order_id).item(0, "state"))


O1 = "79-202610-0000001"
O2 = "79-202610-0000002"


def test_clean_line_gives_nothing() -> None:
    result = run([order(O1)], [line("T1", O1)])
    assert rows(result) == []
    assert state(result, O1) == "PAID"
    assert result.summary.item(0, "residual_vnd") == 0


def test_phantom_payout_names_an_unknown_order() -> None:
    result = run([order(O1)], [line("T1", O1), line("T2", "79-202610-0009999")])
    assert rows(result) == [("PHANTOM_PAYOUT", "79-202610-0009999", "T2")]
    assert result.summary.item(0, "phantom_vnd") == 2_789_000
    assert result.summary.item(0, "residual_vnd") == -2_789_000


def test_phantom_payout_without_order_ref_for_a_beneficiary_with_no_open_order() -> None:
    thai = line("TN1", None, province_code="19", beneficiary_id="19-BTXH-0000009", fee_vnd=None)
    assert rows(run([order(O1)], [line("T1", O1), thai])) == [("PHANTOM_PAYOUT", None, "TN1")]


def test_duplicate_payout_within_the_period_the_earliest_line_matches() -> None:
    # T2 was paid a day earlier, so it is the match even though T1 comes first in the file.
    result = run([order(O1)], [line("T1", O1, paid_on=date(2026, 10, 4)), line("T2", O1)])
    assert rows(result) == [("DUPLICATE_PAYOUT", O1, "T1")]
    assert result.outcomes.filter(pl.col("order_id") == O1).item(0, "payout_id") == "T2"


def test_duplicate_payout_same_day_ties_go_to_the_smaller_payout_id() -> None:
    result = run([order(O1)], [line("T9", O1), line("T1", O1)])
    assert rows(result) == [("DUPLICATE_PAYOUT", O1, "T9")]


def test_duplicate_payout_of_an_order_paid_in_an_earlier_period() -> None:
    old = "79-202609-0000001"
    result = run(
        [order(O1)],
        [line("T1", O1), line("T2", old)],
        prior_orders=[prior(old, "PAID", False, period="2026-09")],
    )
    assert rows(result) == [("DUPLICATE_PAYOUT", old, "T2")]


def test_overpaid() -> None:
    result = run([order(O1)], [line("T1", O1, amount_paid_vnd=3_000_000)])
    assert rows(result) == [("OVERPAID", O1, "T1")]
    assert result.exceptions.row(0, named=True)["difference_vnd"] == 211_000
    assert result.summary.item(0, "overpaid_vnd") == 211_000


def test_overpaid_within_tolerance_is_not_flagged() -> None:
    assert rows(run([order(O1)], [line("T1", O1, amount_paid_vnd=2_789_500)], tolerance=1_000)) == []


def test_underpaid() -> None:
    result = run([order(O1)], [line("T1", O1, amount_paid_vnd=2_000_000)])
    assert rows(result) == [("UNDERPAID", O1, "T1")]
    summary = result.summary.row(0, named=True)
    assert summary["underpaid_gap_vnd"] == 789_000
    assert summary["residual_vnd"] == 789_000  # cash the post office still holds


def test_paid_after_death() -> None:
    died = [{"beneficiary_id": "79-NCC-0000001", "national_id": AN_ID, "event": "DECEASED",
             "effective_date": date(2026, 9, 20)}]  # fmt: skip
    assert rows(run([order(O1)], [line("T1", O1)], events=died)) == [("PAID_AFTER_DEATH", O1, "T1")]


def test_death_within_the_paid_period_is_not_paid_after_death() -> None:
    died = [{"beneficiary_id": "79-NCC-0000001", "national_id": AN_ID, "event": "DECEASED",
             "effective_date": date(2026, 10, 15)}]  # fmt: skip
    assert rows(run([order(O1)], [line("T1", O1)], events=died)) == []


def test_overpaid_payment_to_a_dead_person_gives_both_codes() -> None:
    died = [{"beneficiary_id": None, "national_id": AN_ID, "event": "DECEASED",
             "effective_date": date(2026, 9, 1)}]  # fmt: skip
    result = run([order(O1)], [line("T1", O1, amount_paid_vnd=2_800_000)], events=died)
    assert sorted(rows(result)) == [("OVERPAID", O1, "T1"), ("PAID_AFTER_DEATH", O1, "T1")]


def test_proxy_unauthorized_when_the_order_has_no_proxy() -> None:
    result = run([order(O1)], [line("T1", O1, status="PAID_PROXY", receiver_national_id="001099000111")])
    assert rows(result) == [("PROXY_UNAUTHORIZED", O1, "T1")]


def test_proxy_unauthorized_when_the_receiver_is_not_the_proxy() -> None:
    o = order(O1, proxy_national_id="001099000111", proxy_name="Trần Thị Bé",
              proxy_valid_until=date(2027, 1, 1))  # fmt: skip
    result = run([o], [line("T1", O1, status="PAID_PROXY", receiver_national_id="001099000222")])
    assert rows(result) == [("PROXY_UNAUTHORIZED", O1, "T1")]


def test_proxy_expired() -> None:
    o = order(O1, proxy_national_id="001099000111", proxy_name="Trần Thị Bé",
              proxy_valid_until=date(2026, 9, 30))  # fmt: skip
    # The receiver lost its leading zeros in a spreadsheet: still the authorised proxy.
    result = run([o], [line("T1", O1, status="PAID_PROXY", receiver_national_id="1099000111")])
    assert rows(result) == [("PROXY_EXPIRED", O1, "T1")]


def test_id_mismatch_but_not_for_lost_leading_zeros() -> None:
    result = run(
        [order(O1), order(O2, beneficiary_id="79-NCC-0000002", national_id="001234567890")],
        [line("T1", O1, national_id="079999999999"),
         line("T2", O2, beneficiary_id="79-NCC-0000002", national_id="1234567890")],
    )  # fmt: skip
    assert rows(result) == [("ID_MISMATCH", O1, "T1")]


def test_duplicate_order_same_person_and_allowance_in_two_provinces() -> None:
    o48 = order("48-202610-0000001", beneficiary_id="48-NCC-0000001", national_id=AN_ID, ward_code="20194")
    result = run(
        [order(O1), o48, order(O2, allowance_code="BTXH.NCT", program="BTXH", amount_vnd=500_000)],
        [line("T1", O1), line("T2", O2, amount_paid_vnd=500_000),
         line("D1", "48-202610-0000001", province_code="48", beneficiary_id="48-NCC-0000001",
              national_id=AN_ID, fee_vnd=19_523, ward_code="20194")],
    )  # fmt: skip
    # O2 is the same person but another allowance: legitimate.
    assert rows(result) == [
        ("DUPLICATE_ORDER", "48-202610-0000001", None),
        ("DUPLICATE_ORDER", O1, None),
    ]


def test_control_total_mismatch_is_one_file_level_row() -> None:
    control = [{"province_code": "79", "period": P, "source_name": "hcm_2026-10.csv",
                "footer_paid_vnd": 3_789_000, "footer_fee_vnd": 6_600,
                "lines_paid_vnd": 2_789_000, "lines_fee_vnd": 6_600}]  # fmt: skip
    result = run([order(O1)], [line("T1", O1)], control=control)
    assert rows(result) == [("CONTROL_TOTAL_MISMATCH", None, None)]
    detail = result.exceptions.item(0, "detail")
    assert "hcm_2026-10.csv" in detail and "3789000" in detail and "2789000" in detail


def test_missing_result() -> None:
    result = run([order(O1), order(O2, beneficiary_id="79-NCC-0000002")], [line("T1", O1)])
    assert rows(result) == [("MISSING_RESULT", O2, None)]
    assert state(result, O2) == "OPEN"
    assert result.summary.item(0, "missing_vnd") == 2_789_000


def test_unpaid_with_the_reason() -> None:
    unpaid = line("T1", O1, amount_paid_vnd=0, fee_vnd=0, paid_on=None, status="UNPAID_ABSENT")
    result = run([order(O1)], [unpaid])
    assert rows(result) == [("UNPAID", O1, None)]
    assert "UNPAID_ABSENT" in result.exceptions.item(0, "detail")
    assert state(result, O1) == "OPEN"
    assert result.summary.item(0, "residual_vnd") == 0  # the money is carried out, not lost


def test_fee_mismatch_percent_tariff_rounds_half_up() -> None:
    # Đà Nẵng 0.70 %: 2,789,000 * 70 / 10,000 = 19,523 exactly; 500,050 * 0.007 = 3,500.35 -> 3,500.
    o1 = order("48-202610-0000001", beneficiary_id="48-NCC-0000001")
    o2 = order("48-202610-0000002", beneficiary_id="48-NCC-0000002", amount_vnd=500_050)
    result = run(
        [o1, o2],
        [line("T1", "48-202610-0000001", province_code="48", beneficiary_id="48-NCC-0000001", fee_vnd=19_523),
         line("T2", "48-202610-0000002", province_code="48", beneficiary_id="48-NCC-0000002",
              amount_paid_vnd=500_050, fee_vnd=3_501)],
    )  # fmt: skip
    assert rows(result) == [("FEE_MISMATCH", "48-202610-0000002", "T2")]


def test_fee_mismatch_on_an_unpaid_line_that_carries_a_fee() -> None:
    unpaid = line("T1", O1, amount_paid_vnd=0, fee_vnd=6_600, paid_on=None, status="UNPAID_MOVED")
    assert rows(run([order(O1)], [unpaid])) == [("FEE_MISMATCH", O1, "T1"), ("UNPAID", O1, None)]


def test_paid_late() -> None:
    result = run([order(O1)], [line("T1", O1, paid_on=date(2026, 10, 11))])
    assert rows(result) == [("PAID_LATE", O1, "T1")]


def test_name_mismatch_but_not_for_tone_placement_case_or_nfd() -> None:
    hoa = "Lê Thị Hòa"
    orders = [order(O1), order(O2, beneficiary_id="79-NCC-0000002", full_name=hoa),
              order("79-202610-0000003", beneficiary_id="79-NCC-0000003", full_name=hoa)]  # fmt: skip
    result = run(
        orders,
        [line("T1", O1, full_name="Nguyễn Văn Ân"),
         line("T2", O2, beneficiary_id="79-NCC-0000002", full_name="LÊ  THỊ HOÀ"),
         line("T3", "79-202610-0000003", beneficiary_id="79-NCC-0000003", full_name="Lê Thị Hoà")],
    )  # fmt: skip
    assert rows(result) == []  # Ân vs An differ only by a diacritic: folded equal (by the domain's rule)
    result = run([order(O1)], [line("T1", O1, full_name="Nguyễn Văn Bình")])
    assert rows(result) == [("NAME_MISMATCH", O1, "T1")]
    assert "Nguyễn Văn Bình" in result.exceptions.item(0, "detail")


def test_location_mismatch() -> None:
    assert rows(run([order(O1)], [line("T1", O1, ward_code="26737")])) == [("LOCATION_MISMATCH", O1, "T1")]


def test_uncollected_3_months() -> None:
    history = [
        prior("79-202608-0000001", "OPEN", True, period="2026-08"),
        prior("79-202609-0000001", "OPEN", True, period="2026-09"),
    ]
    result = run([order(O1)], [], prior_orders=history)
    assert rows(result) == [("MISSING_RESULT", O1, None), ("UNCOLLECTED_3_MONTHS", O1, None)]
    # Only two months unpaid: no review yet.
    result = run([order(O1)], [], prior_orders=history[1:])
    assert rows(result) == [("MISSING_RESULT", O1, None)]


# --- matching rules beyond single codes -----------------------------------------------------------------


def test_carry_forward_by_order_ref_pays_the_open_order() -> None:
    old = "79-202609-0000001"
    result = run(
        [order(O1)],
        [line("T1", f"{old}|{O1}", amount_paid_vnd=5_578_000)],
        prior_orders=[prior(old, "OPEN", True, period="2026-09")],
    )
    assert rows(result) == []
    assert state(result, old) == "PAID" and state(result, O1) == "PAID"
    summary = result.summary.row(0, named=True)
    assert summary["carried_in_vnd"] == 2_789_000 and summary["residual_vnd"] == 0


def test_thainguyen_line_covers_open_and_current_orders_of_the_beneficiary() -> None:
    kw: dict[str, Any] = {
        "beneficiary_id": "19-BTXH-0000001",
        "allowance_code": "BTXH.NCT",
        "amount_vnd": 500_000,
    }
    old = prior("19-202609-0000001", "OPEN", True, period="2026-09", **kw)
    second = {**kw, "allowance_code": "BTXH.KT", "amount_vnd": 750_000}
    cur = [order("19-202610-0000001", **kw), order("19-202610-0000002", **second)]
    thai = line("TN1", None, province_code="19", beneficiary_id="19-BTXH-0000001", fee_vnd=None,
                amount_paid_vnd=1_750_000)  # fmt: skip
    result = run(cur, [thai], prior_orders=[old])
    assert rows(result) == []
    assert result.outcomes.get_column("state").to_list() == ["PAID", "PAID", "PAID"]
    # Paid 1,000,000 short: allocated in (period, order_id) order, the shortfall lands on the last order.
    result = run(cur, [{**thai, "amount_paid_vnd": 750_000}], prior_orders=[old])
    assert rows(result) == [
        ("UNDERPAID", "19-202609-0000001", "TN1"),
        ("UNDERPAID", "19-202610-0000001", "TN1"),
        ("UNDERPAID", "19-202610-0000002", "TN1"),
    ]
    assert result.exceptions.get_column("paid_vnd").to_list() == [500_000, 250_000, 0]


def test_arrears_order_supersedes_the_open_order() -> None:
    old = "79-202609-0000001"
    arrears = order(O2, covers=["2026-09"])
    result = run(
        [order(O1), arrears],
        [line("T1", O1), line("T2", O2), line("T3", old)],
        prior_orders=[prior(old, "OPEN", True, period="2026-09")],
    )
    # Paying the superseded order as well is a phantom: the arrears order replaced it.
    assert rows(result) == [("PHANTOM_PAYOUT", old, "T3")]
    assert state(result, old) == "SUPERSEDED"
    summary = result.summary.row(0, named=True)
    assert summary["returned_vnd"] == 2_789_000
    assert summary["residual_vnd"] == -2_789_000  # the phantom line


@pytest.mark.parametrize("shuffle_seed", [1, 2, 3])
def test_row_order_of_the_inputs_does_not_matter(shuffle_seed: int) -> None:
    orders = [order(O1), order(O2, beneficiary_id="79-NCC-0000002")]
    lines = [line("T1", O1), line("T2", O1, paid_on=date(2026, 10, 3)), line("T3", O2, amount_paid_vnd=1)]
    base = run(orders, lines)
    shuffled = run(
        pl.DataFrame(orders, schema=ORDER_SCHEMA)
        .sample(fraction=1, shuffle=True, seed=shuffle_seed)
        .to_dicts(),
        pl.DataFrame(lines, schema=PAYOUT_SCHEMA)
        .sample(fraction=1, shuffle=True, seed=shuffle_seed)
        .to_dicts(),
    )
    assert base.exceptions.equals(shuffled.exceptions)
    assert base.outcomes.equals(shuffled.outcomes)
    assert base.summary.equals(shuffled.summary)


def test_empty_period_reconciles_to_nothing() -> None:
    result = run([], [])
    assert result.exceptions.is_empty() and result.outcomes.is_empty() and result.summary.is_empty()


def test_lines_without_any_order_are_all_phantoms() -> None:
    result = run([], [line("T1", O1), line("TN1", None, province_code="19", fee_vnd=None)])
    assert rows(result) == [("PHANTOM_PAYOUT", None, "TN1"), ("PHANTOM_PAYOUT", O1, "T1")]
    assert result.summary.get_column("residual_vnd").to_list() == [-2_789_000, -2_789_000]


def test_thainguyen_lines_for_a_beneficiary_with_one_order_rank_and_check_like_named_lines() -> None:
    # A beneficiary with a single candidate: the lines without order_ref are matched like a line naming it
    # (ranking by paid_on, line checks with the whole amount on that order, unpaid reasons).
    kw: dict[str, Any] = {"beneficiary_id": "19-BTXH-0000001", "allowance_code": "BTXH.NCT"}
    o = "19-202610-0000001"
    thai: dict[str, Any] = {"province_code": "19", "beneficiary_id": "19-BTXH-0000001", "fee_vnd": None}
    early = line("TN2", None, paid_on=date(2026, 10, 2), amount_paid_vnd=3_000_000, **thai)
    late = line("TN1", None, paid_on=date(2026, 10, 5), **thai)
    named = line("T1", o, paid_on=date(2026, 10, 6), **thai)
    result = run([order(o, **kw)], [late, named, early])
    assert rows(result) == [
        ("DUPLICATE_PAYOUT", o, "T1"),
        ("DUPLICATE_PAYOUT", o, "TN1"),
        ("OVERPAID", o, "TN2"),
    ]
    assert result.outcomes.row(0, named=True)["payout_id"] == "TN2"
    assert result.outcomes.row(0, named=True)["paid_vnd"] == 3_000_000
    unpaid = line("TN3", None, status="UNPAID_ABSENT", amount_paid_vnd=0, paid_on=None, **thai)
    result = run([order(o, **kw)], [unpaid])
    assert rows(result) == [("UNPAID", o, None)]
    assert state(result, o) == "OPEN"


def test_inputs_in_many_chunks_give_the_same_result() -> None:
    # File readers leave frames in many chunks; the core's result must not depend on the layout.
    orders = [order(f"79-202610-{i:07d}", beneficiary_id=f"79-NCC-{i:07d}") for i in range(1, 9)]
    lines = [
        line(f"T{i}", f"79-202610-{i:07d}", beneficiary_id=f"79-NCC-{i:07d}", amount_paid_vnd=2_789_000 + i)
        for i in range(1, 8)
    ] + [line("TN1", None, province_code="19", beneficiary_id="79-NCC-0000008", fee_vnd=None)]
    base = run(orders, lines)

    def chunked(frame: pl.DataFrame) -> pl.DataFrame:
        return pl.concat([frame.slice(i, 2) for i in range(0, frame.height, 2)], rechunk=False)

    inp = ReconcileInput(
        period=P,
        orders=chunked(pl.DataFrame(orders, schema=ORDER_SCHEMA)),
        prior_orders=pl.DataFrame([], schema=PRIOR_ORDER_SCHEMA),
        events=pl.DataFrame([], schema=EVENT_SCHEMA),
        payouts=chunked(pl.DataFrame(lines, schema=PAYOUT_SCHEMA)),
        control_totals=pl.DataFrame([], schema=CONTROL_TOTAL_SCHEMA),
        profiles=pilot_provinces(),
    )
    assert inp.orders.n_chunks() > 1 and inp.payouts.n_chunks() > 1
    result = reconcile(inp)
    assert result.exceptions.equals(base.exceptions)
    assert result.outcomes.equals(base.outcomes)
    assert result.summary.equals(base.summary)
    assert sorted(c for c, _, _ in rows(result)) == ["OVERPAID"] * 7
