"""What the ledger hands back after a write: small frozen records the CLI can print."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchReceipt:
    batch_id: int
    created: bool  # False: the same file was already imported (and not reversed); batch_id names that batch
    line_count: int
    existing_reason: str | None  # why nothing was imported, for the user; None when created


@dataclass(frozen=True)
class RunReceipt:
    run_id: int
    created: bool  # False: a run with the same period, parameters and batches exists; run_id names it
