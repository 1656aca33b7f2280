"""``Ledger.verify()``: re-check every invariant from what is stored; each problem is one sentence."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from disburse.ledger import audit, bulk, journal, runs
from disburse.ledger.codec import LINE_TABLES
from disburse.ledger.digest import content_digest
from disburse.ledger.models import Batch, Run, RunException, RunOutcome


def verify(conn: Connection) -> list[str]:
    problems: list[str] = []
    problems += journal.unbalanced_entries(conn)
    problems += journal.cash_close_mismatches(conn)
    problems += audit.verify_chain(conn)
    problems += _batch_digests(conn)
    problems += _runs(conn)
    problems += _orphans(conn)
    return problems


# Bulk tables have no FOREIGN KEY (see models.py): find rows whose batch or run does not exist.
_ORPHANS = {
    "order_line": ("batch_id", "batch"),
    "payout_line": ("batch_id", "batch"),
    "event_line": ("batch_id", "batch"),
    "run_outcome": ("run_id", "run"),
    "run_exception": ("run_id", "run"),
}


def _orphans(conn: Connection) -> list[str]:
    problems: list[str] = []
    for table, (column, parent) in _ORPHANS.items():
        missing = conn.exec_driver_sql(
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} NOT IN (SELECT id FROM {parent})"
        ).scalars()
        problems += [f"{table}: rows of {parent} {value}, which does not exist" for value in missing]
    return problems


def _runs(conn: Connection) -> list[str]:
    """Each run's identity and result counts against what the audit chain recorded when it was stored."""
    problems: list[str] = []
    audited = dict(audit.events(conn, "record_run"))
    counts = {
        table: {
            int(run_id): int(n)
            for run_id, n in conn.execute(select(model.run_id, func.count()).group_by(model.run_id))
        }
        for table, model in (("outcomes", RunOutcome), ("exceptions", RunException))
    }
    rows = conn.execute(
        select(Run.id, Run.period, Run.params_json, Run.batch_ids, Run.prior_run_ids, Run.input_key).order_by(
            Run.id
        )
    )
    for run_id, period, params_json, batch_ids, prior_run_ids, key in rows:
        ids = [int(i) for i in batch_ids.split(",") if i]
        priors = [int(i) for i in prior_run_ids.split(",") if i]
        if runs.input_key(period, params_json, ids, priors) != key:
            problems.append(
                f"run {run_id}: its period, parameters or batches were changed after it was recorded"
            )
        record = audited.get(f"run:{run_id}")
        if record is None:
            problems.append(f"run {run_id}: no record of it in the audit log")
            continue
        if record.get("input_key") != key:
            problems.append(f"run {run_id}: its identity differs from the audit log's")
        for table in ("outcomes", "exceptions"):
            stored = counts[table].get(run_id, 0)
            if record.get(table) != stored:
                problems.append(
                    f"run {run_id}: {stored} {table} stored but {record.get(table)} were recorded"
                )
    return problems


def _batch_digests(conn: Connection) -> list[str]:
    problems: list[str] = []
    # The digest recorded in the audit chain at import: a rewrite of both the lines and the batch row's digest
    # still shows, since the chain itself is verified.
    audited = {subject: detail for subject, detail in audit.events(conn, "import_batch")}
    batches = conn.execute(
        select(Batch.id, Batch.kind, Batch.content_digest, Batch.line_count, Batch.sha256).order_by(Batch.id)
    ).all()
    for batch_id, kind, stored_digest, line_count, sha256 in batches:
        table, schema = LINE_TABLES[kind]
        frame = bulk.read_frame(
            conn,
            f"SELECT {', '.join(schema)} FROM {table} WHERE batch_id = {int(batch_id)} ORDER BY line_no",
            schema,
        )
        if frame.height != line_count:
            problems.append(f"batch {batch_id}: {frame.height} lines stored but {line_count} were imported")
        if content_digest(frame, schema) != stored_digest:
            problems.append(f"batch {batch_id}: its stored lines no longer match the digest taken at import")
        record = audited.get(f"batch:{batch_id}")
        if record is None:
            problems.append(f"batch {batch_id}: no import of it is recorded in the audit log")
        elif record.get("content_digest") != stored_digest or record.get("sha256") != sha256:
            problems.append(f"batch {batch_id}: its recorded digests differ from the audit log's")
    return problems
