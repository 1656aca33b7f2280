"""Read-only views for the command line: where a period stands, and one exception case in full.

Nothing here writes. The period view counts what ``inputs.reconcile_input`` would read (active batches only),
so "up to date" means a new run would read exactly the batches and prior runs the latest run read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, select

from disburse.errors import LedgerError
from disburse.ledger import audit, bulk, exception_cases, periods, runs, segments
from disburse.ledger.models import Batch, BatchReversal, ExceptionCase, ExceptionStatus, Run
from disburse.schema import EXCEPTION_SCHEMA


@dataclass(frozen=True)
class RunState:
    run_id: int
    created_at: datetime  # naive UTC
    created_by: str
    up_to_date: bool  # False: batches were imported or reversed (or an earlier period re-run) since


@dataclass(frozen=True)
class PeriodStatus:
    period: str
    orders: pl.DataFrame  # province_code, orders, ordered_vnd (active batches, lines of the period)
    payouts: pl.DataFrame  # province_code, files, lines, sources (one row per province with a file)
    event_batches: int  # registry events hold no period: every active events batch counts
    event_lines: int
    run: RunState | None  # the period's latest run
    reconciled: pl.DataFrame  # province_code, orders, paid_out_vnd, residual_vnd of the latest run
    exceptions: pl.DataFrame  # province_code, severity, status, count: cases the latest run reports
    closed: set[str]


def _active_batches(conn: Connection) -> list[Any]:
    return list(
        conn.execute(
            select(
                Batch.id,
                Batch.kind,
                Batch.province_code,
                Batch.period,
                Batch.first_period,
                Batch.last_period,
                Batch.source_name,
                Batch.line_count,
            )
            .where(Batch.id.not_in(select(BatchReversal.batch_id)))
            .order_by(Batch.id)
        )
    )


def _candidate_batches(active: list[Any], period: str) -> list[int]:
    """The batches a run of ``period`` reads now: the same rule as ``inputs.reconcile_input``."""
    return sorted(
        b.id
        for b in active
        if b.kind == "events"
        or (b.kind == "orders" and (b.first_period or "") <= period)
        or (b.kind == "payouts" and (b.first_period or "") <= period <= (b.last_period or "9999-99"))
    )


def _orders(conn: Connection, active: list[Any], period: str) -> pl.DataFrame:
    ids = [
        b.id
        for b in active
        if b.kind == "orders" and (b.first_period or "") <= period <= (b.last_period or "9999-99")
    ]
    schema: dict[str, pl.DataType] = {
        "province_code": pl.String(),
        "orders": pl.Int64(),
        "ordered_vnd": pl.Int64(),
    }
    if not ids:
        return pl.DataFrame(schema=schema)
    lines = segments.load(conn, "orders", ids, columns=["province_code", "period", "amount_vnd"]).filter(
        pl.col("period") == period
    )
    return (
        lines.group_by("province_code")
        .agg(pl.len().cast(pl.Int64).alias("orders"), pl.col("amount_vnd").sum().alias("ordered_vnd"))
        .sort("province_code")
        .select(list(schema))
    )


def _payouts(active: list[Any], period: str) -> pl.DataFrame:
    files = [
        (b.province_code, b.source_name, int(b.line_count))
        for b in active
        if b.kind == "payouts" and b.period == period
    ]
    frame = pl.DataFrame(
        files,
        schema={"province_code": pl.String(), "source": pl.String(), "lines": pl.Int64()},
        orient="row",
    )
    return (
        frame.group_by("province_code")
        .agg(pl.len().cast(pl.Int64).alias("files"), pl.col("lines").sum(), pl.col("source").alias("sources"))
        .sort("province_code")
    )


def _run_state(conn: Connection, period: str, active: list[Any]) -> RunState | None:
    run_id = runs.latest_run(conn, period)
    if run_id is None:
        return None
    run = conn.execute(
        select(Run.created_at, Run.created_by, Run.batch_ids, Run.prior_run_ids).where(Run.id == run_id)
    ).one()
    same_batches = run.batch_ids == ",".join(str(i) for i in _candidate_batches(active, period))
    same_priors = run.prior_run_ids == ",".join(str(i) for i in runs.prior_runs(conn, period))
    created_at = audit.naive_utc(run.created_at)
    assert isinstance(created_at, datetime)
    return RunState(run_id, created_at, run.created_by, same_batches and same_priors)


def _reconciled(conn: Connection, run: RunState | None) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {
        "province_code": pl.String(),
        "orders": pl.Int64(),
        "paid_out_vnd": pl.Int64(),
        "residual_vnd": pl.Int64(),
    }
    if run is None:
        return pl.DataFrame(schema=schema)
    return bulk.read_frame(
        conn,
        f"SELECT {', '.join(schema)} FROM run_summary "
        f"WHERE run_id = {int(run.run_id)} ORDER BY province_code",
        schema,
    )


def _open_cases(conn: Connection, period: str) -> pl.DataFrame:
    cases = exception_cases.list_cases(
        conn, period=period, province=None, code=None, severity=None, status=None
    )
    return (
        cases.filter(pl.col("in_latest_run"))
        .group_by("province_code", "severity", "status")
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .sort("province_code", "severity", "status")
    )


def period_status(conn: Connection, period: str) -> PeriodStatus:
    active = _active_batches(conn)
    events = [b for b in active if b.kind == "events"]
    run = _run_state(conn, period, active)
    return PeriodStatus(
        period=period,
        orders=_orders(conn, active, period),
        payouts=_payouts(active, period),
        event_batches=len(events),
        event_lines=sum(int(b.line_count) for b in events),
        run=run,
        reconciled=_reconciled(conn, run),
        exceptions=_open_cases(conn, period),
        closed=periods.closed_provinces(conn, period),
    )


# --- one exception case ------------------------------------------------------------------------------------


def case_key(conn: Connection, case_id: int) -> str:
    """The key of the case numbered ``case_id`` (the short number `exceptions list` shows)."""
    key = conn.execute(
        select(ExceptionCase.exception_key).where(ExceptionCase.id == case_id)
    ).scalar_one_or_none()
    if key is None:
        raise LedgerError(f"There is no exception number {case_id}; see `disburse exceptions list`.")
    return str(key)


def case_numbers(conn: Connection, period: str | None) -> pl.DataFrame:
    """exception_key -> case_id of every case (of ``period``): the short number a person can type, where
    a key holds `|` and would need quoting in a shell."""
    query = select(ExceptionCase.exception_key, ExceptionCase.id)
    if period is not None:
        query = query.where(ExceptionCase.period == period)
    schema: dict[str, pl.DataType] = {"exception_key": pl.String(), "case_id": pl.Int64()}
    return pl.DataFrame([tuple(r) for r in conn.execute(query)], schema=schema, orient="row")


def case_detail(conn: Connection, exception_key: str) -> dict[str, pl.DataFrame]:
    """``case``: its identity (one row); ``rows``: its exception rows in each run of its period that reported
    it (``latest_run`` marks the period's latest run); ``statuses``: its status changes, oldest first."""
    case = conn.execute(
        select(
            ExceptionCase.id.label("case_id"),
            *exception_cases.identity_columns(),
        ).where(ExceptionCase.exception_key == exception_key)
    ).one_or_none()
    if case is None:
        raise LedgerError(
            f"There is no exception {exception_key!r}; see `disburse exceptions list` for its number or key."
        )
    # run_exception has no index on the key (bulk insert speed): the runs of the case's period narrow the
    # scan to their primary-key ranges.
    period_runs = [int(i) for i in conn.execute(select(Run.id).where(Run.period == case.period)).scalars()]
    schema = {"run_id": pl.Int64(), **EXCEPTION_SCHEMA}
    rows = bulk.read_frame(
        conn,
        f"SELECT {', '.join(schema)} FROM run_exception "
        f"WHERE run_id IN ({', '.join(map(str, period_runs)) or 'NULL'}) AND exception_key = :key "
        "ORDER BY run_id, line_no",
        schema,
        {"key": exception_key},
    )
    statuses = conn.execute(
        select(
            ExceptionStatus.status,
            ExceptionStatus.note,
            ExceptionStatus.changed_by,
            ExceptionStatus.changed_at,
        )
        .where(ExceptionStatus.case_id == case.case_id)
        .order_by(ExceptionStatus.id)
    ).all()
    status_frame = pl.DataFrame(
        [tuple(audit.naive_utc(v) for v in r) for r in statuses],
        schema={
            "status": pl.String(),
            "note": pl.String(),
            "changed_by": pl.String(),
            "changed_at": pl.Datetime("us"),
        },
        orient="row",
    )
    latest = runs.latest_run(conn, case.period) if case.period is not None else None
    case_frame = pl.DataFrame(
        [tuple(audit.naive_utc(v) for v in case)],
        schema={
            "case_id": pl.Int64(),
            **{k: v for k, v in exception_cases.EXCEPTION_LIST_SCHEMA.items() if k in case._fields},
        },
        orient="row",
    )
    return {
        "case": case_frame,
        "rows": rows.with_columns((pl.col("run_id") == latest).fill_null(False).alias("latest_run")),
        "statuses": status_frame,
    }
