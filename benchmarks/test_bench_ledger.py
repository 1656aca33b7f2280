"""Ledger bulk insert into SQLite against a bare ``sqlite3`` ``executemany`` of the same rows.

Rows from ``BENCH_LEDGER_ROWS`` (default 1_000_000). Group ``ledger:sqlite-insert`` holds:

- ``bare_executemany``: the rows already as Python tuples, one ``executemany`` in one transaction into a
  table of one row per line (key (batch_id, line_no), the payout columns; the ledger's layout before
  migration 0002) in the same kind of ledger file, same pragmas: the floor for the sqlite3 module.
- ``ledger_bulk_path``: ``segments.encode`` + ``segments.store`` from the canonical polars frame.
- ``ledger_import_batch``: the whole ``Ledger.import_batch`` (checks, batch row, audit entry too).

Each benchmark records ``lines_per_s`` in ``extra_info``; the ledger ones also ``ratio_to_bare`` (their
lines/s over the bare one's, measured in the same session). Group ``ledger:postgres-copy`` times the same
bulk path through COPY when ``DISBURSE_TEST_POSTGRES_URL`` is set. Run:

    BENCH_LEDGER_ROWS=1000000 .venv/bin/pytest benchmarks/test_bench_ledger.py --benchmark-only -s
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from blake3 import blake3
from pytest_benchmark.fixture import BenchmarkFixture
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from disburse.ledger import Ledger, segments
from disburse.ledger.engine import write_transaction
from disburse.loaders.model import LoadedPayouts
from disburse.schema import CONTROL_TOTAL_SCHEMA, PAYOUT_SCHEMA, REJECT_SCHEMA, empty

ROWS = int(os.environ.get("BENCH_LEDGER_ROWS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_LEDGER_ROUNDS", "3"))
GROUP = "ledger:sqlite-insert"
STATUSES = ["PAID", "PAID", "PAID", "PAID_PROXY", "PAID_HOME", "UNPAID_ABSENT", "UNPAID_MOVED"]
NAMES = ["Nguyễn Văn An", "Trần Thị Hoà", "Lê Đức Thịnh", "Phạm Thị Ễnh", "Đặng Quốc Việt"]
MEDIANS: dict[str, float] = {}


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    """ROWS canonical payout lines of province 79, built column-wise."""
    i = pl.int_range(0, ROWS, dtype=pl.Int64, eager=True)
    base = pl.DataFrame({"i": i}).with_columns(
        status=pl.Series(STATUSES).gather(i % len(STATUSES)),
        name=pl.Series(NAMES).gather(i % len(NAMES)) + " " + (i % 997).cast(pl.String),
    )
    paid = pl.col("status").str.starts_with("PAID")
    return base.select(
        pl.lit("79").alias("province_code"),
        pl.lit("2026-10").alias("period"),
        pl.format("GD{}", pl.col("i").cast(pl.String).str.zfill(9)).alias("payout_id"),
        pl.format("79-202610-{}", pl.col("i").cast(pl.String).str.zfill(7)).alias("order_ref"),
        pl.format("79-NCC-{}", pl.col("i").cast(pl.String).str.zfill(7)).alias("beneficiary_id"),
        (pl.col("i") + 1_000_000_000).cast(pl.String).str.zfill(12).alias("national_id"),
        pl.col("name").alias("full_name"),
        pl.when(paid).then(500_000 + (pl.col("i") % 20) * 100_000).otherwise(0).alias("amount_paid_vnd"),
        pl.when(paid).then(6_600).otherwise(0).alias("fee_vnd"),
        pl.when(paid).then(pl.date(2026, 10, 1) + pl.duration(days=pl.col("i") % 10)).alias("paid_on"),
        pl.col("status"),
        pl.when(pl.col("status") == "PAID_PROXY").then(pl.lit("079987654321")).alias("receiver_national_id"),
        pl.format("2{}", (pl.col("i") % 9000 + 1000).cast(pl.String)).alias("ward_code"),
        pl.format("BC{}", (pl.col("i") % 50).cast(pl.String)).alias("post_office_code"),
    ).cast(pl.Schema(PAYOUT_SCHEMA))


class Fresh:
    """A new migrated ledger file per round (setup, not timed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def ledger(self) -> Ledger:
        self.count += 1
        ledger = Ledger.connect(f"sqlite:///{self.folder / f'bench-{self.count}.db'}")
        ledger.upgrade()
        with ledger.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO batch (id, kind, file_digest, digest_algo, digest_epoch, content_digest, "
                "source_name, line_count, imported_at, imported_by) "
                "VALUES (1, 'payouts', 'x', 'blake3', 0, 'x', 'bench', 0, '2026-11-01 00:00:00', 'bench')"
            )
        return ledger


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Fresh]:
    yield Fresh(tmp_path)


