"""The bulk path: frames into and out of the database without ORM objects.

SQLite: ``executemany`` on the raw sqlite3 connection, inside the caller's transaction, with one tuple per
row built from whole columns (``Series.to_list`` + ``zip``: no per-row Python beyond the tuple itself).
PostgreSQL: ``COPY ... FROM STDIN`` fed with CSV that polars writes in Rust.
Reading: ``COPY ... TO STDOUT`` parsed by polars on PostgreSQL; on SQLite the raw cursor's rows go into
polars frames of the declared schema chunk by chunk.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import Connection, text

from disburse.ledger.codec import from_storage, to_storage
from disburse.schema import Schema

# Rows per executemany / COPY chunk: bounds the memory of the Python tuples (or CSV text) alive at once.
CHUNK_ROWS = 200_000


def insert_frame(
    conn: Connection,
    table: str,
    frame: pl.DataFrame,
    schema: Schema,
    *,
    prefix: Mapping[str, int] | None = None,
    line_no: str | None = "line_no",
) -> int:
    """Insert ``frame`` (canonical ``schema``) into ``table``; ``prefix`` columns get one value for all rows
    (e.g. batch_id) and ``line_no`` numbers the rows from 1 in frame order. Returns the row count."""
    stored = to_storage(frame, schema)
    prefix = dict(prefix or {})
    columns = [*prefix, *([line_no] if line_no else []), *stored.columns]
    if stored.height == 0:
        return 0
    if conn.dialect.name == "postgresql":
        _copy_in(conn, table, columns, stored, prefix, line_no)
    else:
        _executemany(conn, table, columns, stored, prefix, line_no)
    return stored.height


def _executemany(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    stored: pl.DataFrame,
    prefix: Mapping[str, int],
    line_no: str | None,
) -> None:
    # ISO text for dates: what SQLAlchemy's Date writes into SQLite, without the sqlite3 module's
    # deprecated (and slow, per value) date adapter.
    stored = stored.with_columns(pl.col(pl.Date).dt.to_string("%Y-%m-%d"))
    # The prefix (batch_id / run_id) is the same on every row: an integer literal in the statement rather
    # than a parameter bound a million times.
    literals = [str(int(value)) for value in prefix.values()]
    placeholders = literals + ["?"] * (len(columns) - len(literals))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(placeholders)})"
    raw: Any = conn.connection.driver_connection
    cursor = raw.cursor()
    try:
        for offset in range(0, stored.height, CHUNK_ROWS):
            chunk = stored.slice(offset, CHUNK_ROWS)
            numbers = [range(offset + 1, offset + chunk.height + 1)] if line_no else []
            values = [chunk.get_column(name).to_list() for name in chunk.columns]
            cursor.executemany(sql, zip(*numbers, *values, strict=False))
    finally:
        cursor.close()


def _copy_in(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    stored: pl.DataFrame,
    prefix: Mapping[str, int],
    line_no: str | None,
) -> None:
    extra: list[pl.Expr] = [pl.lit(value, dtype=pl.Int64).alias(name) for name, value in prefix.items()]
    if line_no:
        extra.append(pl.int_range(1, stored.height + 1, dtype=pl.Int64).alias(line_no))
    full = stored.with_columns(extra).select(columns)
    # CSV's own null: an unquoted empty field; every text is quoted, so an empty text stays "".
    copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for offset in range(0, full.height, CHUNK_ROWS):
            chunk = full.slice(offset, CHUNK_ROWS)
            copy.write(chunk.write_csv(include_header=False, null_value="", quote_style="non_numeric"))


def read_frame(
    conn: Connection,
    query: str,
    schema: Schema,
    params: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """Run ``query`` (its columns named as in ``schema``) and return a canonical frame."""
    params = dict(params or {})
    if conn.dialect.name == "postgresql":
        raw = _read_copy(conn, query, params, schema)
    else:
        raw = _read_sqlite(conn, query, params, schema)
    return from_storage(raw, schema)


def _sqlite_dtype(dtype: pl.DataType) -> pl.DataType:
    # How SQLite hands the value back: lists are comma-joined text, dates ISO text, booleans 0/1.
    if isinstance(dtype, (pl.List, pl.Date)):
        return pl.String()
    if isinstance(dtype, pl.Boolean):
        return pl.Int64()
    return dtype


def _read_sqlite(conn: Connection, query: str, params: Mapping[str, Any], schema: Schema) -> pl.DataFrame:
    """Rows from the raw sqlite3 cursor (same transaction) into frames of a declared schema, by chunk.

    Not ``polars.read_database``: given a SQLAlchemy connection it probes for asyncio support (needs
    greenlet, not a dependency), and given the sqlite3 one it infers types row by row; building each chunk
    against the declared schema measured 20-35 % faster and bounds the Python rows alive at once.
    """
    loose = {name: _sqlite_dtype(dtype) for name, dtype in schema.items()}
    raw: Any = conn.connection.driver_connection
    cursor = raw.execute(query, params)
    try:
        chunks = []
        while rows := cursor.fetchmany(CHUNK_ROWS):
            chunks.append(pl.DataFrame(rows, schema=loose, orient="row"))
    finally:
        cursor.close()
    return pl.concat(chunks) if chunks else pl.DataFrame(schema=loose)


def _read_copy(conn: Connection, query: str, params: Mapping[str, Any], schema: Schema) -> pl.DataFrame:
    # COPY takes no bind parameters: let psycopg render them client-side into the statement text.
    raw: Any = conn.connection.driver_connection
    compiled = (
        text(query).bindparams(**params).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    )
    # FORCE_QUOTE *: every value quoted, so only a null is an unquoted empty field (polars' null by default).
    copy_sql = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, HEADER true, FORCE_QUOTE *)"
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for block in copy:
            buffer.write(block)
    read_schema: dict[str, pl.DataType] = {}
    for name, dtype in schema.items():
        if isinstance(dtype, pl.List):
            read_schema[name] = pl.String()
        elif isinstance(dtype, pl.Boolean):
            read_schema[name] = pl.String()  # PostgreSQL writes t / f
        else:
            read_schema[name] = dtype
    buffer.seek(0)
    frame = pl.read_csv(
        buffer,
        schema=read_schema,
        try_parse_dates=False,
    )
    booleans = [name for name, dtype in schema.items() if isinstance(dtype, pl.Boolean)]
    if booleans:
        frame = frame.with_columns(
            pl.col(name).replace_strict({"t": True, "f": False}, default=None, return_dtype=pl.Boolean)
            for name in booleans
        )
    return frame
