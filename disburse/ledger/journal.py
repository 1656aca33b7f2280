"""Double-entry journal of a run's money, per province and period.

Accounts (suffix ``:<province_code>``):

- ``advance``                 the department's advance for the period's orders (credit)
- ``cash_at_post_office``     cash the post office holds for the period
- ``carried_forward``         open orders moved between periods (credited when carried in, debited when out)
- ``beneficiaries_paid``      what the paid lines paid out (phantom and duplicate payments included)
- ``returned_to_department``  open orders superseded by arrears orders
- ``post_office_fees`` / ``fees_payable``  the service fee, owed by the department (never from the cash)

One entry per (run, province) with these postings (debit positive, credit negative):

    advance      Dr cash_at_post_office   Cr advance
    carried_in   Dr cash_at_post_office   Cr carried_forward
    paid_out     Dr beneficiaries_paid    Cr cash_at_post_office
    returned     Dr returned_to_department Cr cash_at_post_office
    carried_out  Dr carried_forward       Cr cash_at_post_office
    fee          Dr post_office_fees      Cr fees_payable

so the entry's ``cash_at_post_office`` postings sum to advance + carried_in - paid_out - returned -
carried_out, the post office's cash close, which must equal the summary's residual. A newer run of the
same period first reverses the older run's entries (negated postings): balances reflect the latest run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, insert, select

from disburse.errors import LedgerError
from disburse.ledger.audit import now_utc
from disburse.ledger.models import JournalEntry, JournalPosting

CASH = "cash_at_post_office"

# flow -> (summary column, debit account, credit account)
FLOWS: Mapping[str, tuple[str, str, str]] = {
    "advance": ("advance_vnd", CASH, "advance"),
    "carried_in": ("carried_in_vnd", CASH, "carried_forward"),
    "paid_out": ("paid_out_vnd", "beneficiaries_paid", CASH),
    "returned": ("returned_vnd", "returned_to_department", CASH),
    "carried_out": ("carried_out_vnd", "carried_forward", CASH),
    "fee": ("fee_vnd", "post_office_fees", "fees_payable"),
}


@dataclass(frozen=True)
class Posting:
    account: str
    flow: str
    amount_vnd: int


def run_postings(summary_row: Mapping[str, Any]) -> list[Posting]:
    province = str(summary_row["province_code"])
    postings: list[Posting] = []
    for flow, (column, debit, credit) in FLOWS.items():
        amount = int(summary_row[column] or 0)
        if amount == 0:
            continue
        postings.append(Posting(f"{debit}:{province}", flow, amount))
        postings.append(Posting(f"{credit}:{province}", flow, -amount))
    return postings


def _insert_entry(
    conn: Connection,
    *,
    kind: str,
    run_id: int | None,
    reverses_id: int | None,
    province_code: str,
    period: str,
    memo: str,
    user: str,
    postings: Sequence[Posting],
) -> int:
    # Refuse an unbalanced entry before anything is written (not `assert`: it must hold under -O too).
    total = sum(p.amount_vnd for p in postings)
    if total != 0:
        raise LedgerError(
            f"Journal entry '{memo}' does not balance (off by {total} VND); nothing was recorded."
        )
    entry_id = conn.execute(
        insert(JournalEntry)
        .values(
            kind=kind,
            run_id=run_id,
            reverses_id=reverses_id,
            province_code=province_code,
            period=period,
            memo=memo,
            created_at=now_utc(),
            created_by=user,
        )
        .returning(JournalEntry.id)
    ).scalar_one()
    if postings:
        conn.execute(
            insert(JournalPosting),
            [
                {
                    "entry_id": entry_id,
                    "account": p.account,
                    "flow": p.flow,
                    "province_code": province_code,
                    "period": period,
                    "amount_vnd": p.amount_vnd,
                }
                for p in postings
            ],
        )
    return entry_id


def post_run(conn: Connection, run_id: int, period: str, summary: pl.DataFrame, *, user: str) -> list[int]:
    """One balanced entry per province of the run's summary; the entry ids."""
    ids: list[int] = []
    for row in summary.sort("province_code").iter_rows(named=True):
        province = str(row["province_code"])
        ids.append(
            _insert_entry(
                conn,
                kind="run",
                run_id=run_id,
                reverses_id=None,
                province_code=province,
                period=period,
                memo=f"run {run_id}: cash close of {period} for province {province}",
                user=user,
                postings=run_postings(row),
            )
        )
    return ids


