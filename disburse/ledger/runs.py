"""Reconciliation runs: parameters, input batches, outcomes, exceptions, summary, journal postings.

A run is identified by sha256(period, canonical parameters, sorted batch ids): the same inputs give the same
results, so recording them again returns the existing run instead of counting the money twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import polars as pl
from sqlalchemy import Connection, func, insert, select

from disburse.errors import LedgerError
from disburse.ledger import audit, bulk, crashpoints, exception_cases, journal, periods, segments
from disburse.ledger.codec import EXCEPTION_TABLE, SUMMARY_TABLE
from disburse.ledger.models import Batch, Run, RunBatch
from disburse.ledger.receipts import RunReceipt
from disburse.reconcile.model import ReconcileResult
from disburse.schema import EXCEPTION_SCHEMA, OUTCOME_SCHEMA, SUMMARY_SCHEMA, conform

EXCEPTION_STORE_SCHEMA = {**EXCEPTION_SCHEMA, "exception_key": pl.String()}


def input_key(period: str, params_json: str, batch_ids: Sequence[int], prior_run_ids: Sequence[int]) -> str:
    text = "\n".join([period, params_json, _joined(batch_ids), _joined(prior_run_ids)])
    return hashlib.sha256(text.encode()).hexdigest()


def _joined(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids)


def prior_runs(conn: Connection, period: str) -> list[int]:
    """The latest run of each earlier period: what ``reconcile_input`` took prior orders' state from."""
    ids = conn.execute(select(func.max(Run.id)).where(Run.period < period).group_by(Run.period)).scalars()
    return sorted(int(i) for i in ids)


def latest_run(conn: Connection, period: str) -> int | None:
    value = conn.execute(select(func.max(Run.id)).where(Run.period == period)).scalar_one_or_none()
    return int(value) if value is not None else None


def _conformed(result: ReconcileResult) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    try:
        return (
            conform(result.outcomes, OUTCOME_SCHEMA),
            conform(result.exceptions, EXCEPTION_SCHEMA),
            conform(result.summary, SUMMARY_SCHEMA),
        )
    except (pl.exceptions.PolarsError, KeyError) as exc:
        raise LedgerError(f"The reconciliation result does not have the canonical columns: {exc}.") from exc


def record_run(
    conn: Connection,
    period: str,
    params: Mapping[str, object],
    batch_ids: Sequence[int],
    result: ReconcileResult,
    *,
    user: str,
) -> RunReceipt:
    params_json = audit.canonical_json(dict(params))
    ids = sorted({int(i) for i in batch_ids})
    # The same batches can give other results once an earlier period was re-run: that run is an input too.
    priors = prior_runs(conn, period)
    key = input_key(period, params_json, ids, priors)
    existing = conn.execute(select(Run.id).where(Run.input_key == key)).scalar_one_or_none()
    if existing is not None:
        return RunReceipt(run_id=int(existing), created=False)

    outcomes, exceptions, summary = _conformed(result)
    other = summary.filter(pl.col("period") != period)
    if other.height:
        raise LedgerError(
            f"The summary of a run of {period} has rows of period {other['period'][0]}; nothing was recorded."
        )
    provinces = set(summary["province_code"].to_list()) | set(
        outcomes.filter(pl.col("period") == period)["province_code"].drop_nulls().to_list()
    )
    periods.refuse_if_closed(
        conn, {(p, period) for p in provinces}, doing=f"record a reconciliation of {period}"
    )
    known = set(conn.execute(select(Batch.id).where(Batch.id.in_(ids))).scalars()) if ids else set()
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise LedgerError(f"Cannot record a run of {period}: batch {unknown[0]} does not exist.")

    previous = latest_run(conn, period)
    run_id = conn.execute(
        insert(Run)
        .values(
            period=period,
            params_json=params_json,
            batch_ids=_joined(ids),
            prior_run_ids=_joined(priors),
            input_key=key,
            created_at=audit.now_utc(),
            created_by=user,
        )
        .returning(Run.id)
    ).scalar_one()
    crashpoints.reached("run.run_row")
    if ids:
        conn.execute(insert(RunBatch), [{"run_id": run_id, "batch_id": i} for i in ids])
    prefix = {"run_id": run_id}
    stored = segments.encode("outcomes", outcomes)
    segments.store(conn, "outcomes", run_id, stored)
    crashpoints.reached("run.outcomes")
    keyed = exceptions.with_columns(exception_cases.key_expr())
    bulk.insert_frame(conn, EXCEPTION_TABLE[0], keyed, EXCEPTION_STORE_SCHEMA, prefix=prefix)
    bulk.insert_frame(conn, SUMMARY_TABLE[0], summary, SUMMARY_SCHEMA, prefix=prefix, line_no=None)
    keys_unique = keyed.get_column("exception_key").n_unique() == keyed.height
    exception_cases.open_cases(conn, run_id, keys_unique=keys_unique)
    crashpoints.reached("run.exceptions")

    reversals = journal.reverse_run(conn, previous, run_id, user=user) if previous is not None else []
    entries = journal.post_run(conn, run_id, period, summary, user=user)
    crashpoints.reached("run.journal")
    audit.append(
        conn,
        actor=user,
        action="record_run",
        subject=f"run:{run_id}",
        detail={
            "period": period,
            "params": params_json,
            "batch_ids": ids,
            "prior_run_ids": priors,
            "input_key": key,
            "outcomes": outcomes.height,
            "outcomes_digest": segments.chain_digest(s.sha256 for s in stored),
            "exceptions": exceptions.height,
            "summary": summary.sort("province_code").to_dicts(),
            "replaces_run": previous,
            "journal_entries": entries,
            "reversal_entries": reversals,
        },
    )
    return RunReceipt(run_id=run_id, created=True)


def run_results(conn: Connection, run_id: int) -> ReconcileResult:
    if conn.execute(select(Run.id).where(Run.id == run_id)).scalar_one_or_none() is None:
        raise LedgerError(f"There is no reconciliation run {run_id}.")
    rid = int(run_id)
    outcomes = segments.load(conn, "outcomes", [rid])
    exceptions = bulk.read_frame(
        conn,
        f"SELECT {', '.join(EXCEPTION_SCHEMA)} FROM run_exception WHERE run_id = {rid} ORDER BY line_no",
        EXCEPTION_SCHEMA,
    )
    summary = bulk.read_frame(
        conn,
        f"SELECT {', '.join(SUMMARY_SCHEMA)} FROM run_summary WHERE run_id = {rid} ORDER BY province_code",
        SUMMARY_SCHEMA,
    )
    return ReconcileResult(exceptions=exceptions, outcomes=outcomes, summary=summary)
