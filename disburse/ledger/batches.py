"""Batches: one imported file each, its lines stored as segments, reversed only by a new row."""

from __future__ import annotations

from typing import Any, cast

import polars as pl
from sqlalchemy import Connection, Row, Select, func, insert, or_, select

from disburse.errors import InputError, LedgerError
from disburse.ledger import audit, bulk, crashpoints, periods, segments
from disburse.ledger.codec import CONTROL_TOTAL_TABLE, LINE_SCHEMAS, TEXT_LIMITS
from disburse.ledger.models import Batch, BatchReversal
from disburse.ledger.receipts import BatchReceipt
from disburse.loaders.model import Loaded, LoadedPayouts
from disburse.schema import conform


def _canonical(kind: str, loaded: Loaded) -> pl.DataFrame:
    if kind not in LINE_SCHEMAS:
        raise LedgerError(f"Unknown batch kind {kind!r}: expected orders, events or payouts.")
    if loaded.rejects.height:
        raise LedgerError(
            f"{loaded.source.name} has {loaded.rejects.height} unreadable rows and cannot be imported; "
            "fix the file and import it again."
        )
    schema = LINE_SCHEMAS[kind]
    try:
        frame = conform(loaded.frame, schema)
    except (pl.exceptions.PolarsError, KeyError) as exc:
        raise LedgerError(f"{loaded.source.name} does not have the canonical {kind} columns: {exc}.") from exc
    _refuse_unstorable(frame, loaded.source.name)
    return frame


def _refuse_unstorable(frame: pl.DataFrame, source: str) -> None:
    """Values the ledger refuses, before anything is written, naming the line: an identifier or code longer
    than TEXT_LIMITS allows, and NUL characters (PostgreSQL text cannot hold them in the exception rows and
    reports that quote a line's values)."""
    texts = [c for c, dtype in frame.schema.items() if dtype == pl.String]
    limited = [c for c in texts if TEXT_LIMITS.get(c, 0)]
    if not texts or frame.height == 0:
        return
    # Bytes, not characters, first: a UTF-8 character is at least one byte, so a column within its limit in
    # bytes is within it in characters, and counting bytes needs no decoding (1.2 s to 0.3 s at 5M orders).
    stats = frame.select(
        *[pl.col(c).str.len_bytes().max().alias(f"len:{c}") for c in limited],
        *[pl.col(c).str.contains("\x00", literal=True).any().alias(f"nul:{c}") for c in texts],
    ).row(0, named=True)
    for column in texts:
        values = frame.get_column(column)
        limit = TEXT_LIMITS.get(column, 0)
        chars = values.str.len_chars() if limit and (stats[f"len:{column}"] or 0) > limit else None
        if chars is not None and (chars.max() or 0) > limit:  # type: ignore[operator]
            index = chars.arg_max() or 0
            value = str(values[index])
            raise InputError(
                f"{source}: data line {index + 1} has a {column} of {len(value)} characters, more than the "
                f"{limit} the ledger keeps ({value[:40]!r}...); nothing was imported: correct the file."
            )
        if stats[f"nul:{column}"]:
            index = values.str.contains("\x00", literal=True).arg_true()[0]
            raise InputError(
                f"{source}: data line {index + 1} has a NUL character (byte 0) in its {column} "
                f"({str(values[index])[:40]!r}), which is not text; nothing was imported: correct the file."
            )


def _line_pairs(frame: pl.DataFrame) -> set[tuple[str | None, str]]:
    if "period" not in frame.columns:
        return set()
    pairs = frame.select("province_code", "period").unique().drop_nulls("period").iter_rows()
    return {(cast(str | None, province), cast(str, period)) for province, period in pairs}


BatchRow = Row[Any]  # a batch table row: attributes named as Batch's columns


def _batch_rows() -> Select[Any]:
    return select(*Batch.__table__.columns)


def find_active(conn: Connection, loaded: Loaded) -> BatchRow | None:
    """The active batch of the same file: by its digest, and, in a ledger holding batches imported before
    migration 0003 (identified by sha256), by its sha256 too, computed only then."""
    digests = [(loaded.digest_algo, loaded.file_digest)]
    legacy = select(Batch.id).where(Batch.digest_algo == "sha256").limit(1)
    if conn.execute(legacy).first() is not None:
        digests.append(("sha256", loaded.sha256()))
    same_file = or_(*[(Batch.digest_algo == algo) & (Batch.file_digest == hex_) for algo, hex_ in digests])
    return conn.execute(
        _batch_rows().where(same_file, Batch.id.not_in(select(BatchReversal.batch_id)))
    ).one_or_none()


def describe(batch: BatchRow) -> str:
    where = ", ".join(p for p in (batch.province_code, batch.period) if p)
    return (
        f"batch {batch.id} ({batch.kind}{', ' + where if where else ''}, {batch.line_count} lines, "
        f"imported by {batch.imported_by} at {batch.imported_at:%Y-%m-%d %H:%M})"
    )


