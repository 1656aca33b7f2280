"""Ledger tables: batches and their lines, runs and their results, exception cases, journal, periods, audit.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 03:11:30.398667
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_log_prev_hash")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_log_seq")),
    )
    op.create_table(
        "batch",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sha256_epoch", sa.Integer(), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("first_period", sa.String(length=7), nullable=True),
        sa.Column("last_period", sa.String(length=7), nullable=True),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("line_count", sa.BigInteger(), nullable=False),
        sa.Column("supersedes_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["supersedes_id"], ["batch.id"], name=op.f("fk_batch_supersedes_id_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch")),
        sa.UniqueConstraint("sha256", "sha256_epoch", name="uq_batch_sha256_epoch"),
    )
    op.create_table(
        "event_line",
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("beneficiary_id", sa.String(length=64), nullable=True),
        sa.Column("national_id", sa.String(length=32), nullable=True),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", "line_no", name=op.f("pk_event_line")),
    )
    op.create_table(
        "order_line",
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("ward_code", sa.String(length=8), nullable=True),
        sa.Column("beneficiary_id", sa.String(length=64), nullable=False),
        sa.Column("national_id", sa.String(length=32), nullable=True),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("program", sa.String(length=8), nullable=True),
        sa.Column("allowance_code", sa.String(length=32), nullable=True),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column("covers", sa.Text(), nullable=False),
        sa.Column("proxy_national_id", sa.String(length=32), nullable=True),
        sa.Column("proxy_name", sa.Text(), nullable=True),
        sa.Column("proxy_valid_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", "line_no", name=op.f("pk_order_line")),
    )
    op.create_table(
        "payout_line",
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("payout_id", sa.String(length=64), nullable=False),
        sa.Column("order_ref", sa.Text(), nullable=True),
        sa.Column("beneficiary_id", sa.String(length=64), nullable=True),
        sa.Column("national_id", sa.String(length=32), nullable=True),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("amount_paid_vnd", sa.BigInteger(), nullable=False),
        sa.Column("fee_vnd", sa.BigInteger(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("receiver_national_id", sa.String(length=32), nullable=True),
        sa.Column("ward_code", sa.String(length=8), nullable=True),
        sa.Column("post_office_code", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", "line_no", name=op.f("pk_payout_line")),
    )
    op.create_table(
        "period_event",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_event")),
    )
    with op.batch_alter_table("period_event", schema=None) as batch_op:
        batch_op.create_index("ix_period_event_period_province", ["period", "province_code"], unique=False)

    op.create_table(
        "run",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("batch_ids", sa.Text(), nullable=False),
        sa.Column("prior_run_ids", sa.Text(), nullable=False),
        sa.Column("input_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run")),
        sa.UniqueConstraint("input_key", name=op.f("uq_run_input_key")),
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_period"), ["period"], unique=False)

    op.create_table(
        "run_exception",
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("exception_key", sa.Text(), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("payout_id", sa.String(length=64), nullable=True),
        sa.Column("beneficiary_id", sa.String(length=64), nullable=True),
        sa.Column("national_id", sa.String(length=32), nullable=True),
        sa.Column("ordered_vnd", sa.BigInteger(), nullable=True),
        sa.Column("paid_vnd", sa.BigInteger(), nullable=True),
        sa.Column("difference_vnd", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "line_no", name=op.f("pk_run_exception")),
    )
    op.create_table(
        "run_outcome",
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=True),
        sa.Column("beneficiary_id", sa.String(length=64), nullable=True),
        sa.Column("allowance_code", sa.String(length=32), nullable=True),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("paid_vnd", sa.BigInteger(), nullable=True),
        sa.Column("payout_id", sa.String(length=64), nullable=True),
        sa.Column("unpaid_in_own_period", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "line_no", name=op.f("pk_run_outcome")),
    )
    op.create_table(
        "batch_reversal",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("replaced_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reversed_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_batch_reversal_batch_id_batch")),
        sa.ForeignKeyConstraint(
            ["replaced_by_id"], ["batch.id"], name=op.f("fk_batch_reversal_replaced_by_id_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_reversal")),
        sa.UniqueConstraint("batch_id", name=op.f("uq_batch_reversal_batch_id")),
    )
    op.create_table(
        "control_total",
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("source_name", sa.Text(), nullable=True),
        sa.Column("footer_paid_vnd", sa.BigInteger(), nullable=True),
        sa.Column("footer_fee_vnd", sa.BigInteger(), nullable=True),
        sa.Column("lines_paid_vnd", sa.BigInteger(), nullable=True),
        sa.Column("lines_fee_vnd", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_control_total_batch_id_batch")),
        sa.PrimaryKeyConstraint("batch_id", "line_no", name=op.f("pk_control_total")),
    )
    op.create_table(
        "exception_case",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("exception_key", sa.Text(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("province_code", sa.String(length=8), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("payout_id", sa.String(length=64), nullable=True),
        sa.Column("first_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["run.id"], name=op.f("fk_exception_case_first_run_id_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exception_case")),
        sa.UniqueConstraint("exception_key", name=op.f("uq_exception_case_exception_key")),
    )
    op.create_table(
        "journal_entry",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["journal_entry.id"], name=op.f("fk_journal_entry_reverses_id_journal_entry")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_journal_entry_run_id_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entry")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_journal_entry_reverses_id")),
    )
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_entry_run_id"), ["run_id"], unique=False)

    op.create_table(
        "run_batch",
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_run_batch_batch_id_batch")),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_run_batch_run_id_run")),
        sa.PrimaryKeyConstraint("run_id", "batch_id", name=op.f("pk_run_batch")),
    )
    op.create_table(
        "run_summary",
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("payout_lines", sa.BigInteger(), nullable=False),
        sa.Column("ordered_vnd", sa.BigInteger(), nullable=False),
        sa.Column("matched_paid_vnd", sa.BigInteger(), nullable=False),
        sa.Column("underpaid_gap_vnd", sa.BigInteger(), nullable=False),
        sa.Column("unpaid_vnd", sa.BigInteger(), nullable=False),
        sa.Column("missing_vnd", sa.BigInteger(), nullable=False),
        sa.Column("phantom_vnd", sa.BigInteger(), nullable=False),
        sa.Column("duplicate_vnd", sa.BigInteger(), nullable=False),
        sa.Column("overpaid_vnd", sa.BigInteger(), nullable=False),
        sa.Column("paid_out_vnd", sa.BigInteger(), nullable=False),
        sa.Column("fee_vnd", sa.BigInteger(), nullable=False),
        sa.Column("advance_vnd", sa.BigInteger(), nullable=False),
        sa.Column("carried_in_vnd", sa.BigInteger(), nullable=False),
        sa.Column("returned_vnd", sa.BigInteger(), nullable=False),
        sa.Column("carried_out_vnd", sa.BigInteger(), nullable=False),
        sa.Column("residual_vnd", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_run_summary_run_id_run")),
        sa.PrimaryKeyConstraint("run_id", "province_code", name=op.f("pk_run_summary")),
    )
    op.create_table(
        "exception_status",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["exception_case.id"], name=op.f("fk_exception_status_case_id_exception_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exception_status")),
    )
    with op.batch_alter_table("exception_status", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exception_status_case_id"), ["case_id"], unique=False)

    op.create_table(
        "journal_posting",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("flow", sa.String(length=24), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entry.id"], name=op.f("fk_journal_posting_entry_id_journal_entry")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_posting")),
    )
    with op.batch_alter_table("journal_posting", schema=None) as batch_op:
        batch_op.create_index("ix_journal_posting_account", ["account", "period"], unique=False)
        batch_op.create_index(batch_op.f("ix_journal_posting_entry_id"), ["entry_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("journal_posting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_posting_entry_id"))
        batch_op.drop_index("ix_journal_posting_account")

    op.drop_table("journal_posting")
    with op.batch_alter_table("exception_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exception_status_case_id"))

    op.drop_table("exception_status")
    op.drop_table("run_summary")
    op.drop_table("run_batch")
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entry_run_id"))

    op.drop_table("journal_entry")
    op.drop_table("exception_case")
    op.drop_table("control_total")
    op.drop_table("batch_reversal")
    op.drop_table("run_outcome")
    op.drop_table("run_exception")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_period"))

    op.drop_table("run")
    with op.batch_alter_table("period_event", schema=None) as batch_op:
        batch_op.drop_index("ix_period_event_period_province")

    op.drop_table("period_event")
    op.drop_table("payout_line")
    op.drop_table("order_line")
    op.drop_table("event_line")
    op.drop_table("batch")
    op.drop_table("audit_log")
