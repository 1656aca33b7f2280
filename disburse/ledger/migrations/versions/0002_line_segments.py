"""Lines and run outcomes as Arrow IPC segments (``line_segment``) instead of one row per line.

Existing lines move into segments batch by batch (and run by run) in line order, so every batch's content
digest, recorded at import and in the audit chain, still verifies; then the row tables are dropped.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 05:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# old table -> (segment kind, owner column)
_MOVED = {
    "order_line": ("orders", "batch_id"),
    "payout_line": ("payouts", "batch_id"),
    "event_line": ("events", "batch_id"),
    "run_outcome": ("outcomes", "run_id"),
}


def upgrade() -> None:
    op.create_table(
        "line_segment",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("first_line_no", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "owner_id", "seq", name=op.f("pk_line_segment")),
    )
    _move_lines()
    for table in _MOVED:
        op.drop_table(table)


def _move_lines() -> None:
    # The package's own reader of the old rows and writer of segments: the same code that stores new lines.
    from disburse.ledger import bulk, segments
    from disburse.ledger.codec import SEGMENT_SCHEMAS

    conn = op.get_bind()
    for table, (kind, owner) in _MOVED.items():
        schema = SEGMENT_SCHEMAS[kind]
        owners = (
            conn.exec_driver_sql(f"SELECT DISTINCT {owner} FROM {table} ORDER BY {owner}").scalars().all()
        )
        for owner_id in owners:
            frame = bulk.read_frame(
                conn,
                f"SELECT {', '.join(schema)} FROM {table} WHERE {owner} = {int(owner_id)} ORDER BY line_no",
                schema,
            )
            segments.store(conn, kind, int(owner_id), segments.encode(kind, frame))


def downgrade() -> None:
    raise NotImplementedError("line segments cannot go back to row tables: restore a backup of the ledger")
