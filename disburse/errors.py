"""Errors a user can cause. The CLI prints their message as one sentence and exits 2; never a traceback."""

from __future__ import annotations


class DisburseError(Exception):
    """Base: the message is complete and meant for a finance officer."""

    exit_code: int = 2


class InputError(DisburseError):
    """A file cannot be imported: names the file and, where known, the row, column and value."""


class LedgerError(DisburseError):
    """The ledger refuses an operation (closed period, unknown batch, unreachable database, ...)."""