def reverse_run(conn: Connection, old_run_id: int, new_run_id: int, *, user: str) -> list[int]:
    """Reverse every not-yet-reversed entry of ``old_run_id`` (replaced by ``new_run_id``)."""
    reversed_ids = select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None))
    entries = conn.execute(
        select(JournalEntry.id, JournalEntry.province_code, JournalEntry.period)
        .where(
            JournalEntry.run_id == old_run_id,
            JournalEntry.kind == "run",
            JournalEntry.id.not_in(reversed_ids),
        )
        .order_by(JournalEntry.id)
    ).all()
    ids: list[int] = []
    for entry_id, province, period in entries:
        postings = [
            Posting(account, flow, -amount)
            for account, flow, amount in conn.execute(
                select(JournalPosting.account, JournalPosting.flow, JournalPosting.amount_vnd)
                .where(JournalPosting.entry_id == entry_id)
                .order_by(JournalPosting.id)
            )
        ]
        ids.append(
            _insert_entry(
                conn,
                kind="reversal",
                run_id=new_run_id,
                reverses_id=entry_id,
                province_code=province,
                period=period,
                memo=f"reverses entry {entry_id} of run {old_run_id}, replaced by run {new_run_id}",
                user=user,
                postings=postings,
            )
        )
    return ids


def balances(conn: Connection, period: str | None = None, province_code: str | None = None) -> pl.DataFrame:
    """Balance of every account (per province and period): the sum of its postings."""
    query = select(
        JournalPosting.account,
        JournalPosting.province_code,
        JournalPosting.period,
        func.sum(JournalPosting.amount_vnd).label("balance_vnd"),
    ).group_by(JournalPosting.account, JournalPosting.province_code, JournalPosting.period)
    if period is not None:
        query = query.where(JournalPosting.period == period)
    if province_code is not None:
        query = query.where(JournalPosting.province_code == province_code)
    rows = [tuple(r) for r in conn.execute(query.order_by(JournalPosting.period, JournalPosting.account))]
    return pl.DataFrame(
        rows,
        schema={
            "account": pl.String(),
            "province_code": pl.String(),
            "period": pl.String(),
            "balance_vnd": pl.Int64(),
        },
        orient="row",
    )


def unbalanced_entries(conn: Connection) -> list[str]:
    rows = conn.execute(
        select(JournalEntry.id, JournalEntry.memo, func.coalesce(func.sum(JournalPosting.amount_vnd), 0))
        .outerjoin(JournalPosting, JournalPosting.entry_id == JournalEntry.id)
        .group_by(JournalEntry.id, JournalEntry.memo)
        .having(func.coalesce(func.sum(JournalPosting.amount_vnd), 0) != 0)
    )
    return [
        f"journal: entry {i} ({memo}) does not balance: postings sum to {total} VND"
        for i, memo, total in rows
    ]


def cash_close_mismatches(conn: Connection) -> list[str]:
    """Each run entry's cash postings against its run summary's residual."""
    from disburse.ledger.models import RunSummary

    cash = (
        select(
            JournalEntry.run_id,
            JournalEntry.province_code,
            func.coalesce(func.sum(JournalPosting.amount_vnd), 0).label("cash"),
        )
        .outerjoin(
            JournalPosting,
            (JournalPosting.entry_id == JournalEntry.id) & JournalPosting.account.like(f"{CASH}:%"),
        )
        .where(JournalEntry.kind == "run")
        .group_by(JournalEntry.run_id, JournalEntry.province_code)
        .subquery()
    )
    rows = conn.execute(
        select(RunSummary.run_id, RunSummary.province_code, RunSummary.residual_vnd, cash.c.cash)
        .outerjoin(
            cash, (cash.c.run_id == RunSummary.run_id) & (cash.c.province_code == RunSummary.province_code)
        )
        .order_by(RunSummary.run_id, RunSummary.province_code)
    )
    problems = []
    for run_id, province, residual, cash_close in rows:
        if cash_close is None:
            problems.append(f"journal: run {run_id} has no entry for province {province}")
        elif int(cash_close) != int(residual):
            problems.append(
                f"journal: run {run_id}, province {province}: the cash close from the postings is "
                f"{cash_close} VND but the summary's residual is {residual} VND"
            )
    return problems
