"""What a loader returns: a canonical frame plus every row it could not read (never dropped silently)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl


@dataclass(frozen=True)
class Loaded:
    source: Path
    sha256: str  # hex digest of the file's bytes: the batch's identity in the ledger
    frame: pl.DataFrame  # ORDER_SCHEMA, EVENT_SCHEMA or PAYOUT_SCHEMA
    rejects: pl.DataFrame  # REJECT_SCHEMA; a file with any reject is refused whole by the import


@dataclass(frozen=True)
class LoadedPayouts(Loaded):
    control_totals: pl.DataFrame  # CONTROL_TOTAL_SCHEMA: one row if the dialect has a footer, else none
