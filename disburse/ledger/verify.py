"""``Ledger.verify()``: re-check every invariant from what is stored; each problem is one sentence."""

from __future__ import annotations

from sqlalchemy import Connection, select

from disburse.ledger import audit, bulk, journal
from disburse.ledger.codec import LINE_TABLES
from disburse.ledger.digest import content_digest
from disburse.ledger.models import Batch


def verify(conn: Connection) -> list[str]:
    problems: list[str] = []
    problems += journal.unbalanced_entries(conn)
    problems += journal.cash_close_mismatches(conn)
    problems += audit.verify_chain(conn)
    problems += _batch_digests(conn)
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
