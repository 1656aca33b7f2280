"""The command line as a new user meets it: help, and errors that say what to do without a traceback."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from disburse.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), prog_name="disburse")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


def test_help_lists_the_month_in_order() -> None:
    code, text = run("--help")
    assert code == 0
    for command in ("init", "import", "reconcile", "fixtures", "demo"):
        assert command in text


@pytest.mark.parametrize(
    "args",
    [
        ("init",),
        ("import", "orders", "--help"),
        ("import", "payouts", "--help"),
        ("reconcile", "--help"),
        ("fixtures", "generate", "--help"),
        ("demo", "--help"),
    ],
)
def test_every_command_help_has_an_example(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    if args[-1] != "--help":
        args = (*args, "--help")
    code, text = run(*args)
    assert code == 0
    example = text.split("Example:", 1)[1].split()
    assert example[:2] == ["disburse", args[0]], text


@pytest.fixture
def ledger_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DISBURSE_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    code, text = run("init")
    assert code == 0, text
    return tmp_path


def test_missing_file_is_one_clear_sentence(ledger_env: Path) -> None:
    missing = ledger_env / "nowhere" / "orders.csv"
    code, text = run("import", "orders", str(missing))
    assert code == 2
    assert str(missing) in text
    assert "Traceback" not in text


def test_bad_period_is_refused(ledger_env: Path) -> None:
    code, text = run("reconcile", "--period", "2026-13", "--out", str(ledger_env / "out"))
    assert code == 2
    assert "2026-13" in text and "YYYY-MM" in text


def test_unknown_province_names_the_known_ones(ledger_env: Path) -> None:
    payouts = ledger_env / "p.csv"
    payouts.write_text("x\n", encoding="utf-8")
    code, text = run("import", "payouts", str(payouts), "--province", "01", "--period", "2026-10")
    assert code == 2
    assert "'01'" in text and "79" in text


def test_period_without_orders_says_what_to_import(ledger_env: Path) -> None:
    code, text = run("reconcile", "--period", "2026-10", "--out", str(ledger_env / "out"))
    assert code == 2
    assert "no orders" in text and "import orders" in text


def test_a_scripted_month_with_follow_up(ledger_env: Path) -> None:
    """Generate, import, reconcile, then acknowledge and resolve, close and reopen, verify."""
    data = ledger_env / "data"
    code, text = run("fixtures", "generate", "--out", str(data), "--period", "2026-10", "--rows", "500")
    assert code == 0, text
    month = data / "2026-10"
    assert run("import", "orders", str(month / "orders.csv"))[0] == 0
    assert run("import", "events", str(month / "events.csv"))[0] == 0
    for payout_file in sorted((month / "payouts").iterdir()):
        province = payout_file.name.split("_", 1)[0]
        code, text = run("import", "payouts", str(payout_file), "--province", province, "--period", "2026-10")
        assert code == 0, text
    code, text = run("reconcile", "--period", "2026-10", "--out", str(ledger_env / "out"))
    assert code == 0, text

    code, text = run("exceptions", "list", "--period", "2026-10", "--code", "OVERPAID", "--json")
    assert code == 0, text
    listed = json.loads(text)
    expected = pl.read_csv(month / "expected_exceptions.csv", infer_schema=False).filter(code="OVERPAID")
    assert sorted(r["order_id"] for r in listed) == sorted(expected["order_id"].to_list())
    first, second = listed[0]["exception_key"], listed[1]["exception_key"]
    assert run("exceptions", "ack", first, "--note", "Bưu điện đang thu hồi")[0] == 0
    assert run("exceptions", "resolve", second, "--note", "Đã thu hồi, chứng từ số 12")[0] == 0
    code, text = run("exceptions", "list", "--period", "2026-10", "--code", "OVERPAID", "--json")
    status = {r["exception_key"]: (r["status"], r["note"]) for r in json.loads(text)}
    assert status[first] == ("acknowledged", "Bưu điện đang thu hồi")
    assert status[second] == ("resolved", "Đã thu hồi, chứng từ số 12")

    assert run("close", "--period", "2026-10", "--province", "79")[0] == 0
    # a new run (other parameters) of a closed period is refused
    code, text = run(
        "reconcile", "--period", "2026-10", "--out", str(ledger_env / "again"), "--tolerance-vnd", "5"
    )
    assert code == 2 and "closed" in text and "Traceback" not in text
    code, text = run("reopen", "--period", "2026-10", "--province", "79", "--reason", "tệp sửa lại")
    assert code == 0, text
    code, text = run(
        "reconcile", "--period", "2026-10", "--out", str(ledger_env / "again"), "--tolerance-vnd", "5"
    )
    assert code == 0, text
    code, text = run("ledger", "verify")
    assert code == 0 and "verified" in text


def test_a_file_with_a_bad_row_is_refused_whole(ledger_env: Path) -> None:
    data = ledger_env / "data"
    assert run("fixtures", "generate", "--out", str(data), "--period", "2026-10", "--rows", "500")[0] == 0
    source = next((data / "2026-10" / "payouts").glob("68_lamdong_*.csv"))
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    amount_at = rows[0].index("SoTien")
    rows[3][amount_at] = f"-{rows[3][amount_at]}"
    bad = ledger_env / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    code, text = run("import", "payouts", str(bad), "--province", "68", "--period", "2026-10")
    assert code == 2
    assert str(bad) in text and "row 4" in text and "SoTien" in text and rows[3][amount_at] in text
    assert "nothing of the file was imported" in text
    code, text = run("history", "--json", rows[3][2])
    assert code == 0
    assert json.loads(text)["payouts"] == []
