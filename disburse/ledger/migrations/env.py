"""Alembic environment: migrates the connection `Ledger.upgrade()` hands over, or a URL given by hand."""

from __future__ import annotations

from alembic import context

from disburse.ledger.engine import make_engine, resolve_url, write_transaction
from disburse.ledger.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: future migrations copy-and-move tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(resolve_url(url))
    try:
        with write_transaction(engine) as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the ledger migrates online only: run `disburse init`")
run_migrations_online()