def _report(benchmark: BenchmarkFixture, name: str) -> None:
    stats = benchmark.stats
    assert stats is not None
    median: float = stats.stats.median
    MEDIANS[name] = median
    benchmark.extra_info["rows"] = ROWS
    benchmark.extra_info["lines_per_s"] = round(ROWS / median)
    line = f"\n{name}: {ROWS:,} lines, median {median:.2f} s, {ROWS / median:,.0f} lines/s"
    if name.startswith("ledger") and "postgres" not in name and "bare_executemany" in MEDIANS:
        ratio = MEDIANS["bare_executemany"] / median
        benchmark.extra_info["ratio_to_bare"] = round(ratio, 3)
        line += f", {ratio:.2f}x the bare executemany's lines/s"
    print(line)


@pytest.mark.benchmark(group=GROUP)
def test_bare_executemany(benchmark: BenchmarkFixture, frame: pl.DataFrame, fresh: Fresh) -> None:
    columns = ["batch_id", "line_no", *PAYOUT_SCHEMA]
    sql = f"INSERT INTO payout_row ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    rows = [
        (1, n, *row)
        for n, row in enumerate(frame.with_columns(pl.col("paid_on").dt.to_string("%Y-%m-%d")).iter_rows(), 1)
    ]

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        ledger = fresh.ledger()
        path = ledger.engine.url.database
        ledger.close()
        conn = sqlite3.connect(str(path), isolation_level=None)
        for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute(
            "CREATE TABLE payout_row (batch_id INTEGER NOT NULL, line_no INTEGER NOT NULL, "
            f"{', '.join(PAYOUT_SCHEMA)}, PRIMARY KEY (batch_id, line_no))"
        )
        return (conn,), {}

    def insert(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        conn.close()

    benchmark.pedantic(insert, setup=setup, rounds=ROUNDS, iterations=1)  # type: ignore[no-untyped-call]
    _report(benchmark, "bare_executemany")


@pytest.mark.benchmark(group=GROUP)
def test_ledger_bulk_path(benchmark: BenchmarkFixture, frame: pl.DataFrame, fresh: Fresh) -> None:
    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (fresh.ledger(),), {}

    def insert(ledger: Ledger) -> None:
        with write_transaction(ledger.engine) as conn:
            segments.store(conn, "payouts", 1, segments.encode("payouts", frame))
        ledger.close()

    benchmark.pedantic(insert, setup=setup, rounds=ROUNDS, iterations=1)  # type: ignore[no-untyped-call]
    _report(benchmark, "ledger_bulk_path")


@pytest.mark.benchmark(group=GROUP)
def test_ledger_import_batch(benchmark: BenchmarkFixture, frame: pl.DataFrame, fresh: Fresh) -> None:
    loaded = LoadedPayouts(
        Path("bench.csv"),
        blake3(b"bench").hexdigest(),
        frame,
        empty(REJECT_SCHEMA),
        empty(CONTROL_TOTAL_SCHEMA),
    )

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (fresh.ledger(),), {}

    def insert(ledger: Ledger) -> None:
        receipt = ledger.import_batch("payouts", loaded, province_code="79", period="2026-10", user="bench")
        assert receipt.created and receipt.line_count == ROWS
        ledger.close()

    benchmark.pedantic(insert, setup=setup, rounds=ROUNDS, iterations=1)  # type: ignore[no-untyped-call]
    _report(benchmark, "ledger_import_batch")


@pytest.mark.benchmark(group="ledger:postgres-copy")
def test_ledger_bulk_path_postgres(benchmark: BenchmarkFixture, frame: pl.DataFrame) -> None:
    """The same lines through COPY, when DISBURSE_TEST_POSTGRES_URL names a server (else skipped)."""
    admin_url = os.environ.get("DISBURSE_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.skip("DISBURSE_TEST_POSTGRES_URL is not set")
    admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        name = f"disburse_bench_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
        created.append(name)
        ledger = Ledger.connect(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
        ledger.upgrade()
        with ledger.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO batch (id, kind, file_digest, digest_algo, digest_epoch, content_digest, "
                "source_name, line_count, imported_at, imported_by) "
                "VALUES (1, 'payouts', 'x', 'blake3', 0, 'x', 'bench', 0, now(), 'bench')"
            )
        return (ledger,), {}

    def insert(ledger: Ledger) -> None:
        with write_transaction(ledger.engine) as conn:
            segments.store(conn, "payouts", 1, segments.encode("payouts", frame))
        ledger.close()

    try:
        benchmark.pedantic(insert, setup=setup, rounds=ROUNDS, iterations=1)  # type: ignore[no-untyped-call]
        _report(benchmark, "ledger_bulk_path_postgres")
    finally:
        for name in created:
            with admin.connect() as conn:
                # Not FORCE: autovacuum may be busy in the fresh rows; only a plain DROP may stop it.
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()
