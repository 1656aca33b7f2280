"""Files identified by BLAKE3 instead of sha256: the batch's ``sha256`` column becomes ``file_digest``, with
``digest_algo`` saying which digest it holds; every batch imported before this revision is ``sha256``.

Only names change and a column is added: no digest is recomputed (the files are not in the ledger), so an
old batch keeps its sha256, which ``verify`` still compares with the audit log, and a file imported before
is still found by its sha256 (``batches.find_active``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # RENAME COLUMN is the same statement in SQLite (3.25+) and PostgreSQL, and keeps the unique constraint
    # on the renamed columns (under its old name: SQLite cannot rename a constraint).
    op.execute("ALTER TABLE batch RENAME COLUMN sha256 TO file_digest")
    op.execute("ALTER TABLE batch RENAME COLUMN sha256_epoch TO digest_epoch")
    # The default only fills the existing rows (SQLite cannot add a NOT NULL column without one); every new
    # batch names its algorithm.
    op.add_column(
        "batch", sa.Column("digest_algo", sa.String(length=8), nullable=False, server_default="sha256")
    )


def downgrade() -> None:
    raise NotImplementedError("batches identified by BLAKE3 have no sha256: restore a backup of the ledger")
