"""What a loader returns: a canonical frame plus every row it could not read (never dropped silently)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

# How the ledger identifies a file: its bytes' BLAKE3 (docs/ARCHITECTURE.md, decision 20). Ledgers written
# before migration 0003 identified files by sha256 (``Loaded.sha256``).
FILE_DIGEST_ALGO: Final = "blake3"


@dataclass(frozen=True)
class Loaded:
    source: Path
    file_digest: str  # hex digest (``digest_algo``) of the file's bytes: the batch's identity in the ledger
    frame: pl.DataFrame  # ORDER_SCHEMA, EVENT_SCHEMA or PAYOUT_SCHEMA
    rejects: pl.DataFrame  # REJECT_SCHEMA; a file with any reject is refused whole by the import

    @property
    def digest_algo(self) -> str:
        return FILE_DIGEST_ALGO

    def sha256(self) -> str:
        """The file's identity in a ledger written before migration 0003 (computed when asked: the file is
        read again)."""
        from disburse.loaders.read import file_sha256

        return file_sha256(self.source)


@dataclass(frozen=True)
class LoadedPayouts(Loaded):
    control_totals: pl.DataFrame  # CONTROL_TOTAL_SCHEMA: one row if the dialect has a footer, else none
