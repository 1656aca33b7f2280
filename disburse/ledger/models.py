"""The ledger's tables as SQLAlchemy 2.0 typed models.

Everything is append-only: a batch is reversed by a ``batch_reversal`` row, a period is closed or
reopened by a ``period_event`` row, an exception changes status by an ``exception_status`` row, a run is
replaced by a newer run of its period whose journal entry reverses the old one. Nothing here is ever
UPDATEd or DELETEd, which is what lets ``verify()`` re-check the whole history.

Money is ``BigInteger`` whole VND. Lines (orders, payouts, events) and run outcomes live in ``line_segment``
(see segments.py); run exceptions and summaries are rows written and read in bulk (see ``bulk.py``), never
through ORM objects; their models exist so the schema has one definition (the migration and the models are
compared in the tests).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias); BIGINT there would need explicit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")
Money = BigInteger

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --- batches ------------------------------------------------------------------------------------------------


class Batch(Base):
    """One imported file. Its identity is the digest of the file's bytes (``file_digest``, by ``digest_algo``:
    blake3, or sha256 for a batch imported before migration 0003); ``content_digest`` hashes the canonical
    lines."""

    __tablename__ = "batch"
    __table_args__ = (
        # Two processes importing the same bytes race on this constraint: the loser gets the winner's batch.
        # ``digest_epoch`` counts earlier reversed batches of the same bytes: a reversed file can come back.
        # The name is from before migration 0003 renamed the columns: SQLite cannot rename a constraint.
        UniqueConstraint("file_digest", "digest_epoch", name="uq_batch_sha256_epoch"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # orders | events | payouts
    file_digest: Mapped[str] = mapped_column(String(64))
    digest_algo: Mapped[str] = mapped_column(String(8))  # blake3 | sha256
    digest_epoch: Mapped[int] = mapped_column(Integer)
    content_digest: Mapped[str] = mapped_column(String(64))
    province_code: Mapped[str | None] = mapped_column(String(8))
    period: Mapped[str | None] = mapped_column(String(7))
    # Range of the lines' periods, so a period's lines are found by batch without indexing every line.
    first_period: Mapped[str | None] = mapped_column(String(7))
    last_period: Mapped[str | None] = mapped_column(String(7))
    source_name: Mapped[str] = mapped_column(Text)
    line_count: Mapped[int] = mapped_column(BigInteger)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(128))


class BatchReversal(Base):
    """A batch taken out of the books; unique per batch so two reversals of one batch cannot both land."""

    __tablename__ = "batch_reversal"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), unique=True)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))
    reason: Mapped[str] = mapped_column(Text)
    reversed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reversed_by: Mapped[str] = mapped_column(String(128))


class ControlTotal(Base):
    """A payout file's footer totals next to the sums of its lines (CONTROL_TOTAL_SCHEMA)."""

    __tablename__ = "control_total"

    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_code: Mapped[str | None] = mapped_column(String(8))
    period: Mapped[str | None] = mapped_column(String(7))
    source_name: Mapped[str | None] = mapped_column(Text)
    footer_paid_vnd: Mapped[int | None] = mapped_column(Money)
    footer_fee_vnd: Mapped[int | None] = mapped_column(Money)
    lines_paid_vnd: Mapped[int | None] = mapped_column(Money)
    lines_fee_vnd: Mapped[int | None] = mapped_column(Money)


# --- lines (segments) ---------------------------------------------------------------------------------------


class LineSegment(Base):
    """Up to ``segments.SEGMENT_ROWS`` lines of one batch (kind orders / events / payouts) or of one run's
    outcomes (kind outcomes), as compressed Arrow IPC; see segments.py for why lines are not rows here."""

    __tablename__ = "line_segment"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    # A batch id, or a run id for outcomes. No FOREIGN KEY (it would point at two tables): verify() finds
    # segments whose batch or run does not exist.
    owner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_line_no: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)


# --- runs ---------------------------------------------------------------------------------------------------


class Run(Base):
    """One reconciliation of a period. ``input_key`` = sha256(period, params, batch ids, prior run ids)
    dedupes re-runs: the prior runs (latest of each earlier period) gave the prior orders their state."""

    __tablename__ = "run"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    params_json: Mapped[str] = mapped_column(Text)
    batch_ids: Mapped[str] = mapped_column(Text)  # comma-joined, sorted (also as rows in run_batch)
    prior_run_ids: Mapped[str] = mapped_column(Text)  # comma-joined, sorted
    input_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class RunBatch(Base):
    __tablename__ = "run_batch"

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), primary_key=True)


