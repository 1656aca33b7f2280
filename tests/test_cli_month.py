"""A whole month at the command line, as a finance officer runs it: status guides each step, reconcile with
--fail-on, the exceptions followed up by number, the month closed. Counts are checked against the generator's
expected_exceptions.csv (the discrepancies it injected), never against earlier output of the program."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from disburse import pipeline
from disburse.cli import app
from disburse.pipeline import follow_up
from disburse.profile import pilot_provinces
from disburse.schema import SEVERITY, SEVERITY_RANK

runner = CliRunner()
PERIOD = "2026-10"


def invoke(*args: str) -> Result:
    result = runner.invoke(app, list(args), prog_name="disburse")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def ok(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, f"disburse {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result.stdout


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "--json"))


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data")
    pipeline.generate_fixtures(data, period=PERIOD, rows=500, seed=7)
    return data / PERIOD


@pytest.fixture
def officer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """A fresh working folder and ledger (SQLite, and PostgreSQL when available), no config file."""
    for variable in ("DISBURSE_CONFIG", "DISBURSE_USER", "DISBURSE_OUTPUT_DIR", "DISBURSE_PROFILES_DIR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISBURSE_DATABASE_URL", database_url)
    monkeypatch.setenv("DISBURSE_USER", "can.bo.tai.chinh")
    ok("init")
    return tmp_path


def expected(month: Path) -> pl.DataFrame:
    frame = pl.read_csv(month / "expected_exceptions.csv", infer_schema=False)
    return frame.with_columns(pl.col("code").replace_strict(SEVERITY).alias("severity"))


def case_count(frame: pl.DataFrame) -> int:
    """Exception cases the rows make: one per (code, order, payout); a file-level row (neither) is its own."""
    file_level = pl.col("order_id").is_null() & pl.col("payout_id").is_null()
    return frame.filter(~file_level).unique().height + frame.filter(file_level).height


def at_or_above(frame: pl.DataFrame, severity: str) -> pl.DataFrame:
    graver = [s for s, rank in SEVERITY_RANK.items() if rank <= SEVERITY_RANK[severity]]
    return frame.filter(pl.col("severity").is_in(graver))


def provinces(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["province_code"]: row for row in status["provinces"]}


def import_payouts(month: Path) -> None:
    for path in sorted((month / "payouts").iterdir()):
        ok("import", "payouts", str(path), "--province", path.name[:2], "--period", PERIOD)


def test_status_guides_the_month_step_by_step(officer: Path, month: Path) -> None:
    pilots = set(pilot_provinces())
    status = as_json("status", "--period", PERIOD)
    assert set(provinces(status)) == pilots
    assert all(row["missing"] == ["orders", "payout file"] for row in status["provinces"])
    assert status["run"] is None
    assert "disburse import orders" in status["next_steps"][0]

    ok("import", "orders", str(month / "orders.csv"))
    ok("import", "events", str(month / "events.csv"))
    status = as_json("status", "--period", PERIOD)
    orders = pl.read_csv(month / "orders.csv", infer_schema=False)
    per_province = dict(orders.group_by("province_code").len().iter_rows())
    assert {code: row["orders"] for code, row in provinces(status).items()} == per_province
    assert all(row["missing"] == ["payout file"] for row in status["provinces"])
    assert status["events"]["lines"] == pl.read_csv(month / "events.csv").height
    assert any("import payouts" in step for step in status["next_steps"])

    import_payouts(month)
    status = as_json("status", "--period", PERIOD)
    assert all(row["missing"] == [] and row["payout_files"] == 1 for row in status["provinces"])
    assert any("disburse reconcile --period 2026-10" in step for step in status["next_steps"])

    ok("reconcile", "--period", PERIOD, "--out", str(officer / "out"))
    status = as_json("status", "--period", PERIOD)
    assert status["run"]["up_to_date"] is True
    assert all(row["reconciled"] for row in status["provinces"])
    truth = expected(month)
    for severity in ("critical", "high", "warning", "info"):
        found = sum(row[f"open_{severity}"] for row in status["provinces"])
        assert found == case_count(truth.filter(severity=severity).drop("severity")), severity
    table = ok("status", "--period", PERIOD)
    assert "TP Hồ Chí Minh" in table and "next:" in table

    # a file imported after the run makes the run out of date, and status says to reconcile again
    later_events = officer / "events-resent.csv"
    later_events.write_bytes((month / "events.csv").read_bytes() + b"\n")  # other bytes, same lines
    ok("import", "events", str(later_events))
    status = as_json("status", "--period", PERIOD)
    assert status["run"]["up_to_date"] is False
    assert any(step.startswith("Reconcile again") for step in status["next_steps"])


def test_reconcile_fail_on_exits_1_only_at_or_above_the_severity(officer: Path, month: Path) -> None:
    ok("import", "orders", str(month / "orders.csv"))
    ok("import", "events", str(month / "events.csv"))
    import_payouts(month)
    truth = expected(month)
    assert at_or_above(truth, "critical").height > 0, "the generator injects critical discrepancies"

    result = invoke("reconcile", "--period", PERIOD, "--fail-on", "critical")
    assert result.exit_code == 1
    rows = at_or_above(truth, "critical").height
    assert f"{rows} exception(s) at or above critical" in result.stderr
    # without --out the outputs go to <output_dir>/<period>, ./out by default
    written = pl.read_csv(officer / "out" / PERIOD / "exceptions.csv", infer_schema=False)
    key = ["code", "order_id", "payout_id"]
    assert Counter(written.select(key).iter_rows()) == Counter(truth.select(key).iter_rows())

    assert invoke("reconcile", "--period", PERIOD).exit_code == 0, "no --fail-on: exit 0 whatever is found"
    quiet = invoke("reconcile", "--period", PERIOD, "--fail-on", "info", "--quiet")
    assert quiet.exit_code == 1 and quiet.stdout == "" and quiet.stderr == ""
    # --province narrows the outputs, and --fail-on looks at those outputs only
    for code in pilot_provinces():
        mine = written.filter(province_code=code).with_columns(
            pl.col("code").replace_strict(SEVERITY).alias("severity")
        )
        for threshold in ("critical", "info"):
            outcome = invoke(
                "reconcile",
                "--period",
                PERIOD,
                "--province",
                code,
                "--out",
                str(officer / code),
                "--fail-on",
                threshold,
            )
            assert outcome.exit_code == (1 if at_or_above(mine, threshold).height else 0), (code, threshold)


def test_exceptions_lifecycle_by_number(officer: Path, month: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ok("import", "orders", str(month / "orders.csv"))
    ok("import", "events", str(month / "events.csv"))
    import_payouts(month)
    ok("reconcile", "--period", PERIOD)
    truth = expected(month)

    listed = as_json("exceptions", "list", "--period", PERIOD, "--status", "open", "--min-severity", "high")
    assert len(listed) == case_count(at_or_above(truth, "high").drop("severity"))
    assert {r["severity"] for r in listed} <= {"critical", "high"}
    overpaid = as_json("exceptions", "list", "--period", PERIOD, "--code", "overpaid")
    assert sorted(r["order_id"] for r in overpaid) == sorted(truth.filter(code="OVERPAID")["order_id"])

    number = str(overpaid[0]["case_id"])
    shown = as_json("exceptions", "show", number)
    assert shown["case"]["exception_key"] == overpaid[0]["exception_key"]
    assert shown["case"]["status"] == "new" and shown["case"]["in_latest_run"] is True
    assert [r["code"] for r in shown["rows"]] == ["OVERPAID"] and shown["rows"][0]["latest_run"] is True
    assert shown["rows"][0]["paid_vnd"] > shown["rows"][0]["ordered_vnd"]

    assert "acknowledged exception" in ok("exceptions", "ack", number, "--note", "Bưu điện đang thu hồi")
    ok("exceptions", "resolve", overpaid[0]["exception_key"], "--note", "Đã thu hồi, chứng từ số 12")
    shown = as_json("exceptions", "show", number)
    assert [(s["status"], s["changed_by"]) for s in shown["statuses"]] == [
        ("acknowledged", "can.bo.tai.chinh"),
        ("resolved", "can.bo.tai.chinh"),
    ]
    still_open = as_json("exceptions", "list", "--period", PERIOD, "--code", "OVERPAID", "--status", "open")
    assert len(still_open) == len(overpaid) - 1
    table = ok("exceptions", "show", number)
    assert "Đã thu hồi, chứng từ số 12" in table and "Reported by run" in table
    status = provinces(as_json("status", "--period", PERIOD))
    assert status[overpaid[0]["province_code"]]["resolved"] == 1

    # age = days since a run first reported the case; --older-than-days keeps the older ones
    everything = as_json("exceptions", "list", "--period", PERIOD)
    assert len(as_json("exceptions", "list", "--older-than-days", "3")) == 0
    later = pipeline.utc_now() + timedelta(days=5)
    monkeypatch.setattr(follow_up, "utc_now", lambda: later)
    aged = as_json("exceptions", "list", "--period", PERIOD, "--older-than-days", "3")
    assert len(aged) == len(everything) and {r["age_days"] for r in aged} == {5}
    assert as_json("exceptions", "list", "--older-than-days", "6") == []


def test_a_closed_month_and_quiet_reruns(officer: Path, month: Path) -> None:
    ok("import", "orders", str(month / "orders.csv"))
    import_payouts(month)
    ok("reconcile", "--period", PERIOD)
    for code in pilot_provinces():
        ok("close", "--period", PERIOD, "--province", code)
    status = as_json("status", "--period", PERIOD)
    assert all(row["closed"] for row in status["provinces"])
    assert not any("disburse close" in step for step in status["next_steps"])
    # A new run of the closed month is refused, and leaves no output behind: the CSV and workbook written
    # while the run was being recorded are removed with it.
    refused = invoke("reconcile", "--period", PERIOD, "--tolerance-vnd", "5", "--out", "after-close")
    assert refused.exit_code == 2 and "is closed" in refused.output
    assert sorted(p.name for p in (officer / "after-close").iterdir()) == []

    # importing the same bytes again is a no-op, even quietly, and even after the close
    again = invoke("-q", "import", "orders", str(month / "orders.csv"))
    assert again.exit_code == 0 and again.stdout == ""
    said = ok("import", "orders", str(month / "orders.csv"))
    assert said.startswith("already imported, nothing changed")
    assert provinces(as_json("status", "--period", PERIOD)) == provinces(status)

    assert json.loads(ok("ledger", "verify", "--json")) == {"ok": True, "problems": []}
    assert ok("ledger", "verify", "-q") == ""
    beneficiary = pl.read_csv(month / "orders.csv", infer_schema=False)["beneficiary_id"][0]
    history = as_json("history", beneficiary)
    assert {o["beneficiary_id"] for o in history["orders"]} == {beneficiary}


def test_demo_with_progress_off_the_terminal_prints_clean_steps(tmp_path: Path) -> None:
    result = invoke("demo", "--out", str(tmp_path / "demo"), "--rows", "300", "--months", "1")
    assert result.exit_code == 0, result.output
    assert "· generating 1 month(s)" in result.stdout and "Reconciliation" in result.stdout
    assert "\x1b[" not in result.output, "no progress bar or colour codes when the output is not a terminal"
    quiet = invoke("demo", "--out", str(tmp_path / "demo"), "--rows", "300", "--months", "1", "--quiet")
    assert quiet.exit_code == 0 and quiet.stdout == ""


def test_progress_reports_every_step_of_a_reconcile(officer: Path, month: Path) -> None:
    """What the bars are drawn from: each job counts up to its total, in order."""
    seen: list[tuple[str, int, int, str]] = []
    ledger = pipeline.open_ledger()
    pipeline.import_orders(ledger, month / "orders.csv", progress=lambda *step: seen.append(step))
    pipeline.reconcile_period(
        ledger, period=PERIOD, out=officer / "o", progress=lambda *step: seen.append(step)
    )
    by_job: dict[str, list[tuple[int, int]]] = {}
    for job, done, total, _ in seen:
        by_job.setdefault(job, []).append((done, total))
    assert set(by_job) == {"import orders.csv", f"reconcile {PERIOD}"}
    for steps in by_job.values():
        dones = [d for d, _ in steps]
        assert dones == sorted(dones) and steps[-1][0] == steps[-1][1]
    assert any(doing == "writing exceptions.csv" for *_, doing in seen)


def test_more_exceptions_than_a_sheet_holds_give_no_truncated_workbook(
    officer: Path, month: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Excel holds 1,048,575 rows under a header: beyond that the export is left out, said so, never cut."""
    from disburse.reports import xlsx

    ok("import", "orders", str(month / "orders.csv"))
    ok("import", "events", str(month / "events.csv"))
    import_payouts(month)
    monkeypatch.setattr(xlsx, "MAX_DATA_ROWS", 10)  # a sheet of 10 rows stands for Excel's limit
    printed = ok("reconcile", "--period", PERIOD, "--out", "out")
    rows = pl.read_csv(officer / "out" / "exceptions.csv", infer_schema=False).height
    assert rows > 10
    assert not (officer / "out" / "exceptions.xlsx").exists()
    assert f"exceptions.xlsx was not written: {rows:,} exceptions" in " ".join(printed.split())
    # --quiet drops the table, not the warning (on stderr).
    quiet = runner.invoke(app, ["reconcile", "--period", PERIOD, "--out", "quiet-out", "--quiet"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == ""
    assert f"exceptions.xlsx was not written: {rows:,} exceptions" in " ".join(quiet.stderr.split())
