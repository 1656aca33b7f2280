"""Hostile commands: a closed period and a superseded batch cannot be changed by any command path, and the
same orders or payouts cannot be counted twice by importing them again under other bytes.

Every refused command exits 2 with a message saying why, and leaves the ledger exactly as it was (batches,
reversals, runs, journal entries, period events, audit records).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from disburse import pipeline
from disburse.cli import app
from disburse.errors import LedgerError
from disburse.ledger import Ledger
from disburse.ledger.models import AuditLog, BatchReversal, JournalEntry, PeriodEvent, Run

PERIOD = "2026-10"
runner = CliRunner()


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> pipeline.GeneratedFiles:
    [generated] = pipeline.generate_fixtures(
        tmp_path_factory.mktemp("closed-month"), period=PERIOD, rows=200, seed=13
    )
    return generated


def snapshot(ledger: Ledger) -> dict[str, int]:
    with ledger.engine.connect() as conn:
        return {
            model.__tablename__: conn.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (BatchReversal, Run, JournalEntry, PeriodEvent, AuditLog)
        } | {"batch": ledger.batches().height}


def cli(url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("DISBURSE_DATABASE_URL", url)
    result = runner.invoke(app, list(args), prog_name="disburse")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, " ".join(result.output.split())


def variant(path: Path, folder: Path) -> Path:
    """The same lines under other bytes (a trailing blank line): a file the ledger has not seen."""
    copy = folder / f"resent_{path.name}"
    copy.write_bytes(path.read_bytes() + (b"\r\n" if path.suffix in (".csv", ".tsv") else b""))
    return copy


def batch_of(ledger: Ledger, kind: str, province: str | None) -> int:
    batches = ledger.batches().filter(pl.col("kind") == kind, pl.col("status") == "active")
    if province is not None:
        batches = batches.filter(pl.col("province_code") == province)
    return int(batches["batch_id"][0])


@pytest.fixture
def reconciled(ledger: Ledger, month: pipeline.GeneratedFiles, tmp_path: Path) -> Ledger:
    pipeline.import_orders(ledger, month.orders)
    pipeline.import_events(ledger, month.events)
    for code in ("48", "79"):
        pipeline.import_payouts(ledger, month.payouts[code], province=code, period=PERIOD)
    pipeline.reconcile_period(ledger, period=PERIOD, out=tmp_path / "first")
    return ledger


def test_a_closed_period_cannot_be_changed_by_any_command(
    reconciled: Ledger,
    database_url: str,
    month: pipeline.GeneratedFiles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger = reconciled
    code, text = cli(database_url, monkeypatch, "close", "--period", PERIOD, "--province", "79")
    assert code == 0, text
    before = snapshot(ledger)
    payouts_79 = batch_of(ledger, "payouts", "79")
    orders = batch_of(ledger, "orders", None)
    hcm = variant(month.payouts["79"], tmp_path)
    attempts = {
        "another payout file": ["import", "payouts", str(hcm), "--province", "79", "--period", PERIOD],
        "a corrected payout file": [
            "import", "payouts", str(hcm), "--province", "79", "--period", PERIOD,
            "--supersedes", str(payouts_79),
        ],
        "a legacy province code": ["import", "payouts", str(hcm), "--province", "77", "--period", PERIOD],
        "another orders file": ["import", "orders", str(variant(month.orders, tmp_path))],
        "a corrected orders file": [
            "import", "orders", str(variant(month.orders, tmp_path)), "--supersedes", str(orders),
        ],
        "a new run": [
            "reconcile", "--period", PERIOD, "--out", str(tmp_path / "again"), "--tolerance-vnd", "5",
        ],
    }  # fmt: skip
    for what, args in attempts.items():
        exit_code, said = cli(database_url, monkeypatch, *args)
        assert exit_code == 2, f"{what}: {said}"
        assert "closed" in said and "79" in said, f"{what}: {said}"
        assert snapshot(ledger) == before, f"{what} changed the ledger"
    with pytest.raises(LedgerError, match="closed"):
        ledger.reverse_batch(payouts_79, reason="take it out", user="t")
    assert snapshot(ledger) == before

    # What is not a change stays allowed: the same run again, an import of bytes already in the ledger.
    again = ["reconcile", "--period", PERIOD, "--out", str(tmp_path / "x")]
    exit_code, said = cli(database_url, monkeypatch, *again)
    assert exit_code == 0 and "same inputs" in said, said
    exit_code, said = cli(
        database_url, monkeypatch, "import", "payouts", str(month.payouts["79"]), "--province", "79",
        "--period", PERIOD,
    )  # fmt: skip
    assert exit_code == 0 and "already imported" in said, said
    assert snapshot(ledger) == before

    # The close is what refused: once reopened, with a reason, the correction goes through.
    code, text = cli(database_url, monkeypatch, "reopen", "--period", PERIOD, "--province", "79",
                     "--reason", "Bưu điện gửi lại tệp đã sửa")  # fmt: skip
    assert code == 0, text
    exit_code, said = cli(database_url, monkeypatch, *attempts["a corrected payout file"])
    assert exit_code == 0 and "imported" in said, said
    assert ledger.verify() == []


def test_a_superseded_batch_cannot_be_changed_again(
    reconciled: Ledger,
    database_url: str,
    month: pipeline.GeneratedFiles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger = reconciled
    old = batch_of(ledger, "payouts", "48")
    # an xlsx cannot take a trailing byte: a workbook saved again is other bytes for the same lines
    corrected = _resaved_xlsx(month.payouts["48"], tmp_path, "first correction")
    second = _resaved_xlsx(month.payouts["48"], tmp_path, "second correction")
    base = ["import", "payouts", str(corrected), "--province", "48", "--period", PERIOD]
    exit_code, said = cli(database_url, monkeypatch, *base, "--supersedes", str(old))
    assert exit_code == 0, said
    new = batch_of(ledger, "payouts", "48")
    assert new != old
    before = snapshot(ledger)

    for what, args in {
        "superseding it again": [
            "import", "payouts", str(second), "--province", "48", "--period", PERIOD,
            "--supersedes", str(old),
        ],
        "importing the replaced file again": [
            "import", "payouts", str(month.payouts["48"]), "--province", "48", "--period", PERIOD,
        ],
        "replacing it by its own replacement's bytes": [
            "import", "payouts", str(month.payouts["48"]), "--province", "48", "--period", PERIOD,
            "--supersedes", str(old),
        ],
    }.items():  # fmt: skip
        exit_code, said = cli(database_url, monkeypatch, *args)
        assert exit_code == 2, f"{what}: {said}"
        assert snapshot(ledger) == before, f"{what} changed the ledger"
    with pytest.raises(LedgerError, match="already reversed"):
        ledger.reverse_batch(old, reason="again", user="t")
    assert snapshot(ledger) == before
    inp, _ = ledger.reconcile_input(PERIOD, {})
    assert inp.payouts.filter(pl.col("province_code") == "48")["payout_id"].is_unique().all()
    assert ledger.verify() == []


def _resaved_xlsx(path: Path, folder: Path, note: str) -> Path:
    """The same sheet saved again with a note in its properties: same lines, other bytes."""
    import zipfile

    target = folder / f"{note.replace(' ', '_')}_{path.name}"
    end = b"</cp:coreProperties>"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = data.replace(end, f"<dc:description>{note}</dc:description>".encode() + end)
            copy.writestr(item.filename, data)
    assert target.read_bytes() != path.read_bytes()
    return target


@pytest.mark.parametrize("form", ["parquet", "xlsx"])
def test_the_same_orders_in_another_format_are_refused_not_counted_twice(
    ledger: Ledger, month: pipeline.GeneratedFiles, tmp_path: Path, form: str
) -> None:
    from disburse.fixtures.dialects import write_orders
    from disburse.loaders.orders import load_orders

    pipeline.import_orders(ledger, month.orders)
    before = snapshot(ledger)
    again = tmp_path / f"orders.{form}"
    write_orders(load_orders(month.orders).frame, again)
    with pytest.raises(LedgerError, match=r"count twice.*--supersedes 1"):
        pipeline.import_orders(ledger, again)
    assert snapshot(ledger) == before
    # As a correction it is accepted, and the period's orders are still counted once.
    pipeline.import_orders(ledger, again, supersedes=1)
    inp, _ = ledger.reconcile_input(PERIOD, {})
    assert inp.orders["order_id"].is_unique().all()
    assert inp.orders.height == load_orders(month.orders).frame.height
