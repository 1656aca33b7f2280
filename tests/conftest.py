"""Shared fixtures.

Database fixtures (the ledger's): ``database_url`` is a fresh, empty database per test, once on SQLite (a file
in the test's tmp dir) and once on PostgreSQL (a uniquely named database created for the test and dropped
after it). PostgreSQL needs ``DISBURSE_TEST_POSTGRES_URL`` (``eval "$(.ci/postgres.sh)"`` starts a server and
prints it); without it the PostgreSQL cases are skipped, except in CI (``CI=true``), where they fail.
``ledger`` is a connected, migrated ``Ledger`` on that database.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from disburse.ledger import Ledger

POSTGRES_ENV = "DISBURSE_TEST_POSTGRES_URL"


def _postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"{POSTGRES_ENV} is not set: CI must test the ledger on PostgreSQL (see .ci/postgres.sh)")
    pytest.skip(f'{POSTGRES_ENV} is not set (eval "$(.ci/postgres.sh)" starts a server)')


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """URL of a new PostgreSQL database, dropped after the test."""
    admin_url = make_url(_postgres_admin_url())
    if admin_url.drivername in ("postgresql", "postgres"):
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    name = f"disburse_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        # template0: no session ever connects to it, so parallel test runs cannot block the copy
        # ("source database is being accessed by other users"), as they can with template1.
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(admin, name)
        admin.dispose()


def drop_database(admin: Engine, name: str, attempts: int = 5) -> None:
    """Drop a test database; a leftover is a warning, never a test failure.

    Plain DROP first: it stops an autovacuum worker busy in the database by itself, where FORCE would need
    the right to signal that (superuser) process. FORCE then ends connections a failed test left open.
    """
    error: DBAPIError | None = None
    for attempt in range(attempts):
        for statement in (
            f'DROP DATABASE IF EXISTS "{name}"',
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        ):
            try:
                with admin.connect() as conn:
                    conn.execute(text(statement))
                return
            except DBAPIError as exc:
                error = exc
        time.sleep(0.5 * (attempt + 1))
    warnings.warn(f"test database {name} was left behind: {error}", stacklevel=2)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database (no tables) on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file only (tests of SQLite-specific behaviour)."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    """A connected, migrated ledger on a fresh database of each backend."""
    opened = Ledger.connect(database_url)
    opened.upgrade()
    try:
        yield opened
    finally:
        opened.close()
