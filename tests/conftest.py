"""Shared fixtures.

Database fixtures (the ledger's): ``database_url`` is a fresh, empty database per test, once on SQLite (a file
in the test's tmp dir) and once on PostgreSQL (a uniquely named database created for the test and dropped
after it). PostgreSQL needs ``DISBURSE_TEST_POSTGRES_URL`` (``eval "$(.ci/postgres.sh)"`` starts a server and
prints it); without it the PostgreSQL cases are skipped, except in CI (``CI=true``), where they fail.
``ledger`` is a connected, migrated ``Ledger`` on that database.

Every ledger a test touched is verified after the test body (``Ledger.verify()``, as ``disburse ledger
verify``), before any fixture teardown, so a PostgreSQL database is checked before it is dropped: a
problem fails the test. Touched = the URL of ``database_url`` / ``sqlite_url``, ``DISBURSE_DATABASE_URL``
as the test left it (the CLI tests), and any URL given to the ``touched_ledger`` fixture. A test that
damages a ledger on purpose opts out with ``@pytest.mark.tampers_ledger``; a database that was never
migrated has nothing to verify.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from disburse.ledger import Ledger

POSTGRES_ENV = "DISBURSE_TEST_POSTGRES_URL"
LEDGER_ENV = "DISBURSE_DATABASE_URL"
TAMPERS = "tampers_ledger"

# --- every ledger a test touched is verified after the test ----------------------------------------------

_touched_key = pytest.StashKey[list[str]]()  # per test item: URLs, in the order first touched
_verified_key = pytest.StashKey[dict[str, int]]()  # per session: ledgers verified, problems found
_ENV_AT_START = os.environ.get(LEDGER_ENV)



def pytest_configure(config: pytest.Config) -> None:
    config.stash[_verified_key] = {"ledgers": 0, "problems": 0}


def touch(item: pytest.Item, url: str) -> None:
    """Record that the test ``item`` used the ledger at ``url``."""
    urls = item.stash.setdefault(_touched_key, [])
    if url not in urls:
        urls.append(url)


@pytest.fixture
def touched_ledger(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``touched_ledger(url)``: verify that ledger after the test too (subprocess and CLI tests)."""
    return lambda url: touch(request.node, url)


def _has_tables(url: str) -> bool:
    with Ledger.connect(url) as opened:
        return inspect(opened.engine).has_table("audit_log")


def verify_touched(item: pytest.Item) -> list[str]:
    """``Ledger.verify()`` on every migrated ledger ``item`` touched; the problems, each naming its ledger."""
    problems: list[str] = []
    counts = item.config.stash[_verified_key]
    for url in item.stash.get(_touched_key, []):
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            continue  # named but never created
        if not _has_tables(url):
            continue
        with Ledger.connect(url) as opened:
            found = opened.verify()
        counts["ledgers"] += 1
        counts["problems"] += len(found)
        problems += [f"{opened.url}: {p}" for p in found]
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    result = yield  # a failing test raises here: its own failure is the news, not the ledger's state
    env_url = os.environ.get(LEDGER_ENV)
    if env_url and env_url != _ENV_AT_START:
        touch(item, env_url)
    if item.get_closest_marker(TAMPERS) is None:
        problems = verify_touched(item)
        if problems:
            message = "`disburse ledger verify` fails after the test:\n" + "\n".join(problems)
            pytest.fail(message, pytrace=False)
    return result


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    counts = config.stash.get(_verified_key, None)
    if counts and counts["ledgers"]:
        terminalreporter.write_line(
            f"ledger verify: {counts['ledgers']} ledger(s) verified after their tests, "
            f"{counts['problems']} problem(s)"
        )


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
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("postgres_database")
    touch(request.node, url)
    return url


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh SQLite file only (tests of SQLite-specific behaviour)."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    touch(request.node, url)
    return url


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    """A connected, migrated ledger on a fresh database of each backend."""
    opened = Ledger.connect(database_url)
    opened.upgrade()
    try:
        yield opened
    finally:
        opened.close()
