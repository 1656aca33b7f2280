"""Crash safety: the real command line, killed with SIGKILL at each stage of an import and of a run.

After the kill the ledger is exactly as before or exactly as after the command (one whole batch or run, or
none), ``verify()`` finds nothing wrong, and running the same command again completes the work once: one
batch, one run, reports whose final names only ever hold complete files.

The stages inside the ledger's transactions are ``disburse.ledger.crashpoints`` (DISBURSE_CRASH_AT). The
report stages kill the process between writing a report under its temporary name and renaming it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from disburse import pipeline
from disburse.cli import app
from disburse.ledger import Ledger
from disburse.ledger.crashpoints import ENV, IMPORT_STAGES, RUN_STAGES
from disburse.ledger.models import AuditLog, JournalEntry, Run

PERIOD = "2026-10"
GENERATED_AT = "2026-11-05T08:00:00"
runner = CliRunner()

# The child: the real CLI; with CRASH_BEFORE_RENAME=<name>, killed when a report of that name is written
# under its temporary name and about to be renamed (pipeline.write_target).
CHILD = """
import os, pathlib, signal, sys
stage = os.environ.get("CRASH_BEFORE_RENAME")
rename = pathlib.Path.replace
def replace(self, target):
    if stage and pathlib.Path(target).name.startswith(stage):
        os.kill(os.getpid(), signal.SIGKILL)
    return rename(self, target)
pathlib.Path.replace = replace
from disburse.cli import app
app(prog_name="disburse")
"""
REPORT_STAGES = ("exceptions.csv", "summary.json", "national_summary")


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> pipeline.GeneratedFiles:
    folder = tmp_path_factory.mktemp("crash-month")
    [generated] = pipeline.generate_fixtures(folder, period=PERIOD, rows=100, seed=5)
    return generated


def run_child(url: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "DISBURSE_DATABASE_URL": url, **env}
    return subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def counts(ledger: Ledger) -> dict[str, object]:
    """What the ledger holds: batches with their line counts, runs, journal entries, audit records."""
    with ledger.engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(Run)).scalar_one()
        entries = conn.execute(select(func.count()).select_from(JournalEntry)).scalar_one()
        audit = conn.execute(select(func.count()).select_from(AuditLog)).scalar_one()
    batches = ledger.batches().select("batch_id", "kind", "line_count", "status").rows()
    return {"batches": batches, "runs": runs, "journal_entries": entries, "audit": audit}


def invoke(url: str, args: list[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DISBURSE_DATABASE_URL", url)
    monkeypatch.delenv(ENV, raising=False)
    result = runner.invoke(app, args, prog_name="disburse")
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize("stage", IMPORT_STAGES)
def test_an_import_killed_at_any_stage_lands_whole_or_not_at_all(
    stage: str,
    ledger: Ledger,
    database_url: str,
    month: pipeline.GeneratedFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline.import_orders(ledger, month.orders)
    before = counts(ledger)
    path = month.payouts["79"]  # hcm: lines and a control-total footer
    args = ["import", "payouts", str(path), "--province", "79", "--period", PERIOD]

    killed = run_child(database_url, args, {ENV: stage})
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    after_kill = counts(ledger)
    committed = stage == "import.after_commit"
    if committed:
        assert len(after_kill["batches"]) == len(before["batches"]) + 1  # type: ignore[arg-type]
    else:
        assert after_kill == before, f"killed at {stage}, the ledger changed"
    assert ledger.verify() == []

    again = invoke(database_url, args, monkeypatch)
    assert ("already imported" in again) == committed, again
    once_more = invoke(database_url, args, monkeypatch)
    assert "already imported" in once_more
    payouts = ledger.batches().filter(ledger.batches()["kind"] == "payouts")
    assert payouts.height == 1 and payouts["status"].to_list() == ["active"]
    assert ledger.verify() == []


@pytest.mark.parametrize("stage", [*RUN_STAGES, *(f"report:{name}" for name in REPORT_STAGES)])
def test_a_reconcile_killed_at_any_stage_records_one_run_or_none(
    stage: str,
    ledger: Ledger,
    database_url: str,
    month: pipeline.GeneratedFiles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline.import_orders(ledger, month.orders)
    pipeline.import_events(ledger, month.events)
    for code, path in sorted(month.payouts.items()):
        pipeline.import_payouts(ledger, path, province=code, period=PERIOD)
    before = counts(ledger)
    out = tmp_path / "out"
    args = ["reconcile", "--period", PERIOD, "--out", str(out), "--generated-at", GENERATED_AT]
    env = {"CRASH_BEFORE_RENAME": stage.split(":", 1)[1]} if stage.startswith("report:") else {ENV: stage}

    killed = run_child(database_url, args, env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    after_kill = counts(ledger)
    committed = stage == "run.after_commit" or stage.startswith("report:")
    if committed:
        assert after_kill["runs"] == 1 and after_kill["batches"] == before["batches"]
    else:
        assert after_kill == before, f"killed at {stage}, the ledger changed"
    assert ledger.verify() == []
    assert ledger.balances(PERIOD)["balance_vnd"].sum() == 0
    # A report under its final name is complete: the re-run below writes the same bytes.
    left = {p.name: p.read_bytes() for p in out.glob("*") if not p.name.endswith(".partial")}

    # Run again: completes the work once (a run committed before the kill is found, not made twice).
    again = invoke(database_url, args, monkeypatch)
    assert ("same inputs as an earlier run" in again) == committed, again
    final = counts(ledger)
    assert final["runs"] == 1
    assert final["batches"] == before["batches"]
    assert ledger.verify() == []
    assert not list(out.glob("*.partial")), "a temporary report file was left behind"
    for name, data in left.items():
        assert (out / name).read_bytes() == data, f"{name} was left incomplete by the crash"
    written = {p.name for p in out.iterdir()}
    assert {"exceptions.csv", "summary.json", f"national_summary_{PERIOD}.pdf"} <= written


def test_generated_months_for_the_crash_tests_are_small(month: pipeline.GeneratedFiles) -> None:
    """The crash tests run the CLI in subprocesses: the month must stay small for the suite to stay fast."""
    assert month.orders.stat().st_size < 100_000
    assert {"79", "48", "75", "19", "68"} == set(month.payouts)


