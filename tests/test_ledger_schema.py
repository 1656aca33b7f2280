"""Connecting, migrating, connection settings and concurrent writers."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path

import polars as pl
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from blake3 import blake3
from sqlalchemy import column, insert, inspect, table, text
from test_ledger_factories import loaded, orders

from disburse.errors import LedgerError
from disburse.fixtures.dialects import write_orders
from disburse.ledger import BatchReceipt, Ledger, audit, bulk, segments
from disburse.ledger.digest import content_digest
from disburse.ledger.engine import make_engine, write_transaction
from disburse.ledger.migrate import alembic_config, current_revision, head_revision
from disburse.ledger.models import Base
from disburse.loaders.orders import load_orders
from disburse.loaders.parse import ward_codes
from disburse.schema import ORDER_SCHEMA, conform

P = "2026-10"


def test_upgrade_is_idempotent_and_matches_the_models(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the packaged alembic.ini and scripts are found without the repository
    ledger = Ledger.connect(database_url)
    assert current_revision(ledger.engine) is None
    ledger.upgrade()
    ledger.upgrade()
    assert current_revision(ledger.engine) == head_revision(ledger.engine) is not None
    with ledger.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == []
    ledger.close()


def test_connect_uses_the_environment_then_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISBURSE_DATABASE_URL", raising=False)
    with Ledger.connect() as ledger:
        ledger.upgrade()
    assert (tmp_path / "disburse.db").exists()
    monkeypatch.setenv("DISBURSE_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    with Ledger.connect() as ledger:
        ledger.upgrade()
    assert (tmp_path / "other.db").exists()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-dir/deeper/ledger.db",
        "postgresql+psycopg://nobody:secret@127.0.0.1:1/none?connect_timeout=2",
        "notadb://x",
    ],
)
def test_an_unreachable_database_is_one_sentence(url: str) -> None:
    with pytest.raises(LedgerError) as refused:
        Ledger.connect(url)
    message = str(refused.value)
    assert "\n" not in message and message.endswith(".")
    assert "secret" not in message


def test_sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys(sqlite_url: str) -> None:
    with Ledger.connect(sqlite_url) as ledger:
        ledger.upgrade()
        with ledger.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5_000


def test_a_ledger_being_switched_to_wal_by_another_process_is_waited_for(tmp_path: Path) -> None:
    """SQLite answers "database is locked" at once, busy timeout or not, to a connection that asks for WAL
    while another holds a write lock on a ledger not yet in WAL (two ``init``s of a new ledger at once):
    opening the ledger waits for the lock instead of failing."""
    path = tmp_path / "ledger.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    try:
        with make_engine(f"sqlite:///{path}").connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    finally:
        release.join()
        other.close()


def _import_in_child(url: str, start: object) -> BatchReceipt:
    start.wait()  # type: ignore[attr-defined]
    ledger = Ledger.connect(url)
    try:
        return ledger.import_batch(
            "orders",
            loaded(orders(P, n=2000), "same.csv"),
            province_code="79",
            period=P,
            user=f"p{os.getpid()}",
        )
    finally:
        ledger.close()


def test_two_processes_importing_the_same_file_make_one_batch(ledger: Ledger, database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(4)
    with context.Pool(4) as pool:
        receipts = pool.starmap(_import_in_child, [(database_url, start)] * 4)
    assert sorted(r.created for r in receipts) == [False, False, False, True]
    assert len({r.batch_id for r in receipts}) == 1
    assert ledger.batches().height == 1
    assert ledger.verify() == []


def _upgrade_in_child(url: str) -> None:
    with Ledger.connect(url) as ledger:
        ledger.upgrade()


def test_concurrent_upgrades_both_succeed(database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        pool.map(_upgrade_in_child, [database_url] * 2)
    ledger = Ledger.connect(database_url)
    assert current_revision(ledger.engine) == head_revision(ledger.engine)
    ledger.close()


def _record_in_child(url: str, start: object) -> int:
    from test_ledger_factories import outcome, result

    start.wait()  # type: ignore[attr-defined]
    with Ledger.connect(url) as ledger:
        inp, ids = ledger.reconcile_input(P, {})
        res = result(P, [outcome(row, "OPEN", unpaid_own=True) for row in inp.orders.to_dicts()])
        return ledger.record_run(P, {"tolerance": 0}, ids, res, user=f"p{os.getpid()}").run_id


def test_two_processes_recording_the_same_run_make_one_run(ledger: Ledger, database_url: str) -> None:
    ledger.import_batch("orders", loaded(orders(P, n=50), "o.csv"), province_code="79", period=P, user="t")
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(3)
    with context.Pool(3) as pool:
        run_ids = pool.starmap(_record_in_child, [(database_url, start)] * 3)
    assert len(set(run_ids)) == 1
    assert ledger.latest_run(P) == run_ids[0]
    assert ledger.balances(P)["balance_vnd"].sum() == 0
    assert ledger.verify() == []


# The batch table as revisions 0001 and 0002 left it (the models are at the latest revision).
_BATCH_BEFORE_0003 = table(
    "batch",
    *[
        column(name)
        for name in (
            "id", "kind", "sha256", "sha256_epoch", "content_digest", "province_code", "period",
            "first_period", "last_period", "source_name", "line_count", "imported_at", "imported_by",
        )
    ],
)  # fmt: skip


def test_migration_0002_moves_row_lines_into_segments_and_old_digests_still_verify(database_url: str) -> None:
    """A ledger written at revision 0001 (one row per line): after the upgrade its lines come back equal
    from segments, the row tables are gone, and verify() accepts the digest recorded at import."""
    ledger = Ledger.connect(database_url)
    config = alembic_config(ledger.engine)
    with write_transaction(ledger.engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    frame = conform(orders(P, n=5), ORDER_SCHEMA)
    digest = content_digest(frame, ORDER_SCHEMA)
    with write_transaction(ledger.engine) as conn:
        conn.execute(
            insert(_BATCH_BEFORE_0003).values(
                id=1, kind="orders", sha256="f" * 64, sha256_epoch=0, content_digest=digest,
                province_code="79", period=P, first_period=P, last_period=P, source_name="old.csv",
                line_count=frame.height, imported_at=audit.now_utc(), imported_by="t",
            )
        )  # fmt: skip
        bulk.insert_frame(conn, "order_line", frame, ORDER_SCHEMA, prefix={"batch_id": 1})
        detail = {"kind": "orders", "sha256": "f" * 64, "content_digest": digest, "line_count": frame.height}
        audit.append(conn, actor="t", action="import_batch", subject="batch:1", detail=detail)

    ledger.upgrade()
    with ledger.engine.connect() as conn:
        assert segments.load(conn, "orders", [1]).equals(frame)
        assert "order_line" not in inspect(conn).get_table_names()
    assert ledger.verify() == []
    inp, ids = ledger.reconcile_input(P, {})
    assert ids == [1]
    assert inp.orders.equals(frame)
    ledger.close()


@pytest.mark.tampers_ledger
def test_migration_0003_keeps_sha256_batches_found_and_verified_and_new_ones_are_blake3(
    database_url: str, tmp_path: Path
) -> None:
    """A file imported when files were identified by sha256 (revision 0002): after the upgrade the ledger
    still verifies, the same file imported again is recognised by its sha256 (nothing changes), and a new
    file's batch is identified by BLAKE3, in the batch row and in the audit log."""
    old_file, new_file = tmp_path / "orders-09.csv", tmp_path / "orders-10.csv"
    ward = ward_codes()[0]
    for period, path in (("2026-09", old_file), (P, new_file)):
        write_orders(conform(orders(period, n=4), ORDER_SCHEMA).with_columns(ward_code=pl.lit(ward)), path)
    old = load_orders(old_file)
    ledger = Ledger.connect(database_url)
    config = alembic_config(ledger.engine)
    with write_transaction(ledger.engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    stored = segments.encode("orders", old.frame)
    digest = segments.chain_digest(s.sha256 for s in stored)
    sha256 = hashlib.sha256(old_file.read_bytes()).hexdigest()
    with write_transaction(ledger.engine) as conn:  # what import_batch wrote at revision 0002
        old_id = conn.execute(  # no id given: PostgreSQL's sequence must count this batch
            insert(_BATCH_BEFORE_0003).values(
                kind="orders", sha256=sha256, sha256_epoch=0, content_digest=digest,
                province_code=None, period=None, first_period="2026-09", last_period="2026-09",
                source_name=old_file.name, line_count=old.frame.height, imported_at=audit.now_utc(),
                imported_by="t",
            ).returning(column("id"))
        ).scalar_one()  # fmt: skip
        segments.store(conn, "orders", old_id, stored)
        lines = old.frame.height
        detail = {"kind": "orders", "sha256": sha256, "content_digest": digest, "line_count": lines}
        audit.append(conn, actor="t", action="import_batch", subject=f"batch:{old_id}", detail=detail)

    ledger.upgrade()
    assert ledger.verify() == []
    again = ledger.import_batch("orders", load_orders(old_file), province_code=None, period=None, user="t")
    assert (again.created, again.batch_id) == (False, old_id)
    fresh = load_orders(new_file)
    receipt = ledger.import_batch("orders", fresh, province_code=None, period=None, user="t")
    assert receipt.created
    listed = ledger.batches().select("batch_id", "file_digest", "digest_algo").rows()
    assert listed == [
        (old_id, sha256, "sha256"),
        (receipt.batch_id, blake3(new_file.read_bytes()).hexdigest(), "blake3"),
    ]
    with ledger.engine.connect() as conn:
        recorded = dict(audit.events(conn, "import_batch"))[f"batch:{receipt.batch_id}"]
    assert recorded["blake3"] == listed[1][1] and "sha256" not in recorded
    assert ledger.verify() == []
    with write_transaction(ledger.engine) as conn:  # the digest rewritten: the audit log tells
        conn.execute(text("UPDATE batch SET file_digest = :d WHERE id = :id"), {"d": "0" * 64, "id": old_id})
    assert ledger.verify() == [f"batch {old_id}: its recorded digests differ from the audit log's"]
    ledger.close()
