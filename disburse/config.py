"""Settings of the command line: environment variables over an optional TOML file over defaults.

The file is ``disburse.toml`` in the working directory, or the file named by ``DISBURSE_CONFIG`` (which must
then exist). It holds top-level keys only::

    database_url = "postgresql+psycopg://officer@db.example/disburse"
    user = "nguyen.van.a"          # recorded in the ledger as who imported, ran, closed
    profiles_dir = "profiles"      # extra province profiles; relative to the file's folder
    output_dir = "reports"         # `reconcile` writes to <output_dir>/<period> when --out is not given

An environment variable wins over the file, so a one-off ``DISBURSE_DATABASE_URL=... disburse status`` needs
no edit of the file. Every value says where it came from (``disburse config show``).
"""

from __future__ import annotations

import getpass
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from disburse.errors import InputError

CONFIG_ENV: Final = "DISBURSE_CONFIG"
CONFIG_FILE: Final = "disburse.toml"
DEFAULT_DATABASE_URL: Final = "sqlite:///disburse.db"

# Setting -> environment variable. DISBURSE_DATABASE_URL and DISBURSE_PROFILES_DIR are also read by the
# ledger and the profiles themselves, so the names are shared, not new.
ENV: Final[dict[str, str]] = {
    "database_url": "DISBURSE_DATABASE_URL",
    "user": "DISBURSE_USER",
    "profiles_dir": "DISBURSE_PROFILES_DIR",
    "output_dir": "DISBURSE_OUTPUT_DIR",
}
DEFAULT = "default"


class Settings(BaseModel):
    """The effective settings. ``user`` None means the login name of the person at the keyboard."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = DEFAULT_DATABASE_URL
    user: str | None = None
    profiles_dir: Path | None = None
    output_dir: Path = Path("out")

    @field_validator("database_url", "user")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value.strip() if value is not None else None

    @field_validator("profiles_dir")
    @classmethod
    def _existing_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{str(value)!r} is not an existing folder")
        return value

    @property
    def effective_user(self) -> str:
        return self.user or getpass.getuser()


@dataclass(frozen=True)
class Effective:
    settings: Settings
    sources: dict[str, str]  # setting -> "default", "environment DISBURSE_…" or the config file's path
    file: Path | None  # the config file read, if any


def config_path(environ: Mapping[str, str], cwd: Path) -> Path | None:
    """The config file to read: DISBURSE_CONFIG (must exist), else ./disburse.toml when present."""
    named = environ.get(CONFIG_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise InputError(
                f"{path}: the config file named by {CONFIG_ENV} does not exist; "
                f"create it or unset {CONFIG_ENV}."
            )
        return path
    local = cwd / CONFIG_FILE
    return local if local.is_file() else None


def _read_file(path: Path) -> dict[str, object]:
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: the config file cannot be read ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: the config file is not UTF-8 text; save it again as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: the config file is not valid TOML ({exc}); correct that line.") from None
    unknown = sorted(set(values) - set(ENV))
    if unknown:
        raise InputError(
            f"{path}: unknown setting {unknown[0]!r} in the config file; the settings are {', '.join(ENV)}."
        )
    if isinstance(values.get("profiles_dir"), str):
        # A relative folder in the file means next to the file, wherever the command runs.
        values["profiles_dir"] = str(path.parent / str(values["profiles_dir"]))
    return values


def load(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Effective:
    """Defaults, overridden by the config file, overridden by the environment; validated."""
    environ = os.environ if environ is None else environ
    path = config_path(environ, cwd or Path.cwd())
    values: dict[str, object] = {}
    sources = dict.fromkeys(ENV, DEFAULT)
    if path is not None:
        for key, value in _read_file(path).items():
            values[key], sources[key] = value, str(path)
    for key, variable in ENV.items():
        if environ.get(variable):
            values[key], sources[key] = environ[variable], f"environment {variable}"
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "?"
        where = sources.get(key, DEFAULT)
        raise InputError(
            f"setting {key} (from {where}) is not valid: {error['msg']}; correct it there."
        ) from None
    return Effective(settings, sources, path)
