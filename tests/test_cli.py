"""The command line as a new user meets it: help, and errors that say what to do without a traceback."""

from __future__ import annotations

from pathlib import Path

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
