"""Engines and transactions: the connection settings every ledger operation relies on.

SQLite: WAL (readers never block the one writer), a busy timeout (a second writer waits instead of failing),
foreign keys on, and write transactions opened with ``BEGIN IMMEDIATE`` so a writer holds the lock from its
first read: checks such as "this file is already imported" and the audit chain head cannot go stale between
the read and the write. PostgreSQL: writers take one transaction-scoped advisory lock for the same reason.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from disburse.errors import LedgerError

DEFAULT_URL = "sqlite:///disburse.db"
ENV_URL = "DISBURSE_DATABASE_URL"
BUSY_TIMEOUT_MS = 30_000
# Arbitrary constant naming the ledger's writer lock among PostgreSQL advisory locks.
PG_WRITE_LOCK = 0x0D15B0125E
_WRITE = "disburse_ledger_write"


def resolve_url(url: str | None) -> str:
    return url or os.environ.get(ENV_URL) or DEFAULT_URL


def describe(url: URL) -> str:
    """The URL without its password, for messages."""
    return url.render_as_string(hide_password=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # We issue BEGIN ourselves (see _sqlite_begin): the sqlite3 module's implicit transactions would start
    # them late and always DEFERRED.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _set_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
        # FULL: a committed import or run survives a power cut; the cost is one fsync per commit.
        cursor.execute("PRAGMA synchronous = FULL")
    finally:
        cursor.close()


def _set_wal(cursor: sqlite3.Cursor) -> None:
    """Two processes opening a new ledger at once both switch it to WAL; SQLite answers one of them "database
    is locked" at once, without waiting (the busy timeout would let them deadlock). Once switched, the
    pragma only reads the mode: so it is tried again, for the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the ledger's settings; LedgerError if the URL cannot name a database."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
            # The project ships psycopg 3 only; accept plain postgresql:// URLs for it.
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise LedgerError(f"The database URL {url!r} is not usable: {exc}.") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def check_reachable(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        check = (
            "that its folder exists and is writable"
            if engine.dialect.name == "sqlite"
            else "that the server is running and accepts these credentials"
        )
        raise LedgerError(
            f"Cannot reach the ledger database {describe(engine.url)} ({reason}); check the URL "
            f"(or {ENV_URL}) and {check}."
        ) from exc


def _driver_errors() -> tuple[type[BaseException], ...]:
    """Errors of the drivers themselves: the bulk path uses the raw DBAPI connections, outside SQLAlchemy's
    exception wrapping. psycopg is loaded (by SQLAlchemy) only for a PostgreSQL ledger, and only then can it
    raise: not importing it saves every SQLite command its import time."""
    psycopg = sys.modules.get("psycopg")
    return (DBAPIError, sqlite3.Error, *((psycopg.Error,) if psycopg is not None else ()))


def _as_ledger_error(exc: BaseException, *, writing: bool) -> LedgerError:
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0].rstrip(".")
    if "no such table" in reason or ("does not exist" in reason and "relation" in reason):
        return LedgerError("The ledger database has no tables yet: run `disburse init` first.")
    if writing:
        return LedgerError(f"The ledger refused the change ({reason}); nothing was recorded.")
    return LedgerError(f"The ledger could not be read ({reason}).")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction holding the ledger's write lock until commit (rollback and LedgerError on error)."""
    try:
        with engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")
                yield conn
    except _driver_errors() as exc:
        raise _as_ledger_error(exc, writing=True) from exc


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """One snapshot for several reads (SQLite's deferred transaction in WAL, PostgreSQL REPEATABLE READ)."""
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn
    except _driver_errors() as exc:
        raise _as_ledger_error(exc, writing=False) from exc
