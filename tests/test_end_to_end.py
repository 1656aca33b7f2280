"""A finance officer's months through the CLI, checked against the generator's injected ground truth."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from disburse.cli import app

runner = CliRunner()

Key = tuple[str, str, str]


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, f"disburse {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result.output


def read_keys(path: Path) -> Counter[Key]:
    """(code, order_id, payout_id) of every row; a Counter so a row reported twice is caught."""
    with path.open(encoding="utf-8", newline="") as handle:
        return Counter((r["code"], r["order_id"] or "", r["payout_id"] or "") for r in csv.DictReader(handle))


def diff_by_code(found: Counter[Key], expected: Counter[Key]) -> str:
    lines = []
    for code in sorted({k[0] for k in found} | {k[0] for k in expected}):
        extra = {k: n for k, n in (found - expected).items() if k[0] == code}
        missing = {k: n for k, n in (expected - found).items() if k[0] == code}
        if extra or missing:
            lines.append(
                f"{code}: {len(missing)} missed {sorted(missing)[:5]}, {len(extra)} extra {sorted(extra)[:5]}"
            )
    return "\n".join(lines)


def run_month(folder: Path, out: Path) -> Path:
    period = folder.name
    invoke("import", "orders", str(folder / "orders.csv"))
    invoke("import", "events", str(folder / "events.csv"))
    for payout_file in sorted((folder / "payouts").iterdir()):
        province = payout_file.name.split("_", 1)[0]
        invoke("import", "payouts", str(payout_file), "--province", province, "--period", period)
    invoke("reconcile", "--period", period, "--out", str(out), "--generated-at", "2026-11-05T09:00:00")
    return out / "exceptions.csv"


@pytest.mark.parametrize("seed", [3, 11])
def test_months_through_the_cli_find_exactly_the_injected_discrepancies(
    tmp_path: Path, seed: int, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISBURSE_DATABASE_URL", database_url)
    data = tmp_path / "data"
    invoke(
        "fixtures",
        "generate",
        "--out",
        str(data),
        "--period",
        "2026-08",
        "--rows",
        "900",
        "--seed",
        str(seed),
        "--months",
        "3",
    )
    invoke("init")
    months = sorted(p for p in data.iterdir() if p.is_dir())
    assert [m.name for m in months] == ["2026-08", "2026-09", "2026-10"]

    for folder in months:
        found = read_keys(run_month(folder, tmp_path / "out" / folder.name))
        expected = read_keys(folder / "expected_exceptions.csv")
        assert found == expected, f"{folder.name}:\n{diff_by_code(found, expected)}"
        injected = {code for code, _, _ in expected}
        assert {
            "PHANTOM_PAYOUT",
            "DUPLICATE_PAYOUT",
            "OVERPAID",
            "UNDERPAID",
            "MISSING_RESULT",
            "UNPAID",
        } <= injected


def test_importing_and_reconciling_again_changes_nothing(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISBURSE_DATABASE_URL", database_url)
    data = tmp_path / "data"
    invoke("fixtures", "generate", "--out", str(data), "--period", "2026-10", "--rows", "500", "--seed", "5")
    invoke("init")
    folder = data / "2026-10"
    run_month(folder, tmp_path / "first")
    again = invoke("import", "orders", str(folder / "orders.csv"))
    assert "already imported" in again
    run_month(folder, tmp_path / "second")
    first = {p.name: p.read_bytes() for p in sorted((tmp_path / "first").iterdir())}
    second = {p.name: p.read_bytes() for p in sorted((tmp_path / "second").iterdir())}
    assert {"exceptions.csv", "summary.json", "national_summary_2026-10.pdf"} <= set(first)
    assert first == second, "the same inputs and report date give byte-identical outputs"
    assert read_keys(folder / "expected_exceptions.csv") == read_keys(tmp_path / "second" / "exceptions.csv")


def test_demo_runs_from_the_installed_console_script(tmp_path: Path) -> None:
    """What `make demo` runs, as a separate process: outputs exist and match the ground truth."""
    script = Path(sys.executable).with_name("disburse")
    env = {k: v for k, v in os.environ.items() if k != "DISBURSE_DATABASE_URL"}
    done = subprocess.run(
        [str(script), "demo", "--out", str(tmp_path / "demo"), "--rows", "600", "--months", "2"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for folder in sorted(p for p in (tmp_path / "demo").iterdir() if p.is_dir()):
        report = folder / "report"
        assert read_keys(report / "exceptions.csv") == read_keys(folder / "expected_exceptions.csv")
        assert (report / "summary.json").is_file()
        assert (report / f"national_summary_{folder.name}.pdf").is_file()
        assert list(report.glob("discrepancies_*.pdf")), "every province month has discrepancies injected"