def import_batch(
    conn: Connection,
    kind: str,
    loaded: Loaded,
    *,
    province_code: str | None,
    period: str | None,
    user: str,
    supersedes: int | None,
) -> BatchReceipt:
    """Inside the caller's write transaction: the whole batch lands, or nothing does."""
    frame = _canonical(kind, loaded)
    existing = find_active(conn, loaded)
    if existing is not None:
        return BatchReceipt(
            batch_id=existing.id,
            created=False,
            line_count=existing.line_count,
            existing_reason=f"{loaded.source.name} was already imported as {describe(existing)}.",
        )
    line_pairs = _line_pairs(frame)
    pairs = set(line_pairs)
    if period is not None:
        pairs.add((province_code, period))
    periods.refuse_if_closed(conn, pairs, doing=f"import {loaded.source.name}")

    old: BatchRow | None = None
    if supersedes is not None:
        old = _reversible(conn, supersedes, kind=kind, doing=f"replace batch {supersedes}")

    _refuse_double_counting(conn, kind, frame, line_pairs, replacing=old, source=loaded.source.name)

    epoch = conn.execute(
        select(func.count())
        .select_from(Batch)
        .where(Batch.file_digest == loaded.file_digest, Batch.id.in_(select(BatchReversal.batch_id)))
    ).scalar_one()
    line_periods = sorted({p for _, p in line_pairs})
    stored = segments.encode(kind, frame)
    digest = segments.chain_digest(s.sha256 for s in stored)
    batch_id = conn.execute(
        insert(Batch)
        .values(
            kind=kind,
            file_digest=loaded.file_digest,
            digest_algo=loaded.digest_algo,
            digest_epoch=epoch,
            content_digest=digest,
            province_code=province_code,
            period=period,
            first_period=line_periods[0] if line_periods else period,
            last_period=line_periods[-1] if line_periods else period,
            source_name=loaded.source.name,
            line_count=frame.height,
            supersedes_id=supersedes,
            imported_at=audit.now_utc(),
            imported_by=user,
        )
        .returning(Batch.id)
    ).scalar_one()
    crashpoints.reached("import.batch_row")

    segments.store(conn, kind, batch_id, stored)
    crashpoints.reached("import.lines")
    totals = 0
    if isinstance(loaded, LoadedPayouts) and loaded.control_totals.height:
        ct_table, ct_schema = CONTROL_TOTAL_TABLE
        totals = bulk.insert_frame(
            conn, ct_table, loaded.control_totals, ct_schema, prefix={"batch_id": batch_id}
        )
    if old is not None:
        _reverse(conn, old, replaced_by=batch_id, reason=f"superseded by batch {batch_id}", user=user)
    audit.append(
        conn,
        actor=user,
        action="import_batch",
        subject=f"batch:{batch_id}",
        detail={
            "kind": kind,
            "source_name": loaded.source.name,
            loaded.digest_algo: loaded.file_digest,  # "blake3" (or "sha256" before migration 0003)
            "content_digest": digest,
            "line_count": frame.height,
            "control_totals": totals,
            "province_code": province_code,
            "period": period,
            "supersedes": supersedes,
        },
    )
    return BatchReceipt(batch_id=batch_id, created=True, line_count=frame.height, existing_reason=None)


# kind -> the column that names one line across files: the same order or payout in two active batches would be
# counted twice (the same list exported again as Parquet, a payout file re-saved by a spreadsheet, a reversed
# file imported again next to its correction).
_IDENTITY = {"orders": "order_id", "payouts": "payout_id"}


def _refuse_double_counting(
    conn: Connection,
    kind: str,
    frame: pl.DataFrame,
    line_pairs: set[tuple[str | None, str]],
    *,
    replacing: BatchRow | None,
    source: str,
) -> None:
    """LedgerError when a line of ``frame`` is already in an active batch of the same kind, province and
    period (other than the batch being replaced): only ``--supersedes`` may bring the same lines again."""
    column = _IDENTITY.get(kind)
    if column is None or frame.height == 0 or not line_pairs:
        return
    periods_ = sorted({p for _, p in line_pairs})
    provinces = sorted({p for p, _ in line_pairs if p is not None})
    # Batches of another province cannot hold these lines (a batch's province is None when it has several).
    same_province = Batch.province_code.is_(None) | Batch.province_code.in_(provinces)
    others = conn.execute(
        select(Batch.id)
        .where(
            Batch.kind == kind,
            Batch.id.not_in(select(BatchReversal.batch_id)),
            Batch.first_period <= periods_[-1],
            Batch.last_period >= periods_[0],
            same_province,
        )
        .order_by(Batch.id)
    ).scalars()
    ids = [int(i) for i in others if replacing is None or int(i) != replacing.id]
    if not ids:
        return  # the usual case: the first file of its province and period, nothing to read
    existing = segments.load(conn, kind, ids, columns=["province_code", column], owner_column="batch_id")
    if provinces:
        existing = existing.filter(pl.col("province_code").is_in(provinces))
    clash = (
        existing.join(frame.select(column).unique(), on=column, how="semi")
        .select("batch_id", column)
        .sort(column)
    )
    if clash.height:
        batch_id, value = clash.row(0)
        more = clash.get_column(column).n_unique() - 1
        raise LedgerError(
            f"Cannot import {source}: its {column} {value!r} (and {more} more) is already in "
            f"active batch {batch_id}, so the same {kind} would count twice. If {source} corrects that "
            f"batch, import it with --supersedes {batch_id}; nothing was imported."
        )


