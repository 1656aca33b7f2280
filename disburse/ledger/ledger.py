"""The ledger's public face: the only object the pipeline and CLI use to reach the database."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Literal

import polars as pl
from sqlalchemy import Engine

from disburse.ledger import (
    batches,
    crashpoints,
    exception_cases,
    inputs,
    journal,
    periods,
    runs,
)
from disburse.ledger import (
    engine as engines,
)
from disburse.ledger import (
    history as history_,
)
from disburse.ledger import status as status_
from disburse.ledger import (
    verify as verify_,
)
from disburse.ledger.engine import read_transaction, write_transaction
from disburse.ledger.receipts import BatchReceipt, RunReceipt
from disburse.loaders.model import Loaded
from disburse.profile import ProvinceProfile
from disburse.reconcile.model import ReconcileInput, ReconcileResult


class Ledger:
    """Batches, runs, journal, periods and audit log in one database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, url: str | None = None) -> Ledger:
        """``url``, else env DISBURSE_DATABASE_URL, else ``sqlite:///disburse.db`` in the working dir."""
        engine = engines.make_engine(engines.resolve_url(url))
        engines.check_reachable(engine)
        ledger = cls(engine)
        # The engine is the ledger's own: its pooled connections close when the ledger is dropped, not at
        # exit (a PostgreSQL database with an idle connection left in a pool cannot be dropped or renamed).
        weakref.finalize(ledger, engine.dispose)
        return ledger

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        return engines.describe(self.engine.url)

    # --- schema ---------------------------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Create or migrate the tables (``alembic upgrade head``); safe to run again."""
        # Imported here: Alembic takes a third of a second to import, and only `init` migrates.
        from disburse.ledger import migrate

        migrate.upgrade(self.engine)

    # --- batches --------------------------------------------------------------------------------------------

    def import_batch(
        self,
        kind: Literal["orders", "events", "payouts"],
        loaded: Loaded,
        *,
        province_code: str | None,
        period: str | None,
        user: str,
        supersedes: int | None = None,
    ) -> BatchReceipt:
        with write_transaction(self.engine) as conn:
            receipt = batches.import_batch(
                conn,
                kind,
                loaded,
                province_code=province_code,
                period=period,
                user=user,
                supersedes=supersedes,
            )
            if receipt.created:
                crashpoints.reached("import.before_commit")
        if receipt.created:
            crashpoints.reached("import.after_commit")
        return receipt

    def reverse_batch(self, batch_id: int, *, reason: str, user: str) -> None:
        """Take a batch out of the books without a replacement (a new reversal row; its lines stay)."""
        with write_transaction(self.engine) as conn:
            batches.reverse_batch(conn, batch_id, reason=reason, user=user)

    def batches(self, period: str | None = None) -> pl.DataFrame:
        with read_transaction(self.engine) as conn:
            return batches.list_batches(conn, period)

    # --- runs -----------------------------------------------------------------------------------------------

    def reconcile_input(
        self, period: str, profiles: Mapping[str, ProvinceProfile]
    ) -> tuple[ReconcileInput, list[int]]:
        with read_transaction(self.engine) as conn:
            return inputs.reconcile_input(conn, period, profiles)

    def record_run(
        self,
        period: str,
        params: Mapping[str, object],
        batch_ids: Sequence[int],
        result: ReconcileResult,
        *,
        user: str,
    ) -> RunReceipt:
        with write_transaction(self.engine) as conn:
            receipt = runs.record_run(conn, period, params, batch_ids, result, user=user)
            if receipt.created:
                crashpoints.reached("run.before_commit")
        if receipt.created:
            crashpoints.reached("run.after_commit")
        return receipt

    def run_results(self, run_id: int) -> ReconcileResult:
        with read_transaction(self.engine) as conn:
            return runs.run_results(conn, run_id)

    def latest_run(self, period: str) -> int | None:
        with read_transaction(self.engine) as conn:
            return runs.latest_run(conn, period)

    # --- periods --------------------------------------------------------------------------------------------

    def close_period(self, period: str, province_code: str, *, user: str) -> None:
        with write_transaction(self.engine) as conn:
            periods.close(conn, period, province_code, user=user)

    def reopen_period(self, period: str, province_code: str, *, reason: str, user: str) -> None:
        with write_transaction(self.engine) as conn:
            periods.reopen(conn, period, province_code, reason=reason, user=user)

    def closed_provinces(self, period: str) -> set[str]:
        with read_transaction(self.engine) as conn:
            return periods.closed_provinces(conn, period)

    # --- exceptions -----------------------------------------------------------------------------------------

    def ack(self, exception_key: str, note: str, user: str) -> None:
        with write_transaction(self.engine) as conn:
            exception_cases.change_status(conn, exception_key, exception_cases.ACKNOWLEDGED, note, user)

    def resolve(self, exception_key: str, note: str, user: str) -> None:
        with write_transaction(self.engine) as conn:
            exception_cases.change_status(conn, exception_key, exception_cases.RESOLVED, note, user)

    def exceptions(
        self,
        period: str | None = None,
        province: str | None = None,
        code: str | None = None,
        severity: str | None = None,
        status: str | None = None,
    ) -> pl.DataFrame:
        with read_transaction(self.engine) as conn:
            return exception_cases.list_cases(
                conn, period=period, province=province, code=code, severity=severity, status=status
            )

    # --- journal, history, verification ---------------------------------------------------------------------

    def balances(self, period: str | None = None, province_code: str | None = None) -> pl.DataFrame:
        with read_transaction(self.engine) as conn:
            return journal.balances(conn, period, province_code)

    def history(self, beneficiary_id: str) -> dict[str, pl.DataFrame]:
        with read_transaction(self.engine) as conn:
            return history_.history(conn, beneficiary_id)

    def verify(self) -> list[str]:
        with read_transaction(self.engine) as conn:
            return verify_.verify(conn)

    # --- read-only views for the command line (status.py) ---------------------------------------------------

    def period_status(self, period: str) -> status_.PeriodStatus:
        """What is imported, reconciled, open and closed for ``period``, by province."""
        with read_transaction(self.engine) as conn:
            return status_.period_status(conn, period)

    def exception_case(self, exception_key: str) -> dict[str, pl.DataFrame]:
        """One case: its rows in every run of its period that reported it, and its status changes."""
        with read_transaction(self.engine) as conn:
            return status_.case_detail(conn, exception_key)

    def exception_key(self, case_id: int) -> str:
        with read_transaction(self.engine) as conn:
            return status_.case_key(conn, case_id)

    def exception_numbers(self, period: str | None = None) -> pl.DataFrame:
        """exception_key -> case_id, the short number people type instead of the key."""
        with read_transaction(self.engine) as conn:
            return status_.case_numbers(conn, period)
