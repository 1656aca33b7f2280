"""The committed sample months: still what the generator writes, and reconciled to their ground truth."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from disburse import pipeline
from disburse.ledger import Ledger
from disburse.loaders.payouts import load_payouts
from disburse.profile import pilot_provinces

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures"
MONTHS = ["2026-08", "2026-09", "2026-10"]


def sample_months() -> list[pipeline.GeneratedFiles]:
    months = []
    for period in MONTHS:
        folder = SAMPLE / period
        payouts = {p.name.split("_", 1)[0]: p for p in sorted((folder / "payouts").iterdir())}
        months.append(
            pipeline.GeneratedFiles(
                period,
                folder,
                folder / "orders.csv",
                folder / "events.csv",
                folder / "expected_exceptions.csv",
                payouts,
            )
        )
    return months


def test_the_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    regenerated = pipeline.generate_fixtures(tmp_path, period="2026-08", rows=500, seed=2026, months=3)
    assert [g.period for g in regenerated] == MONTHS
    for fresh, committed in zip(regenerated, sample_months(), strict=True):
        for name in ("orders.csv", "events.csv", "expected_exceptions.csv"):
            assert (fresh.folder / name).read_bytes() == (committed.folder / name).read_bytes(), name
        assert fresh.payouts.keys() == committed.payouts.keys()
        for code, path in committed.payouts.items():
            profile = pilot_provinces()[code]
            if profile.container == "csv":
                assert fresh.payouts[code].read_bytes() == path.read_bytes(), path.name
            else:  # a workbook stores its creation time: compare what it holds
                ours = load_payouts(fresh.payouts[code], profile, fresh.period)
                theirs = load_payouts(path, profile, fresh.period)
                assert ours.frame.equals(theirs.frame), path.name
                assert ours.control_totals.equals(theirs.control_totals), path.name


def test_reconciling_the_sample_finds_exactly_its_ground_truth(tmp_path: Path, database_url: str) -> None:
    ledger = Ledger.connect(database_url)
    ledger.upgrade()
    months = sample_months()
    # Reports go to tmp: copy nothing into the committed folders.
    relocated = [
        pipeline.GeneratedFiles(m.period, tmp_path / m.period, m.orders, m.events, m.expected, m.payouts)
        for m in months
    ]
    runs = pipeline.run_months(ledger, relocated)
    try:
        for run in runs:
            found = run.report.exceptions.select("code", "order_id", "payout_id").sort(
                pl.all(), nulls_last=True
            )
            expected = pl.read_csv(
                run.files.expected, schema=dict.fromkeys(["code", "order_id", "payout_id"], pl.String)
            ).sort(pl.all(), nulls_last=True)
            assert found.equals(expected), run.files.period
        assert runs[-1].report.exceptions["code"].n_unique() == 17, "the last month holds every code"
        assert ledger.verify() == []
    finally:
        ledger.close()


@pytest.mark.parametrize("period", MONTHS)
def test_the_sample_reads_without_rejects(period: str) -> None:
    for code, path in sample_months()[MONTHS.index(period)].payouts.items():
        loaded = load_payouts(path, pilot_provinces()[code], period)
        assert loaded.rejects.is_empty(), loaded.rejects
        assert loaded.frame.height > 0
