"""Batches: bulk round trip, idempotent import, supersede by reversal, history, listing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import text
from test_ledger_factories import events, loaded, loaded_payouts, order_id, orders, payouts

from disburse.errors import LedgerError
from disburse.ledger import Ledger
from disburse.schema import EVENT_SCHEMA, PAYOUT_SCHEMA

P = "2026-10"


def test_bulk_round_trip_returns_the_frames_unchanged(ledger: Ledger) -> None:
    order_frame = orders(P, "79", 7)
    # Awkward values: empty text vs null, quotes, commas, newlines, a literal \N, money beyond 32 bits.
    order_frame = order_frame.with_columns(
        pl.Series("full_name", ["", 'Nguyễn "Tí", Văn', "dòng\nhai", "\\N", None, "Ø", "Đặng Thị Ánh"]),
        pl.Series("amount_vnd", [1, 2**40, 3, 4, 5, 6, 7], dtype=pl.Int64),
        pl.Series("covers", [[P], ["2026-08", "2026-09", P], [P], [P], [P], [P], [P]]),
    )
    pay_frame = payouts(
        P, "79", [(order_id("79", P, i), 100 * i) for i in range(1, 6)] + [(order_id("79", P, 6), 0)]
    )
    pay_frame = pay_frame.with_columns(
        pl.when(pl.col("payout_id") == "GD000002")
        .then(None)
        .otherwise(pl.col("order_ref"))
        .alias("order_ref"),
        pl.when(pl.col("payout_id") == "GD000003").then(None).otherwise(pl.col("fee_vnd")).alias("fee_vnd"),
    )
    event_frame = events([("79-NCC-0000002", "000000000002", "DECEASED", dt.date(2026, 9, 14))])

    ledger.import_batch("orders", loaded(order_frame, "o.csv"), province_code="79", period=P, user="t")
    ledger.import_batch("payouts", loaded_payouts(pay_frame, "p.csv"), province_code="79", period=P, user="t")
    ledger.import_batch("events", loaded(event_frame, "e.csv"), province_code=None, period=None, user="t")

    inp, ids = ledger.reconcile_input(P, {})
    assert ids == [1, 2, 3]
    assert_frame_equal(inp.orders, order_frame)
    assert_frame_equal(inp.payouts, pay_frame)
    assert_frame_equal(inp.events, event_frame)
    assert inp.prior_orders.height == 0
    assert inp.orders.schema == order_frame.schema
    assert ledger.verify() == []


def test_empty_frames_round_trip(ledger: Ledger) -> None:
    ledger.import_batch(
        "events", loaded(pl.DataFrame(schema=EVENT_SCHEMA)), province_code=None, period=None, user="t"
    )
    inp, ids = ledger.reconcile_input(P, {})
    assert ids == [1]
    assert inp.events.height == 0 and inp.events.schema == pl.Schema(EVENT_SCHEMA)
    assert inp.payouts.height == 0 and inp.payouts.schema == pl.Schema(PAYOUT_SCHEMA)


def test_same_file_twice_is_one_batch(ledger: Ledger) -> None:
    file = loaded(orders(P), "orders.csv")
    first = ledger.import_batch("orders", file, province_code="79", period=P, user="alice")
    again = ledger.import_batch("orders", file, province_code="79", period=P, user="bob")
    assert first.created and first.batch_id == 1 and first.line_count == 3 and first.existing_reason is None
    assert not again.created and again.batch_id == first.batch_id and again.line_count == 3
    assert again.existing_reason is not None and "batch 1" in again.existing_reason
    assert ledger.batches().height == 1
    inp, _ = ledger.reconcile_input(P, {})
    assert inp.orders.height == 3


def test_supersede_reverses_the_old_batch_and_keeps_its_rows(ledger: Ledger) -> None:
    old = ledger.import_batch(
        "orders", loaded(orders(P, n=3), "v1.csv"), province_code="79", period=P, user="t"
    )
    fixed = orders(P, n=4)
    new = ledger.import_batch(
        "orders", loaded(fixed, "v2.csv"), province_code="79", period=P, user="t", supersedes=old.batch_id
    )
    assert new.created
    inp, ids = ledger.reconcile_input(P, {})
    assert ids == [new.batch_id]
    assert inp.orders.equals(fixed)
    listing = ledger.batches(P)
    assert listing.select("batch_id", "status", "replaced_by_id", "supersedes_id").rows() == [
        (1, "reversed", 2, None),
        (2, "active", None, 1),
    ]
    # Append-only: the reversed batch's lines are still stored, and verify still checks them.
    with ledger.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT SUM(row_count) FROM line_segment WHERE kind = 'orders' AND owner_id = 1")
            ).scalar_one()
            == 3
        )
    assert ledger.verify() == []

    with pytest.raises(LedgerError, match="already reversed"):
        ledger.import_batch(
            "orders",
            loaded(orders(P, n=5), "v3.csv"),
            province_code="79",
            period=P,
            user="t",
            supersedes=old.batch_id,
        )
    with pytest.raises(LedgerError, match="no batch 99"):
        ledger.import_batch(
            "orders", loaded(orders(P, n=5), "v3.csv"), province_code="79", period=P, user="t", supersedes=99
        )
    with pytest.raises(LedgerError, match="holds orders, not payouts"):
        ledger.import_batch(
            "payouts",
            loaded_payouts(payouts(P, "79", [])),
            province_code="79",
            period=P,
            user="t",
            supersedes=new.batch_id,
        )


def test_a_reversed_file_can_be_imported_again(ledger: Ledger) -> None:
    file = loaded(orders(P), "orders.csv")
    first = ledger.import_batch("orders", file, province_code="79", period=P, user="t")
    ledger.reverse_batch(first.batch_id, reason="wrong month sent", user="t")
    assert ledger.reconcile_input(P, {})[1] == []
    again = ledger.import_batch("orders", file, province_code="79", period=P, user="t")
    assert again.created and again.batch_id != first.batch_id
    assert ledger.reconcile_input(P, {})[1] == [again.batch_id]


def test_rejects_refuse_the_whole_file(ledger: Ledger) -> None:
    file = loaded(orders(P))
    bad = type(file)(
        file.source,
        file.file_digest,
        file.frame,
        pl.DataFrame(
            {"file": ["f"], "row": [2], "column": ["amount_vnd"], "value": ["x"], "reason": ["not a number"]}
        ),
    )
    with pytest.raises(LedgerError, match="1 unreadable rows"):
        ledger.import_batch("orders", bad, province_code="79", period=P, user="t")
    assert ledger.batches().height == 0


def test_control_totals_are_stored_with_the_payout_batch(ledger: Ledger) -> None:
    frame = payouts(P, "79", [(order_id("79", P, 1), 2_789_001), (order_id("79", P, 2), 2_789_002)])
    ledger.import_batch(
        "payouts",
        loaded_payouts(frame, "hcm.csv", footer=(9_999, 13_200)),
        province_code="79",
        period=P,
        user="t",
    )
    inp, _ = ledger.reconcile_input(P, {})
    assert inp.control_totals.rows() == [("79", P, "hcm.csv", 9_999, 13_200, 5_578_003, 13_200)]
    assert ledger.reconcile_input("2026-11", {})[0].control_totals.height == 0


def test_only_the_period_s_payouts_and_orders_are_read(ledger: Ledger) -> None:
    for period in ("2026-09", P, "2026-11"):
        ledger.import_batch(
            "orders", loaded(orders(period), f"o{period}.csv"), province_code="79", period=period, user="t"
        )
        ledger.import_batch(
            "payouts",
            loaded_payouts(payouts(period, "79", [(order_id("79", period, 1), 1)]), f"p{period}.csv"),
            province_code="79",
            period=period,
            user="t",
        )
    inp, ids = ledger.reconcile_input(P, {})
    assert set(inp.orders["period"]) == {P}
    assert set(inp.prior_orders["period"]) == {"2026-09"}
    assert set(inp.payouts["period"]) == {P}
    assert ids == [1, 3, 4]


def test_history_of_a_beneficiary_across_months(ledger: Ledger) -> None:
    for period in ("2026-09", P):
        ledger.import_batch(
            "orders", loaded(orders(period), f"o{period}.csv"), province_code="79", period=period, user="t"
        )
        ledger.import_batch(
            "payouts",
            loaded_payouts(payouts(period, "79", [(order_id("79", period, 2), 5)]), f"p{period}.csv"),
            province_code="79",
            period=period,
            user="t",
        )
    found = ledger.history("79-NCC-0000002")
    assert found["orders"]["order_id"].to_list() == [order_id("79", "2026-09", 2), order_id("79", P, 2)]
    assert found["payouts"]["period"].to_list() == ["2026-09", P]
    assert found["exceptions"].height == 0
    assert ledger.history("nobody")["orders"].height == 0


def test_a_batch_with_a_line_missing_a_required_field_leaves_nothing_behind(ledger: Ledger) -> None:
    good = orders(P, n=3)
    bad = good.with_columns(
        pl.when(pl.col("order_id").str.ends_with("3"))
        .then(None)
        .otherwise(pl.col("order_id"))
        .alias("order_id")
    )
    with pytest.raises(LedgerError, match=r"orders lines without a order_id; nothing was recorded"):
        ledger.import_batch("orders", loaded(bad, "bad.csv"), province_code="79", period=P, user="t")
    assert ledger.batches().height == 0
    with ledger.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM line_segment")).scalar_one() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM audit_log")).scalar_one() == 0
    assert ledger.import_batch("orders", loaded(good), province_code="79", period=P, user="t").created


def test_a_ledger_without_tables_says_to_run_init(database_url: str) -> None:
    fresh = Ledger.connect(database_url)
    with pytest.raises(LedgerError, match="disburse init"):
        fresh.batches()
    with pytest.raises(LedgerError, match="disburse init"):
        fresh.import_batch("orders", loaded(orders(P)), province_code="79", period=P, user="t")
    fresh.close()


def test_text_limits_count_characters_not_bytes(ledger: Ledger) -> None:
    from disburse.errors import InputError

    # 64 characters of 2-3 bytes each: over the limit in bytes, within it in characters.
    accented = "Đ" + "ễ" * 63
    good = orders(P, n=2).with_columns(pl.lit(accented).alias("beneficiary_id"))
    assert ledger.import_batch(
        "orders", loaded(good, "good.csv"), province_code="79", period=P, user="t"
    ).created
    bad = orders(P, n=3).with_columns(
        pl.when(pl.col("order_id").str.ends_with("2"))
        .then(pl.lit(accented + "x"))
        .otherwise(pl.col("beneficiary_id"))
        .alias("beneficiary_id")
    )
    with pytest.raises(InputError, match=r"bad.csv: data line 2 has a beneficiary_id of 65 characters"):
        ledger.import_batch("orders", loaded(bad, "bad.csv"), province_code="79", period=P, user="t")
