"""Two officers at once: the real command line in two processes released together, on SQLite (WAL, busy
timeout, BEGIN IMMEDIATE) and PostgreSQL (advisory write lock, unique constraints).

Importing the same file twice at once gives one batch; reconciling the same period twice at once gives one
run, and both commands succeed with the same results. (tests/test_ledger_schema.py races the Ledger API in
a process pool; these race whole commands.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from disburse import pipeline
from disburse.ledger import Ledger

PERIOD = "2026-10"

# The child imports everything first, then waits at the gate: both processes start their command together.
CHILD = """
import os, pathlib, sys, time
gate = pathlib.Path(os.environ["START_GATE"])
from disburse.cli import app
pathlib.Path(f"{gate}.ready.{os.getpid()}").touch()
deadline = time.monotonic() + 60
while not gate.exists() and time.monotonic() < deadline:
    time.sleep(0.002)
app(prog_name="disburse")
"""


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> pipeline.GeneratedFiles:
    [generated] = pipeline.generate_fixtures(
        tmp_path_factory.mktemp("race-month"), period=PERIOD, rows=200, seed=9
    )
    return generated


def race(url: str, commands: list[list[str]], gate: Path) -> list[subprocess.CompletedProcess[str]]:
    """Start one process per command, open the gate once all are waiting at it, collect them."""
    env = {**os.environ, "DISBURSE_DATABASE_URL": url, "START_GATE": str(gate)}
    env.pop("DISBURSE_CRASH_AT", None)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    deadline = time.monotonic() + 60
    while len(list(gate.parent.glob(f"{gate.name}.ready.*"))) < len(children) and time.monotonic() < deadline:
        time.sleep(0.005)
    gate.touch()
    done = []
    for child in children:
        stdout, stderr = child.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr))
    return done


def test_two_processes_importing_the_same_file_at_once_give_one_batch(
    ledger: Ledger, database_url: str, month: pipeline.GeneratedFiles, tmp_path: Path
) -> None:
    path = month.payouts["75"]
    args = ["import", "payouts", str(path), "--province", "75", "--period", PERIOD]
    results = race(database_url, [args, args], tmp_path / "gate")
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    said = sorted(" ".join(r.stdout.split()) for r in results)
    assert said[0].startswith("already imported"), said
    assert said[1].startswith("imported"), said
    batches = ledger.batches()
    assert batches.height == 1
    assert f"as batch {batches['batch_id'][0]}" in said[1]
    assert ledger.verify() == []


def test_two_processes_reconciling_the_same_period_at_once_give_one_run(
    ledger: Ledger, database_url: str, month: pipeline.GeneratedFiles, tmp_path: Path
) -> None:
    pipeline.import_orders(ledger, month.orders)
    pipeline.import_events(ledger, month.events)
    for code, path in sorted(month.payouts.items()):
        pipeline.import_payouts(ledger, path, province=code, period=PERIOD)
    outs = [tmp_path / "officer-a", tmp_path / "officer-b"]
    commands = [
        ["reconcile", "--period", PERIOD, "--out", str(out), "--generated-at", "2026-11-05"] for out in outs
    ]
    results = race(database_url, commands, tmp_path / "gate")
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    run_id = ledger.latest_run(PERIOD)
    assert run_id is not None
    said = [" ".join(r.stdout.split()) for r in results]
    assert all(f"run {run_id} for {PERIOD}" in s for s in said), said
    assert sum("same inputs as an earlier run" in s for s in said) == 1, said
    with ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM run").scalar_one() == 1
    a, b = outs
    assert (a / "exceptions.csv").read_bytes() == (b / "exceptions.csv").read_bytes()
    assert json.loads((a / "summary.json").read_text()) == json.loads((b / "summary.json").read_text())
    assert ledger.balances(PERIOD)["balance_vnd"].sum() == 0
    assert ledger.verify() == []


def test_an_import_racing_a_reconcile_leaves_a_consistent_ledger(
    ledger: Ledger, database_url: str, month: pipeline.GeneratedFiles, tmp_path: Path
) -> None:
    """The run either saw the new batch or not; both commands succeed and the ledger verifies."""
    pipeline.import_orders(ledger, month.orders)
    for code in ("19", "48", "68", "79"):
        pipeline.import_payouts(ledger, month.payouts[code], province=code, period=PERIOD)
    commands = [
        ["import", "payouts", str(month.payouts["75"]), "--province", "75", "--period", PERIOD],
        ["reconcile", "--period", PERIOD, "--out", str(tmp_path / "out")],
    ]
    results = race(database_url, commands, tmp_path / "gate")
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert ledger.batches().height == 6
    run_id = ledger.latest_run(PERIOD)
    assert run_id is not None
    assert ledger.run_results(run_id).summary.height >= 4
    assert ledger.verify() == []
