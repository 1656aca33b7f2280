"""Every error a user can cause ends in exit code 2 and one clear message naming what is wrong and what to
do, on stderr, never a traceback; and the ledger is left as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from disburse import pipeline
from disburse.cli import app

runner = CliRunner()
PERIOD = "2026-10"


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    result = runner.invoke(app, list(args), prog_name="disburse", env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def refused(*args: str, says: tuple[str, ...], env: dict[str, str | None] | None = None) -> str:
    """The command exits 2 with one `error:` message holding every fragment of ``says``; returns it."""
    result = invoke(*args, env=env)
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    assert "Traceback" not in result.output
    assert result.stdout == "", "nothing half-done is reported as done"
    message = result.stderr.strip()
    assert message.startswith("error: "), message
    assert sum(line.startswith("error:") for line in message.splitlines()) == 1, message
    for fragment in says:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data")
    pipeline.generate_fixtures(data, period=PERIOD, rows=300, seed=3)
    return data / PERIOD


@pytest.fixture
def ledger_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for variable in ("DISBURSE_CONFIG", "DISBURSE_USER", "DISBURSE_OUTPUT_DIR", "DISBURSE_PROFILES_DIR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISBURSE_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    assert invoke("init").exit_code == 0
    return tmp_path


def batches() -> int:
    return pipeline.open_ledger().batches().height


# --- files --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["orders", "events", "payouts"])
def test_missing_file(ledger_env: Path, kind: str) -> None:
    missing = ledger_env / "nowhere" / f"{kind}.csv"
    extra = ["--province", "79", "--period", PERIOD] if kind == "payouts" else []
    refused("import", kind, str(missing), *extra, says=(str(missing), "not found", "check the path"))


def test_a_folder_instead_of_a_file(ledger_env: Path, month: Path) -> None:
    refused("import", "orders", str(month), says=(str(month), "is a folder", "file inside it"))


def test_unreadable_bytes(ledger_env: Path, month: Path) -> None:
    workbook = ledger_env / "48_danang_2026-10.xlsx"
    workbook.write_bytes(b"PK\x03\x04 this is not a workbook" * 20)
    refused(
        "import",
        "payouts",
        str(workbook),
        "--province",
        "48",
        "--period",
        PERIOD,
        says=(workbook.name, "not a readable XLSX workbook"),
    )
    latin = ledger_env / "orders.csv"
    latin.write_bytes((month / "orders.csv").read_bytes().decode("utf-8").encode("utf-16"))
    message = refused("import", "orders", str(latin), says=(latin.name,))
    assert "utf" in message.lower() or "header" in message
    assert batches() == 0


def test_payout_file_of_another_province(ledger_env: Path, month: Path) -> None:
    lamdong = next((month / "payouts").glob("68_lamdong_*.csv"))
    refused(
        "import",
        "payouts",
        str(lamdong),
        "--province",
        "79",
        "--period",
        PERIOD,
        says=(str(lamdong), "lamdong format of province 68", "not in the hcm format", "--province 68"),
    )
    danang = next((month / "payouts").glob("48_danang_*.xlsx"))
    refused(
        "import",
        "payouts",
        str(danang),
        "--province",
        "19",
        "--period",
        PERIOD,
        says=("danang format of province 48", "--province 48"),
    )
    assert batches() == 0


def test_an_orders_file_imported_as_payouts_and_back(ledger_env: Path, month: Path) -> None:
    orders = month / "orders.csv"
    refused(
        "import",
        "payouts",
        str(orders),
        "--province",
        "79",
        "--period",
        PERIOD,
        says=("an orders file", f"disburse import orders {orders}"),
    )
    danang = next((month / "payouts").glob("48_danang_*.xlsx"))
    refused("import", "events", str(danang), says=("payout result file", "--province 48"))
    hcm = next((month / "payouts").glob("79_hcm_*.csv"))
    refused("import", "orders", str(hcm), says=("hcm format of province 79", "not an orders file"))


def test_unknown_province_and_dialect(ledger_env: Path, month: Path) -> None:
    hcm = next((month / "payouts").glob("79_hcm_*.csv"))
    refused(
        "import",
        "payouts",
        str(hcm),
        "--province",
        "01",
        "--period",
        PERIOD,
        says=("'01'", "79", "48"),
    )
    refused(
        "import",
        "payouts",
        str(hcm),
        "--province",
        "79",
        "--period",
        PERIOD,
        "--dialect",
        "hanoi",
        says=("unknown dialect 'hanoi'", "hcm", "lamdong"),
    )
    refused("close", "--period", PERIOD, "--province", "99", says=("'99'", "known codes"))


def test_bad_period(ledger_env: Path, month: Path) -> None:
    hcm = next((month / "payouts").glob("79_hcm_*.csv"))
    refused(
        "import",
        "payouts",
        str(hcm),
        "--province",
        "79",
        "--period",
        "10/2026",
        says=("'10/2026'", "YYYY-MM"),
    )
    refused("status", "--period", "2026-13", says=("'2026-13'", "YYYY-MM"))


# --- the ledger's rules -------------------------------------------------------------------------------------


def test_closed_period_refuses_imports_and_runs(ledger_env: Path, month: Path) -> None:
    assert invoke("import", "orders", str(month / "orders.csv")).exit_code == 0
    assert invoke("close", "--period", PERIOD, "--province", "79").exit_code == 0
    hcm = next((month / "payouts").glob("79_hcm_*.csv"))
    refused(
        "import",
        "payouts",
        str(hcm),
        "--province",
        "79",
        "--period",
        PERIOD,
        says=(hcm.name, f"period {PERIOD} is closed for province 79", "reopen"),
    )
    refused("reconcile", "--period", PERIOD, says=("closed for province 79", "reopen"))
    refused(
        "reopen",
        "--period",
        PERIOD,
        "--province",
        "48",
        "--reason",
        "x",
        says=("not closed",),
    )


def test_duplicate_import_is_a_no_op_with_exit_0(ledger_env: Path, month: Path) -> None:
    """*Decision*: the same bytes again are not an error (a script may retry); nothing changes and the
    message names the batch that holds them."""
    first = invoke("import", "orders", str(month / "orders.csv"))
    assert first.exit_code == 0
    before = batches()
    again = invoke("import", "orders", str(month / "orders.csv"))
    assert again.exit_code == 0
    assert again.stdout.startswith("already imported, nothing changed") and "batch 1" in again.stdout
    copy = ledger_env / "copy-of-orders.csv"
    shutil.copyfile(month / "orders.csv", copy)
    assert "already imported" in invoke("import", "orders", str(copy)).stdout, "the bytes count, not the name"
    assert batches() == before


def test_period_without_orders(ledger_env: Path, month: Path) -> None:
    hcm = next((month / "payouts").glob("79_hcm_*.csv"))
    assert invoke("import", "payouts", str(hcm), "--province", "79", "--period", PERIOD).exit_code == 0
    refused(
        "reconcile", "--period", PERIOD, says=(f"no orders are imported for period {PERIOD}", "import orders")
    )
    assert not (ledger_env / "out").exists(), "no empty output folder is left behind"


def test_exceptions_that_do_not_exist_and_bad_filters(ledger_env: Path) -> None:
    refused("exceptions", "show", "999", says=("no exception number 999", "exceptions list"))
    refused("exceptions", "ack", "OVERPAID|2026-10|79|x|y|", "--note", "n", says=("no exception",))
    refused("exceptions", "list", "--severity", "urgent", says=("'urgent'", "critical, high, warning, info"))
    refused("exceptions", "list", "--code", "STOLEN", says=("'STOLEN'", "OVERPAID"))
    refused("exceptions", "list", "--status", "done", says=("'done'", "open"))
    refused("exceptions", "list", "--older-than-days", "-1", says=("cannot be negative",))
    refused("reconcile", "--period", PERIOD, "--fail-on", "severe", says=("'severe'", "critical"))


def test_output_folder_that_cannot_be_made(ledger_env: Path, month: Path) -> None:
    assert invoke("import", "orders", str(month / "orders.csv")).exit_code == 0
    blocker = ledger_env / "a-file"
    blocker.write_text("not a folder")
    refused(
        "reconcile",
        "--period",
        PERIOD,
        "--out",
        str(blocker / "2026-10"),
        says=(str(blocker / "2026-10"), "cannot be created", "another --out"),
    )
    assert pipeline.open_ledger().latest_run(PERIOD) is None, "refused before the run is recorded"


def test_demo_does_not_empty_a_folder_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "report.docx").write_text("keep me")
    refused("demo", "--out", str(precious), "--rows", "100", says=(str(precious), "choose a new --out"))
    assert (precious / "report.docx").read_text() == "keep me"


# --- the database -------------------------------------------------------------------------------------------


def test_database_server_that_cannot_be_reached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # env= rather than monkeypatch: the URL is gone again when the test ends, so the after-test ledger check
    # (conftest) has nothing unreachable to open.
    env: dict[str, str | None] = {"DISBURSE_DATABASE_URL": "postgresql+psycopg://nobody:secret@127.0.0.1:1/x"}
    message = refused(
        "status",
        "--period",
        PERIOD,
        env=env,
        says=("Cannot reach the ledger database", "127.0.0.1:1", "server is running"),
    )
    assert "secret" not in message, "the password is never printed"


def test_missing_and_uninitialised_sqlite_ledgers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISBURSE_CONFIG", raising=False)
    missing = tmp_path / "elsewhere.db"
    monkeypatch.setenv("DISBURSE_DATABASE_URL", f"sqlite:///{missing}")
    refused("status", "--period", PERIOD, says=(f"no ledger at {missing}", "disburse init"))
    assert not missing.exists(), "a read never creates an empty ledger"
    missing.touch()  # a file that is there but was never initialised
    refused("exceptions", "list", says=("no tables yet", "disburse init"))
    refused("history", "79-NCC-0000001", says=("no tables yet", "disburse init"))
    nowhere: dict[str, str | None] = {"DISBURSE_DATABASE_URL": f"sqlite:///{tmp_path / 'no-dir' / 'l.db'}"}
    refused("init", env=nowhere, says=("Cannot reach the ledger database", "folder exists"))
    refused("init", env={"DISBURSE_DATABASE_URL": "mysqlish://x"}, says=("'mysqlish://x' is not usable",))
