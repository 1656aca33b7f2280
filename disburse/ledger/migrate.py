"""Alembic, driven from the installed package (no repository checkout needed to migrate)."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from disburse.ledger.engine import write_transaction


def alembic_config(engine: Engine) -> Config:
    package = resources.files("disburse.ledger")
    config = Config(str(package / "alembic.ini"))
    config.set_main_option("script_location", str(package / "migrations"))
    # "%" is ConfigParser interpolation: escape it (URL-encoded passwords contain it).
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine) -> None:
    """``alembic upgrade head`` inside the ledger's write lock, so concurrent ``init``s run it once."""
    config = alembic_config(engine)
    with write_transaction(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