def _reversible(conn: Connection, batch_id: int, *, kind: str | None, doing: str) -> BatchRow:
    old = conn.execute(_batch_rows().where(Batch.id == batch_id)).one_or_none()
    if old is None:
        raise LedgerError(f"Cannot {doing}: there is no batch {batch_id}.")
    if kind is not None and old.kind != kind:
        raise LedgerError(f"Cannot {doing}: batch {batch_id} holds {old.kind}, not {kind}.")
    reversed_row = conn.execute(
        select(BatchReversal.replaced_by_id).where(BatchReversal.batch_id == batch_id)
    ).first()
    if reversed_row is not None:
        by = f" by batch {reversed_row[0]}" if reversed_row[0] is not None else ""
        raise LedgerError(f"Cannot {doing}: batch {batch_id} was already reversed{by}.")
    pairs: set[tuple[str | None, str]] = set()
    if old.period is not None:
        pairs.add((old.province_code, old.period))
    if old.kind != "events":
        lines = segments.load(conn, old.kind, [batch_id], columns=["province_code", "period"])
        pairs.update(_line_pairs(lines))
    periods.refuse_if_closed(conn, pairs, doing=doing)
    return old


def _reverse(conn: Connection, old: BatchRow, *, replaced_by: int | None, reason: str, user: str) -> None:
    conn.execute(
        insert(BatchReversal).values(
            batch_id=old.id,
            replaced_by_id=replaced_by,
            reason=reason,
            reversed_at=audit.now_utc(),
            reversed_by=user,
        )
    )
    audit.append(
        conn,
        actor=user,
        action="reverse_batch",
        subject=f"batch:{old.id}",
        detail={"batch_id": old.id, "replaced_by": replaced_by, "reason": reason},
    )


def reverse_batch(conn: Connection, batch_id: int, *, reason: str, user: str) -> None:
    if not reason.strip():
        raise LedgerError(f"Reversing batch {batch_id} needs a reason.")
    old = _reversible(conn, batch_id, kind=None, doing=f"reverse batch {batch_id}")
    _reverse(conn, old, replaced_by=None, reason=reason, user=user)


def list_batches(conn: Connection, period: str | None) -> pl.DataFrame:
    query = (
        select(
            Batch.id.label("batch_id"),
            Batch.kind,
            Batch.province_code,
            Batch.period,
            Batch.first_period,
            Batch.last_period,
            Batch.source_name,
            Batch.file_digest,
            Batch.digest_algo,
            Batch.line_count,
            Batch.imported_at,
            Batch.imported_by,
            Batch.supersedes_id,
            BatchReversal.replaced_by_id.label("replaced_by_id"),
            BatchReversal.reversed_at,
            BatchReversal.reason.label("reversal_reason"),
        )
        .outerjoin(BatchReversal, BatchReversal.batch_id == Batch.id)
        .order_by(Batch.id)
    )
    if period is not None:
        query = query.where(
            (Batch.period == period) | ((Batch.first_period <= period) & (Batch.last_period >= period))
        )
    rows = conn.execute(query).all()
    schema: dict[str, pl.DataType] = {
        "batch_id": pl.Int64(),
        "kind": pl.String(),
        "province_code": pl.String(),
        "period": pl.String(),
        "first_period": pl.String(),
        "last_period": pl.String(),
        "source_name": pl.String(),
        "file_digest": pl.String(),
        "digest_algo": pl.String(),
        "line_count": pl.Int64(),
        "imported_at": pl.Datetime("us"),
        "imported_by": pl.String(),
        "supersedes_id": pl.Int64(),
        "replaced_by_id": pl.Int64(),
        "reversed_at": pl.Datetime("us"),
        "reversal_reason": pl.String(),
    }
    data = [tuple(audit.naive_utc(v) for v in row) for row in rows]
    frame = pl.DataFrame(data, schema=schema, orient="row")
    status = pl.when(pl.col("reversed_at").is_null()).then(pl.lit("active")).otherwise(pl.lit("reversed"))
    return frame.with_columns(status.alias("status"))
