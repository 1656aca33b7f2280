"""Runs: idempotence, stored results, prior-order state for the next period, exception lifecycle."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_ledger_factories import (
    exception,
    loaded,
    loaded_payouts,
    order_id,
    orders,
    outcome,
    payouts,
    result,
)

from disburse.errors import LedgerError
from disburse.ledger import Ledger

SEP, OCT, NOV = "2026-09", "2026-10", "2026-11"


def _import_month(ledger: Ledger, period: str, n: int = 3, paid: int = 1) -> list[dict[str, object]]:
    frame = orders(period, "79", n)
    ledger.import_batch(
        "orders", loaded(frame, f"orders-{period}.csv"), province_code="79", period=period, user="t"
    )
    lines = [(order_id("79", period, i), 2_789_000 + i) for i in range(1, paid + 1)]
    ledger.import_batch(
        "payouts",
        loaded_payouts(payouts(period, "79", lines), f"hcm-{period}.csv"),
        province_code="79",
        period=period,
        user="t",
    )
    return frame.to_dicts()


def test_run_is_stored_and_read_back(ledger: Ledger) -> None:
    rows = _import_month(ledger, OCT)
    _, ids = ledger.reconcile_input(OCT, {})
    res = result(
        OCT,
        [
            outcome(rows[0], "PAID", rows[0]["amount_vnd"], "GD000001"),  # type: ignore[arg-type]
            outcome(rows[1], "OPEN", unpaid_own=True),
            outcome(rows[2], "OPEN", unpaid_own=True),
        ],
        [
            exception(
                "MISSING_RESULT",
                OCT,
                "79",
                str(rows[1]["order_id"]),
                None,
                ordered_vnd=2_789_002,
                detail="không có kết quả",
            ),
            exception("CONTROL_TOTAL_MISMATCH", OCT, "79", None, None, detail="hcm.csv: 1 ≠ 2"),
        ],
    )
    receipt = ledger.record_run(OCT, {"amount_tolerance_vnd": None}, ids, res, user="t")
    assert receipt.created
    back = ledger.run_results(receipt.run_id)
    assert_frame_equal(back.outcomes, res.outcomes)
    assert_frame_equal(back.exceptions, res.exceptions)
    assert_frame_equal(back.summary, res.summary)
    assert ledger.latest_run(OCT) == receipt.run_id
    assert ledger.latest_run(NOV) is None
    with pytest.raises(LedgerError, match="no reconciliation run 99"):
        ledger.run_results(99)


def test_same_inputs_are_one_run_and_are_not_counted_twice(ledger: Ledger) -> None:
    rows = _import_month(ledger, OCT)
    _, ids = ledger.reconcile_input(OCT, {})
    res = result(OCT, [outcome(r, "OPEN", unpaid_own=True) for r in rows])
    first = ledger.record_run(OCT, {"tolerance": 0, "b": [1, 2]}, ids, res, user="t")
    # Same parameters in another order, batch ids unsorted: the same run.
    again = ledger.record_run(OCT, {"b": [1, 2], "tolerance": 0}, list(reversed(ids)), res, user="t")
    assert first.created and not again.created and again.run_id == first.run_id
    balances = ledger.balances(OCT)
    advance = balances.filter(pl.col("account") == "advance:79")["balance_vnd"].to_list()
    assert advance == [-int(res.summary["advance_vnd"][0])]

    other = ledger.record_run(OCT, {"tolerance": 1000}, ids, res, user="t")
    assert other.created and other.run_id != first.run_id
    # The new run replaces the old one in the books: its entry reversed, balances counted once.
    balances = ledger.balances(OCT)
    advance = balances.filter(pl.col("account") == "advance:79")["balance_vnd"].to_list()
    assert advance == [-int(res.summary["advance_vnd"][0])]
    assert ledger.verify() == []


def test_unknown_batch_or_foreign_period_summary_is_refused(ledger: Ledger) -> None:
    rows = _import_month(ledger, OCT)
    res = result(OCT, [outcome(r, "OPEN") for r in rows])
    with pytest.raises(LedgerError, match="batch 42 does not exist"):
        ledger.record_run(OCT, {}, [1, 42], res, user="t")
    with pytest.raises(LedgerError, match="rows of period 2026-10"):
        ledger.record_run(NOV, {}, [1], res, user="t")


def test_prior_orders_take_their_state_from_runs_of_earlier_periods(ledger: Ledger) -> None:
    sep = _import_month(ledger, SEP, n=3, paid=1)
    _, ids = ledger.reconcile_input(SEP, {})
    # September: order 1 paid, 2 and 3 unpaid (open, carried forward).
    ledger.record_run(
        SEP,
        {},
        ids,
        result(
            SEP,
            [
                outcome(sep[0], "PAID", 2_789_001, "GD000001"),
                outcome(sep[1], "OPEN", unpaid_own=True),
                outcome(sep[2], "OPEN", unpaid_own=True),
            ],
        ),
        user="t",
    )

    oct_ = _import_month(ledger, OCT, n=2, paid=2)
    inp, ids = ledger.reconcile_input(OCT, {})
    prior = {r["order_id"]: (r["state"], r["unpaid_in_own_period"]) for r in inp.prior_orders.to_dicts()}
    # September's order 1 is settled (paid, named by no October line, not unpaid in its month): left out.
    assert prior == {
        sep[1]["order_id"]: ("OPEN", True),
        sep[2]["order_id"]: ("OPEN", True),
    }
    # October pays September's order 2 late, supersedes order 3; October's own orders paid.
    ledger.record_run(
        OCT,
        {},
        ids,
        result(
            OCT,
            [
                outcome(sep[1], "PAID", 2_789_002, "GD000009", unpaid_own=True),
                outcome(sep[2], "SUPERSEDED", unpaid_own=True),
                outcome(oct_[0], "PAID", 2_789_001, "GD000001"),
                outcome(oct_[1], "OPEN", unpaid_own=True),
            ],
        ),
        user="t",
    )

    # Re-reading October ignores October's own run: the same input as before it.
    again, _ = ledger.reconcile_input(OCT, {})
    assert_frame_equal(again.prior_orders, inp.prior_orders)

    nov, _ = ledger.reconcile_input(NOV, {})
    states = {r["order_id"]: (r["state"], r["unpaid_in_own_period"]) for r in nov.prior_orders.to_dicts()}
    # Settled orders unpaid in their own month (September, two months back) stay for UNCOLLECTED_3_MONTHS;
    # September's and October's first orders, paid in their month, are left out.
    assert states == {
        sep[1]["order_id"]: ("PAID", True),  # state from October's run, unpaid flag from September's
        sep[2]["order_id"]: ("SUPERSEDED", True),
        oct_[1]["order_id"]: ("OPEN", True),
    }
    assert nov.prior_orders.columns[-2:] == ["state", "unpaid_in_own_period"]


def test_a_settled_prior_order_is_read_again_when_a_line_of_the_period_names_it(ledger: Ledger) -> None:
    sep = _import_month(ledger, SEP, n=2, paid=2)
    _, ids = ledger.reconcile_input(SEP, {})
    paid = [outcome(r, "PAID", 2_789_001 + i, f"GD00000{i + 1}") for i, r in enumerate(sep)]
    ledger.record_run(SEP, {}, ids, result(SEP, paid), user="t")
    ledger.import_batch(
        "orders", loaded(orders(OCT, "79", 1), "o-oct.csv"), province_code="79", period=OCT, user="t"
    )
    # October's file pays September's second order again.
    again = payouts(OCT, "79", [(order_id("79", SEP, 2), 2_789_002)])
    ledger.import_batch(
        "payouts", loaded_payouts(again, "p-oct.csv"), province_code="79", period=OCT, user="t"
    )
    inp, _ = ledger.reconcile_input(OCT, {})
    assert inp.prior_orders.select("order_id", "state").rows() == [(sep[1]["order_id"], "PAID")]


def test_a_replaced_run_of_an_earlier_period_no_longer_decides(ledger: Ledger) -> None:
    sep = _import_month(ledger, SEP, n=1, paid=1)
    _, ids = ledger.reconcile_input(SEP, {})
    ledger.record_run(
        SEP, {"v": 1}, ids, result(SEP, [outcome(sep[0], "PAID", 2_789_001, "GD000001")]), user="t"
    )
    ledger.record_run(SEP, {"v": 2}, ids, result(SEP, [outcome(sep[0], "OPEN", unpaid_own=True)]), user="t")
    inp, _ = ledger.reconcile_input(OCT, {})
    assert inp.prior_orders.select("state", "unpaid_in_own_period").rows() == [("OPEN", True)]


def test_never_reconciled_prior_orders_are_open(ledger: Ledger) -> None:
    _import_month(ledger, SEP, n=2)
    inp, _ = ledger.reconcile_input(OCT, {})
    assert inp.prior_orders.select("state", "unpaid_in_own_period").rows() == [("OPEN", False)] * 2


def test_exceptions_keep_their_identity_across_runs_and_have_a_lifecycle(ledger: Ledger) -> None:
    rows = _import_month(ledger, OCT)
    _, ids = ledger.reconcile_input(OCT, {})
    missing = exception("MISSING_RESULT", OCT, "79", str(rows[1]["order_id"]), None)
    late = exception("PAID_LATE", OCT, "79", str(rows[0]["order_id"]), "GD000001")
    outs = [outcome(r, "OPEN") for r in rows]
    first = ledger.record_run(OCT, {"v": 1}, ids, result(OCT, outs, [missing, late]), user="t")
    cases = ledger.exceptions(period=OCT)
    assert cases.height == 2 and set(cases["status"]) == {"new"}
    first_seen = dict(zip(cases["exception_key"], cases["first_seen_at"], strict=True))

    key = cases.filter(pl.col("code") == "MISSING_RESULT")["exception_key"][0]
    ledger.ack(key, "asked the post office", "lan")
    second = ledger.record_run(OCT, {"v": 2}, ids, result(OCT, outs, [missing]), user="t")
    assert second.run_id != first.run_id

    cases = ledger.exceptions(period=OCT)
    assert cases.height == 2
    again = dict(zip(cases["exception_key"], cases["first_seen_at"], strict=True))
    assert again == first_seen
    assert set(cases["first_run_id"]) == {first.run_id}
    by_code = {r["code"]: r for r in cases.to_dicts()}
    assert by_code["MISSING_RESULT"]["status"] == "acknowledged"
    assert by_code["MISSING_RESULT"]["changed_by"] == "lan"
    assert by_code["MISSING_RESULT"]["in_latest_run"] is True
    assert by_code["PAID_LATE"]["in_latest_run"] is False

    ledger.resolve(key, "paid on 2026-11-03, receipt seen", "lan")
    assert ledger.exceptions(status="resolved")["exception_key"].to_list() == [key]
    assert ledger.exceptions(status="new")["code"].to_list() == ["PAID_LATE"]
    assert ledger.exceptions(severity="high").height == 1
    assert ledger.exceptions(code="PAID_LATE", province="79").height == 1
    assert ledger.exceptions(province="48").height == 0
    with pytest.raises(LedgerError, match="already resolved"):
        ledger.ack(key, "again", "lan")
    with pytest.raises(LedgerError, match="no exception"):
        ledger.ack("nope", "x", "lan")
    with pytest.raises(LedgerError, match="needs a note"):
        ledger.resolve(cases["exception_key"][0], " ", "lan")
    assert ledger.verify() == []


def test_history_lists_the_latest_run_s_exceptions(ledger: Ledger) -> None:
    rows = _import_month(ledger, OCT)
    _, ids = ledger.reconcile_input(OCT, {})
    exc = exception(
        "MISSING_RESULT", OCT, "79", str(rows[1]["order_id"]), None, beneficiary_id=rows[1]["beneficiary_id"]
    )
    ledger.record_run(OCT, {}, ids, result(OCT, [outcome(r, "OPEN") for r in rows], [exc]), user="t")
    found = ledger.history(str(rows[1]["beneficiary_id"]))
    assert found["exceptions"]["code"].to_list() == ["MISSING_RESULT"]


def test_re_running_an_earlier_period_makes_the_later_run_new(ledger: Ledger) -> None:
    sep = _import_month(ledger, SEP, n=1, paid=0)
    _, sep_ids = ledger.reconcile_input(SEP, {})
    ledger.record_run(
        SEP, {"v": 1}, sep_ids, result(SEP, [outcome(sep[0], "OPEN", unpaid_own=True)]), user="t"
    )
    oct_ = _import_month(ledger, OCT, n=1, paid=0)
    _, ids = ledger.reconcile_input(OCT, {})
    outs = [outcome(sep[0], "OPEN", unpaid_own=True), outcome(oct_[0], "OPEN", unpaid_own=True)]
    first = ledger.record_run(OCT, {}, ids, result(OCT, outs), user="t")
    assert not ledger.record_run(OCT, {}, ids, result(OCT, outs), user="t").created

    # September reconciled again (other parameters): October's prior orders may have another state now,
    # so the same October batches and parameters are a new run, not the old one.
    ledger.record_run(SEP, {"v": 2}, sep_ids, result(SEP, [outcome(sep[0], "PAID", 1, "GD1")]), user="t")
    again, same_ids = ledger.reconcile_input(OCT, {})
    assert same_ids == ids
    assert again.prior_orders.height == 0  # settled by September's new run, so no longer read
    second = ledger.record_run(OCT, {}, ids, result(OCT, outs[1:]), user="t")
    assert second.created and second.run_id != first.run_id
    assert ledger.verify() == []


def test_a_key_reported_twice_by_one_run_is_one_case(ledger: Ledger) -> None:
    rows = _import_month(ledger, OCT)
    _, ids = ledger.reconcile_input(OCT, {})
    missing = [
        exception("MISSING_RESULT", OCT, "79", str(row["order_id"]), None, ordered_vnd=int(row["amount_vnd"]))  # type: ignore[call-overload]
        for row in rows[1:]
    ]
    # Repeated (the GROUP BY path) and unique keys (the plain insert) both give one case per identity.
    repeated = result(OCT, [], [*missing, missing[0]])
    ledger.record_run(OCT, {"amount_tolerance_vnd": None}, ids, repeated, user="t")
    cases = ledger.exceptions(period=OCT)
    assert sorted(cases["order_id"].to_list()) == sorted(str(r["order_id"]) for r in rows[1:])

    again = result(
        OCT, [], [*missing, exception("MISSING_RESULT", OCT, "79", str(rows[0]["order_id"]), None)]
    )
    ledger.record_run(OCT, {"amount_tolerance_vnd": 5}, ids, again, user="t")  # another run, same batches
    cases = ledger.exceptions(period=OCT)
    assert cases.height == 3
    assert cases.filter(pl.col("order_id") == str(rows[0]["order_id"]))["first_run_id"].item() > int(
        cases["first_run_id"].min()  # type: ignore[arg-type]
    )