# run_exception's key is (run_id, line_no) without a FOREIGN KEY: PostgreSQL checks one with a trigger per row
# on COPY; verify() finds rows whose run does not exist instead.
BulkKey = BigInteger().with_variant(Integer(), "sqlite")


class RunException(Base):
    __tablename__ = "run_exception"

    run_id: Mapped[int] = mapped_column(BulkKey, primary_key=True)
    line_no: Mapped[int] = mapped_column(BulkKey, primary_key=True)
    exception_key: Mapped[str] = mapped_column(Text)
    province_code: Mapped[str | None] = mapped_column(String(8))
    period: Mapped[str | None] = mapped_column(String(7))
    code: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[str | None] = mapped_column(String(64))
    payout_id: Mapped[str | None] = mapped_column(String(64))
    beneficiary_id: Mapped[str | None] = mapped_column(String(64))
    national_id: Mapped[str | None] = mapped_column(String(32))
    ordered_vnd: Mapped[int | None] = mapped_column(Money)
    paid_vnd: Mapped[int | None] = mapped_column(Money)
    difference_vnd: Mapped[int | None] = mapped_column(Money)
    detail: Mapped[str | None] = mapped_column(Text)


class RunSummary(Base):
    __tablename__ = "run_summary"

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), primary_key=True)
    province_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    orders: Mapped[int] = mapped_column(BigInteger)
    payout_lines: Mapped[int] = mapped_column(BigInteger)
    ordered_vnd: Mapped[int] = mapped_column(Money)
    matched_paid_vnd: Mapped[int] = mapped_column(Money)
    underpaid_gap_vnd: Mapped[int] = mapped_column(Money)
    unpaid_vnd: Mapped[int] = mapped_column(Money)
    missing_vnd: Mapped[int] = mapped_column(Money)
    phantom_vnd: Mapped[int] = mapped_column(Money)
    duplicate_vnd: Mapped[int] = mapped_column(Money)
    overpaid_vnd: Mapped[int] = mapped_column(Money)
    paid_out_vnd: Mapped[int] = mapped_column(Money)
    fee_vnd: Mapped[int] = mapped_column(Money)
    advance_vnd: Mapped[int] = mapped_column(Money)
    carried_in_vnd: Mapped[int] = mapped_column(Money)
    returned_vnd: Mapped[int] = mapped_column(Money)
    carried_out_vnd: Mapped[int] = mapped_column(Money)
    residual_vnd: Mapped[int] = mapped_column(Money)


# --- exception lifecycle ------------------------------------------------------------------------------------


class ExceptionCase(Base):
    """An exception's identity across runs of its period: first seen once, then acknowledged / resolved."""

    __tablename__ = "exception_case"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    exception_key: Mapped[str] = mapped_column(Text, unique=True)
    code: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    period: Mapped[str | None] = mapped_column(String(7))
    province_code: Mapped[str | None] = mapped_column(String(8))
    order_id: Mapped[str | None] = mapped_column(String(64))
    payout_id: Mapped[str | None] = mapped_column(String(64))
    first_run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExceptionStatus(Base):
    """A status change of an exception case (``new`` is implied until the first row)."""

    __tablename__ = "exception_status"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("exception_case.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # acknowledged | resolved
    note: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(128))


# --- journal ------------------------------------------------------------------------------------------------


class JournalEntry(Base):
    """A balanced set of postings. A replaced run's entry is undone by a reversing entry, never edited."""

    __tablename__ = "journal_entry"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # run | reversal
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"), unique=True)
    province_code: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(7))
    memo: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class JournalPosting(Base):
    """Signed amount on one account: debit positive, credit negative; an entry's postings sum to zero."""

    __tablename__ = "journal_posting"
    __table_args__ = (Index("ix_journal_posting_account", "account", "period"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id"), index=True)
    account: Mapped[str] = mapped_column(String(64))  # e.g. cash_at_post_office:79
    flow: Mapped[str] = mapped_column(
        String(24)
    )  # advance | carried_in | paid_out | returned | carried_out | fee
    province_code: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(7))
    amount_vnd: Mapped[int] = mapped_column(Money)


# --- periods and audit --------------------------------------------------------------------------------------


class PeriodEvent(Base):
    """Close or reopen of a province's period; the latest row decides whether the period is closed."""

    __tablename__ = "period_event"
    __table_args__ = (Index("ix_period_event_period_province", "period", "province_code"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7))
    province_code: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(8))  # close | reopen
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(128))


class AuditLog(Base):
    """Hash chain: ``hash`` = sha256(prev_hash + canonical JSON of the row's event columns)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    # Unique seq and prev_hash: two writers that read the same chain head cannot both append (one fails).
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[str] = mapped_column(String(40))  # ISO-8601 UTC text, hashed exactly as stored
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    detail_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
