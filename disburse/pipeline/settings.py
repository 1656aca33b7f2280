"""Settings in effect, the ledger they point at, and the vocabulary every use case checks input against."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from disburse import config
from disburse.errors import InputError, LedgerError
from disburse.ledger import Ledger
from disburse.schema import SEVERITY_RANK

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_REJECTS_SHOWN = 10


DEFAULT_DATABASE_URL = config.DEFAULT_DATABASE_URL


# --- settings and the ledger --------------------------------------------------------------------------------


def settings() -> config.Settings:
    """The effective settings (environment over disburse.toml over defaults), read at each use so a test or
    a script that changes the environment is obeyed."""
    return _effective().settings


# DISBURSE_PROFILES_DIR as set by ``profiles_dir_applied`` from the file: still the file's setting, not the
# environment's, when settings are read again during the command.
_applied_profiles_dir: list[str] = []


def _effective() -> config.Effective:
    variable = config.ENV["profiles_dir"]
    if _applied_profiles_dir and os.environ.get(variable) == _applied_profiles_dir[-1]:
        return config.load({k: v for k, v in os.environ.items() if k != variable})
    return config.load()


def database_url(*, hide_password: bool = False) -> str:
    """DISBURSE_DATABASE_URL, else database_url of disburse.toml, else the SQLite file ./disburse.db."""
    url = settings().database_url
    return _hide_password(url) if hide_password else url


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url  # parses the URL only; the ledger alone connects
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url  # not a URL at all: nothing in it to hide, and the ledger will say what is wrong


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases, in-memory ones, or text that is not a URL)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def open_ledger(*, create: bool = False) -> Ledger:
    """The configured ledger. Only ``create`` (``disburse init``) may bring a new SQLite file into being:
    anywhere else a missing file means the officer is in the wrong folder or forgot ``init``, and silently
    creating an empty ledger there would hide that."""
    url = database_url()
    path = _sqlite_file(url)
    if not create and path is not None and not path.exists():
        raise LedgerError(
            f"There is no ledger at {path.absolute()}: run `disburse init` to create it, or point "
            "DISBURSE_DATABASE_URL "
            "(or database_url in disburse.toml) at the existing one."
        )
    return Ledger.connect(url)


def current_user() -> str:
    return settings().effective_user


@contextmanager
def profiles_dir_applied() -> Iterator[None]:
    """Make profiles_dir of disburse.toml visible to the profiles, which read DISBURSE_PROFILES_DIR; the
    environment is restored afterwards so nothing leaks into the next command of the same process."""
    effective = config.load()
    variable = config.ENV["profiles_dir"]
    folder = effective.settings.profiles_dir
    if folder is None or os.environ.get(variable):
        yield
        return
    os.environ[variable] = str(folder)
    _applied_profiles_dir.append(str(folder))
    try:
        yield
    finally:
        os.environ.pop(variable, None)
        _applied_profiles_dir.pop()


def config_report() -> dict[str, Any]:
    """What `disburse config show` prints: each setting, its value (password hidden) and its source."""
    effective = _effective()
    values = effective.settings.model_dump()
    values["database_url"] = _hide_password(effective.settings.database_url)
    values["user"] = effective.settings.effective_user
    sources = dict(effective.sources)
    if effective.settings.user is None:
        sources["user"] = "login name"
    return {
        "config_file": str(effective.file) if effective.file else None,
        "settings": [
            {
                "setting": key,
                "value": None if values[key] is None else str(values[key]),
                "source": sources[key],
                "environment": config.ENV[key],
            }
            for key in config.ENV
        ],
    }


def check_period(period: str) -> str:
    if pl.select(pl.lit(period).str.contains(PERIOD_PATTERN)).item() is not True:
        raise InputError(f"period {period!r} is not a month: write it as YYYY-MM, for example 2026-10.")
    return period


SEVERITIES = tuple(sorted(SEVERITY_RANK, key=SEVERITY_RANK.__getitem__))  # critical first
OPEN_STATUSES = ("new", "acknowledged")
STATUSES = (*OPEN_STATUSES, "resolved")


def default_out(period: str) -> Path:
    """Where `reconcile` writes when --out is not given: <output_dir>/<period>."""
    return settings().output_dir / check_period(period)
