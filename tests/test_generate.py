"""The fixture generator: deterministic, realistic, canonical."""

from __future__ import annotations

import unicodedata
from functools import cache

import numpy as np
import polars as pl

from disburse.fixtures.generate import InjectionRates, generate, ward_codes
from disburse.fixtures.model import GeneratedMonth
from disburse.profile import pilot_provinces
from disburse.schema import EVENT_SCHEMA, EXPECTED_SCHEMA, ORDER_SCHEMA, PAYOUT_SCHEMA, Code


@cache
def sample(seed: int = 7, rows: int = 800, months: int = 3) -> list[GeneratedMonth]:
    return generate("2026-10", months, rows, seed)


def test_same_seed_same_months_other_seed_other_months() -> None:
    a, b = generate("2026-10", 2, 600, 11), generate("2026-10", 2, 600, 11)
    for x, y in zip(a, b, strict=True):
        assert x.orders.equals(y.orders) and x.events.equals(y.events) and x.expected.equals(y.expected)
        assert x.footers == y.footers
        assert all(x.payouts[p].equals(y.payouts[p]) for p in x.payouts)
    assert not generate("2026-10", 1, 600, 12)[0].orders.equals(a[0].orders)


def test_frames_conform_to_the_canonical_schemas() -> None:
    for m in sample():
        assert m.orders.schema == pl.Schema(ORDER_SCHEMA)
        assert m.events.schema == pl.Schema(EVENT_SCHEMA)
        assert m.expected.schema == pl.Schema(EXPECTED_SCHEMA)
        assert sorted(m.payouts) == sorted(pilot_provinces())
        for code, frame in m.payouts.items():
            assert frame.schema == pl.Schema(PAYOUT_SCHEMA)
            assert frame.get_column("province_code").unique().to_list() in ([code], [])
            assert frame.get_column("payout_id").is_unique().all()


def test_orders_look_like_a_department_list() -> None:
    m = sample()[0]
    o = m.orders
    assert o.get_column("order_id").is_unique().all()
    assert o.get_column("order_id").str.contains(r"^\d{2}-202610-\d{7}$").all()
    assert o.get_column("beneficiary_id").str.contains(r"^\d{2}-(NCC|BTXH)-\d{7}$").all()
    assert set(o.get_column("province_code")) == set(pilot_provinces())
    assert o.get_column("national_id").str.contains(r"^(\d{12}|\d{9})$").all()
    zero_led = o.get_column("national_id").str.starts_with("0").sum()
    assert zero_led > 0.9 * o.height  # lost-zero cases get exercised
    assert set(o.get_column("allowance_code").str.split(".").list.first()) == {"NCC", "BTXH"}
    assert (o.get_column("amount_vnd") > 0).all()
    assert (
        2_789_000 in o.get_column("amount_vnd").to_list() and 500_000 in o.get_column("amount_vnd").to_list()
    )
    assert o.filter(pl.col("beneficiary_id").is_duplicated()).height > 0  # some hold two allowances
    assert o.get_column("proxy_national_id").is_not_null().sum() > 0
    names = " ".join(o.get_column("full_name").to_list())
    assert "đ" in names.lower() and any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", names))
    for code in pilot_provinces():
        wards = set(ward_codes(code))
        assert set(o.filter(pl.col("province_code") == code).get_column("ward_code")) <= wards


def test_beneficiary_ids_are_stable_across_months() -> None:
    months = sample()
    first = set(
        months[0].orders.filter(~pl.col("beneficiary_id").str.contains(r"-[89]\d{6}$"))["beneficiary_id"]
    )
    later = set(months[1].orders["beneficiary_id"])
    assert len(first & later) > 0.9 * len(first)


def test_thainguyen_lines_have_no_order_ref_and_no_fee_and_sum_a_beneficiary() -> None:
    lines = sample()[0].payouts["19"]
    assert lines.get_column("order_ref").is_null().all()
    assert lines.get_column("fee_vnd").is_null().all()
    others = pl.concat([f for p, f in sample()[0].payouts.items() if p != "19"])
    assert others.get_column("order_ref").is_not_null().all()


def test_footers_equal_the_lines_unless_a_mismatch_was_injected() -> None:
    for m in sample():
        bad = m.expected.filter(pl.col("code") == Code.CONTROL_TOTAL_MISMATCH).height
        wrong = 0
        for code, (paid, fee) in m.footers.items():
            lines = m.payouts[code]
            lines_paid = lines.filter(pl.col("status").str.starts_with("PAID"))["amount_paid_vnd"].sum()
            wrong += (paid, fee) != (lines_paid, lines["fee_vnd"].fill_null(0).sum())
        assert wrong == bad
        assert sorted(m.footers) == sorted(c for c, p in pilot_provinces().items() if p.control_footer)


def test_every_code_is_injected_on_small_fixtures() -> None:
    seen = set(pl.concat([m.expected for m in sample()]).get_column("code"))
    assert seen == {str(c) for c in Code}


def test_clean_rates_inject_nothing() -> None:
    for m in generate("2026-10", 3, 600, 3, InjectionRates.none()):
        assert m.expected.is_empty()


def test_only_selected_codes() -> None:
    months = generate("2026-10", 2, 600, 3, InjectionRates.only(Code.OVERPAID))
    assert set(pl.concat([m.expected for m in months])["code"]) == {"OVERPAID"}


def test_large_months_are_built_in_columns() -> None:
    (m,) = generate("2026-10", 1, 50_000, 5)
    assert 45_000 < m.orders.height < 55_000
    assert sum(f.height for f in m.payouts.values()) > 40_000


def test_national_ids_are_unique_and_a_cmnd_keeps_8_digits_without_its_leading_zero() -> None:
    """A spreadsheet drops leading zeros; a real CMND starts with its province (01-38), so at most one is lost
    and the loader can pad it back (two lost zeros made whole payout files unreadable from 1M rows on)."""
    from disburse.fixtures.generate import _Ids

    ids = _Ids(np.random.default_rng(7)).take(300_000, cmnd_share=0.5)
    assert ids.n_unique() == ids.len()
    cmnd = ids.filter(ids.str.len_chars() == 9)
    assert cmnd.len() > 100_000
    assert not cmnd.str.starts_with("00").any()
    assert cmnd.str.strip_chars_start("0").str.len_chars().min() == 8
