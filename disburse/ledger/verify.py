"""``Ledger.verify()``: re-check every invariant from what is stored; each problem is one sentence."""

from __future__ import annotations

import hashlib

import polars as pl
from sqlalchemy import Connection, func, select

from disburse.ledger import audit, journal, runs, segments
from disburse.ledger.codec import LINE_SCHEMAS
from disburse.ledger.digest import content_digest
from disburse.ledger.models import Batch, LineSegment, Run, RunException
from disburse.schema import OUTCOME_SCHEMA, Schema


def verify(conn: Connection) -> list[str]:
    problems: list[str] = []
    problems += journal.unbalanced_entries(conn)
    problems += journal.cash_close_mismatches(conn)
    problems += audit.verify_chain(conn)
    problems += _batch_digests(conn)
    problems += _runs(conn)
    problems += _orphans(conn)
    return problems


def _stored(
    conn: Connection, kind: str, owner_id: int, schema: Schema, owner: str
) -> tuple[pl.DataFrame, str, list[str]]:
    """An owner's segments decoded in line order, the chain digest of their bytes as they are now, and what
    is wrong with them: a payload that is not the bytes whose sha256 was stored beside it, a gap in the
    numbering, a segment that does not decode."""
    problems: list[str] = []
    hashes: list[str] = []
    frames: list[pl.DataFrame] = []
    expected_line = 1
    rows = conn.execute(
        select(
            LineSegment.seq,
            LineSegment.first_line_no,
            LineSegment.row_count,
            LineSegment.sha256,
            LineSegment.payload,
        )
        .where(LineSegment.kind == kind, LineSegment.owner_id == owner_id)
        .order_by(LineSegment.seq)
    )
    for position, (seq, first_line_no, row_count, sha256, payload) in enumerate(rows):
        where = f"{owner}: {kind} segment {seq}"
        data = bytes(payload)
        if seq != position or first_line_no != expected_line:
            problems.append(f"{where} is out of sequence (a segment is missing or was added)")
        hashes.append(hashlib.sha256(data).hexdigest())
        if hashes[-1] != sha256:
            problems.append(f"{where} is not the bytes that were stored")
        try:
            frame = segments.decode(kind, data)
        except segments.DECODE_ERRORS:
            problems.append(f"{where} cannot be read")
            continue
        if frame.height != row_count:
            problems.append(f"{where} holds {frame.height} lines, not the {row_count} recorded beside it")
        frames.append(frame)
        expected_line = first_line_no + row_count
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    return frame, segments.chain_digest(hashes), problems


def _batch_digests(conn: Connection) -> list[str]:
    problems: list[str] = []
    # The digest recorded in the audit chain at import: a rewrite of both the lines and the batch row's digest
    # still shows, since the chain itself is verified.
    audited = {subject: detail for subject, detail in audit.events(conn, "import_batch")}
    batches = conn.execute(
        select(
            Batch.id, Batch.kind, Batch.content_digest, Batch.line_count, Batch.file_digest, Batch.digest_algo
        ).order_by(Batch.id)
    ).all()
    for batch_id, kind, stored_digest, line_count, file_digest, algo in batches:
        schema = LINE_SCHEMAS[kind]
        frame, digest, found = _stored(conn, kind, int(batch_id), schema, f"batch {batch_id}")
        problems += found
        if frame.height != line_count:
            problems.append(f"batch {batch_id}: {frame.height} lines stored but {line_count} were imported")
        # A batch imported before migration 0002 recorded the digest of its canonical lines (digest.py).
        if digest != stored_digest and content_digest(frame, schema) != stored_digest:
            problems.append(f"batch {batch_id}: its stored lines no longer match the digest taken at import")
        record = audited.get(f"batch:{batch_id}")
        if record is None:
            problems.append(f"batch {batch_id}: no import of it is recorded in the audit log")
        elif record.get("content_digest") != stored_digest or record.get(algo) != file_digest:
            problems.append(f"batch {batch_id}: its recorded digests differ from the audit log's")
    return problems


def _runs(conn: Connection) -> list[str]:
    """Each run's identity and results against what the audit chain recorded when it was stored."""
    problems: list[str] = []
    audited = dict(audit.events(conn, "record_run"))
    exception_counts = {
        int(run_id): int(n)
        for run_id, n in conn.execute(select(RunException.run_id, func.count()).group_by(RunException.run_id))
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
        outcomes, digest, found = _stored(conn, "outcomes", int(run_id), OUTCOME_SCHEMA, f"run {run_id}")
        problems += found
        record = audited.get(f"run:{run_id}")
        if record is None:
            problems.append(f"run {run_id}: no record of it in the audit log")
            continue
        if record.get("input_key") != key:
            problems.append(f"run {run_id}: its identity differs from the audit log's")
        stored = {"outcomes": outcomes.height, "exceptions": exception_counts.get(int(run_id), 0)}
        for table, count in stored.items():
            if record.get(table) != count:
                problems.append(f"run {run_id}: {count} {table} stored but {record.get(table)} were recorded")
        # Runs recorded before migration 0002 have no outcomes digest to compare.
        recorded = record.get("outcomes_digest")
        if recorded is not None and digest != recorded:
            problems.append(
                f"run {run_id}: its stored outcomes no longer match the digest taken when recorded"
            )
    return problems


def _orphans(conn: Connection) -> list[str]:
    """Segments and exception rows have no FOREIGN KEY (see models.py): find those whose owner is missing."""
    problems: list[str] = []
    for kind in LINE_SCHEMAS:
        missing = conn.execute(
            select(LineSegment.owner_id)
            .distinct()
            .where(
                LineSegment.kind == kind,
                LineSegment.owner_id.not_in(select(Batch.id).where(Batch.kind == kind)),
            )
            .order_by(LineSegment.owner_id)
        ).scalars()
        problems += [
            f"line_segment: {kind} of batch {value}, which is not a batch of {kind}" for value in missing
        ]
    missing = conn.execute(
        select(LineSegment.owner_id)
        .distinct()
        .where(LineSegment.kind == "outcomes", LineSegment.owner_id.not_in(select(Run.id)))
        .order_by(LineSegment.owner_id)
    ).scalars()
    problems += [f"line_segment: outcomes of run {value}, which does not exist" for value in missing]
    missing = conn.execute(
        select(RunException.run_id).distinct().where(RunException.run_id.not_in(select(Run.id)))
    ).scalars()
    problems += [f"run_exception: rows of run {value}, which does not exist" for value in missing]
    kinds = conn.execute(
        select(LineSegment.kind).distinct().where(LineSegment.kind.not_in([*LINE_SCHEMAS, "outcomes"]))
    ).scalars()
    problems += [f"line_segment: segments of unknown kind {kind!r}" for kind in kinds]
    return problems
