"""Journal balance and cash close, period close/reopen, audit chain and tamper detection by verify()."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest
from sqlalchemy import text
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
from disburse.ledger import Ledger, journal, segments
from disburse.ledger.engine import write_transaction

SEP, OCT = "2026-09", "2026-10"


def _month(
    ledger: Ledger, period: str = OCT, province: str = "79"
) -> tuple[list[dict[str, object]], list[int]]:
    frame = orders(period, province, 3)
    ledger.import_batch(
        "orders", loaded(frame, f"o-{province}-{period}.csv"), province_code=province, period=period, user="t"
    )
    lines = [(order_id(province, period, 1), 2_789_001), (order_id(province, period, 2), 0)]
    ledger.import_batch(
        "payouts",
        loaded_payouts(payouts(period, province, lines), f"p-{province}-{period}.csv"),
        province_code=province,
        period=period,
        user="t",
    )
    _, ids = ledger.reconcile_input(period, {})
    return frame.to_dicts(), ids


def _record(
    ledger: Ledger,
    rows: list[dict[str, object]],
    ids: list[int],
    period: str = OCT,
    params: dict[str, object] | None = None,
    paid_out: dict[str, int] | None = None,
) -> int:
    outs = [outcome(rows[0], "PAID", 2_789_001, "GD000001")] + [
        outcome(r, "OPEN", unpaid_own=True) for r in rows[1:]
    ]
    return ledger.record_run(
        period, params or {}, ids, result(period, outs, paid_out=paid_out), user="t"
    ).run_id


def _sql(ledger: Ledger, statement: str) -> None:
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql(statement)


# --- journal ------------------------------------------------------------------------------------------------


def test_every_entry_balances_and_the_cash_close_equals_the_residual(ledger: Ledger) -> None:
    rows, ids = _month(ledger)
    # A duplicate payment of 500,000 beyond the matched amount: the residual goes negative by that much.
    run_id = _record(ledger, rows, ids, paid_out={"79": 2_789_001 + 500_000})
    summary = ledger.run_results(run_id).summary.to_dicts()[0]
    balances = ledger.balances(OCT, "79")
    assert balances["balance_vnd"].sum() == 0
    by_account = dict(zip(balances["account"], balances["balance_vnd"], strict=True))
    assert by_account["cash_at_post_office:79"] == summary["residual_vnd"]
    assert by_account["advance:79"] == -summary["advance_vnd"]
    assert by_account["beneficiaries_paid:79"] == summary["paid_out_vnd"]
    assert by_account["carried_forward:79"] == summary["carried_out_vnd"]
    assert by_account["post_office_fees:79"] == -by_account["fees_payable:79"] == summary["fee_vnd"]
    assert summary["residual_vnd"] == (
        summary["advance_vnd"]
        + summary["carried_in_vnd"]
        - summary["paid_out_vnd"]
        - summary["returned_vnd"]
        - summary["carried_out_vnd"]
    )
    assert ledger.verify() == []


def test_carried_forward_nets_out_across_periods(ledger: Ledger) -> None:
    sep, ids = _month(ledger, SEP)
    _record(ledger, sep, ids, SEP)
    oct_, ids = _month(ledger, OCT)
    outs = [
        outcome(sep[1], "PAID", int(sep[1]["amount_vnd"]), "GD000002", unpaid_own=True),  # type: ignore[call-overload]
        outcome(sep[2], "OPEN", unpaid_own=True),
    ] + [outcome(r, "OPEN", unpaid_own=True) for r in oct_]
    ledger.record_run(OCT, {}, ids, result(OCT, outs), user="t")
    total = ledger.balances(province_code="79").group_by("account").agg(pl.col("balance_vnd").sum())
    carried = total.filter(pl.col("account") == "carried_forward:79")["balance_vnd"][0]
    # Out of September: orders 2 and 3; into October: the same two; out of October: 3 + October's three.
    assert carried == sum(int(r["amount_vnd"]) for r in [sep[2], *oct_])  # type: ignore[call-overload]
    assert ledger.verify() == []


def test_an_unbalanced_entry_is_refused_before_it_is_written(ledger: Ledger) -> None:
    with write_transaction(ledger.engine) as conn, pytest.raises(LedgerError, match="does not balance"):
        journal._insert_entry(
            conn,
            kind="run",
            run_id=None,
            reverses_id=None,
            province_code="79",
            period=OCT,
            memo="bad",
            user="t",
            postings=[
                journal.Posting("advance:79", "advance", -5),
                journal.Posting("cash_at_post_office:79", "advance", 4),
            ],
        )
    assert ledger.balances().height == 0


@pytest.mark.tampers_ledger
def test_verify_finds_a_posting_changed_behind_the_ledger_s_back(ledger: Ledger) -> None:
    rows, ids = _month(ledger)
    _record(ledger, rows, ids)
    _sql(ledger, "UPDATE journal_posting SET amount_vnd = amount_vnd + 1 WHERE account = 'advance:79'")
    problems = ledger.verify()
    assert any("does not balance" in p for p in problems), problems
    assert any("cash close" in p for p in problems) or len(problems) >= 1


@pytest.mark.tampers_ledger
def test_verify_finds_a_summary_whose_residual_is_not_the_cash_close(ledger: Ledger) -> None:
    rows, ids = _month(ledger)
    run_id = _record(ledger, rows, ids)
    _sql(ledger, f"UPDATE run_summary SET residual_vnd = residual_vnd + 7 WHERE run_id = {run_id}")
    assert any("cash close" in p and "residual" in p for p in ledger.verify())


# --- periods ------------------------------------------------------------------------------------------------


def test_closed_period_refuses_imports_and_runs_until_reopened(ledger: Ledger) -> None:
    rows, ids = _month(ledger)
    ledger.close_period(OCT, "79", user="chief")
    ledger.close_period(OCT, "79", user="chief")  # closing again changes nothing
    assert ledger.closed_provinces(OCT) == {"79"}

    late = loaded_payouts(
        payouts(OCT, "79", [(order_id("79", OCT, 3), 2_789_003)], prefix="LATE"), "late.csv"
    )
    with pytest.raises(LedgerError, match=r"period 2026-10 is closed for province 79.*reopen") as refused:
        ledger.import_batch("payouts", late, province_code="79", period=OCT, user="t")
    assert "late.csv" in str(refused.value)
    with pytest.raises(LedgerError, match="period 2026-10 is closed for province 79"):
        _record(ledger, rows, ids)
    with pytest.raises(LedgerError, match="closed for province 79"):
        ledger.import_batch(
            "orders", loaded(orders(OCT, "79", 5), "more.csv"), province_code=None, period=OCT, user="t"
        )
    with pytest.raises(LedgerError, match="closed for province 79"):
        ledger.reverse_batch(ids[0], reason="oops", user="t")
    # Another province's period stays open; a file spanning provinces is refused as a whole.
    ledger.import_batch(
        "orders", loaded(orders(OCT, "48", 2), "dn.csv"), province_code="48", period=OCT, user="t"
    )
    both = pl.concat([orders(OCT, "48", 1, start=10), orders(OCT, "79", 1, start=10)])
    with pytest.raises(LedgerError, match="closed for province 79"):
        ledger.import_batch("orders", loaded(both, "both.csv"), province_code=None, period=OCT, user="t")

    with pytest.raises(LedgerError, match="needs a reason"):
        ledger.reopen_period(OCT, "79", reason=" ", user="chief")
    ledger.reopen_period(OCT, "79", reason="late file from Quận 7", user="chief")
    assert ledger.closed_provinces(OCT) == set()
    assert ledger.import_batch("payouts", late, province_code="79", period=OCT, user="t").created
    with pytest.raises(LedgerError, match="is not closed"):
        ledger.reopen_period(OCT, "79", reason="again", user="chief")
    # An identical run already recorded is no new run: allowed even once closed again.
    run_id = _record(ledger, rows, ids)
    ledger.close_period(OCT, "79", user="chief")
    assert _record(ledger, rows, ids) == run_id
    assert ledger.verify() == []


# --- audit chain and digests --------------------------------------------------------------------------------


def test_every_write_is_in_the_audit_chain(ledger: Ledger) -> None:
    rows, ids = _month(ledger)
    _record(ledger, rows, ids)
    ledger.close_period(OCT, "79", user="chief")
    with ledger.engine.connect() as conn:
        actions = conn.execute(text("SELECT action FROM audit_log ORDER BY seq")).scalars().all()
    assert actions == ["import_batch", "import_batch", "record_run", "close_period"]


@pytest.mark.tampers_ledger
@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
        "UPDATE audit_log SET detail_json = REPLACE(detail_json, '\"line_count\":3', '\"line_count\":4') "
        "WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 2",
    ],
)
def test_verify_finds_a_rewritten_or_removed_audit_row(ledger: Ledger, tamper: str) -> None:
    rows, ids = _month(ledger)
    _record(ledger, rows, ids)
    assert ledger.verify() == []
    _sql(ledger, tamper)
    problems = ledger.verify()
    assert any(p.startswith("audit log: entry") for p in problems), problems


def _rewrite_segment(
    ledger: Ledger, kind: str, owner_id: int, edit: Callable[[pl.DataFrame], pl.DataFrame]
) -> None:
    """A careful forger: decode the first segment, edit its lines, store them re-encoded with their own
    sha256 beside them and the line count to match, so only the digests can tell."""
    where = "kind = :kind AND owner_id = :owner AND seq = 0"
    with ledger.engine.begin() as conn:
        payload = conn.execute(
            text(f"SELECT payload FROM line_segment WHERE {where}"), {"kind": kind, "owner": owner_id}
        ).scalar_one()
        (segment,) = segments.encode(kind, edit(segments.decode(kind, bytes(payload))))
        conn.execute(
            text(f"UPDATE line_segment SET payload = :p, sha256 = :s, row_count = :n WHERE {where}"),
            {
                "p": segment.payload,
                "s": segment.sha256,
                "n": segment.row_count,
                "kind": kind,
                "owner": owner_id,
            },
        )


@pytest.mark.tampers_ledger
def test_verify_finds_a_changed_stored_line(ledger: Ledger) -> None:
    _month(ledger)
    _rewrite_segment(
        ledger,
        "payouts",
        2,
        lambda f: f.with_columns(
            pl.when(pl.int_range(pl.len()) == 0)
            .then(9_999_999)
            .otherwise(pl.col("amount_paid_vnd"))
            .alias("amount_paid_vnd")
        ),
    )
    assert ledger.verify() == ["batch 2: its stored lines no longer match the digest taken at import"]


@pytest.mark.tampers_ledger
def test_verify_finds_stored_bytes_that_were_changed(ledger: Ledger) -> None:
    _month(ledger)
    with ledger.engine.begin() as conn:
        conn.execute(
            text("UPDATE line_segment SET payload = :p WHERE kind = 'orders' AND owner_id = 1"),
            {"p": b"\x00"},
        )
    assert ledger.verify() == [
        "batch 1: orders segment 0 is not the bytes that were stored",
        "batch 1: orders segment 0 cannot be read",
        "batch 1: 0 lines stored but 3 were imported",
        "batch 1: its stored lines no longer match the digest taken at import",
    ]


@pytest.mark.tampers_ledger
def test_verify_finds_lines_and_digest_rewritten_together(ledger: Ledger) -> None:
    _month(ledger)
    _rewrite_segment(ledger, "orders", 1, lambda f: f.head(2))
    _sql(ledger, "UPDATE batch SET line_count = 2, content_digest = 'x' WHERE id = 1")
    problems = ledger.verify()
    assert "batch 1: its recorded digests differ from the audit log's" in problems
    assert "batch 1: its stored lines no longer match the digest taken at import" in problems


@pytest.mark.tampers_ledger
def test_verify_finds_changed_run_outcomes(ledger: Ledger) -> None:
    rows, ids = _month(ledger)
    run_id = _record(ledger, rows, ids)
    _rewrite_segment(ledger, "outcomes", run_id, lambda f: f.with_columns(pl.lit("PAID").alias("state")))
    assert ledger.verify() == [
        f"run {run_id}: its stored outcomes no longer match the digest taken when recorded"
    ]


@pytest.mark.tampers_ledger
@pytest.mark.parametrize(
    ("tamper", "found"),
    [
        ("DELETE FROM run_exception", "0 exceptions stored but 1 were recorded"),
        ("UPDATE run SET params_json = '{}'", "parameters or batches were changed"),
        (
            "UPDATE line_segment SET owner_id = 77 WHERE kind = 'outcomes'",
            "line_segment: outcomes of run 77, which does not exist",
        ),
        ("UPDATE run_exception SET run_id = 78", "run_exception: rows of run 78, which does not exist"),
    ],
)
def test_verify_finds_run_results_changed_after_the_run(ledger: Ledger, tamper: str, found: str) -> None:
    rows, ids = _month(ledger)
    outs = [outcome(r, "OPEN", unpaid_own=True) for r in rows]
    exc = exception("MISSING_RESULT", OCT, "79", str(rows[2]["order_id"]), None)
    ledger.record_run(OCT, {"v": 1}, ids, result(OCT, outs, [exc]), user="t")
    assert ledger.verify() == []
    _sql(ledger, tamper)
    assert any(found in p for p in ledger.verify()), ledger.verify()
