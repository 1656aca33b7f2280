"""Two generated months written as the department and the five post offices send them, cached by rows+seed.

``national-rows<N>-seed<S>/<period>/`` holds ``orders.csv``, ``events.csv`` and ``payouts/`` (one file per
province in its dialect; an XLSX province beyond one sheet's 1,048,576 rows is split into ``_part<k>`` files,
each with its own footer, as a post office would). ``manifest.json`` lists them and is written last. The
second month's canonical frames also go to ``rows<N>-seed<S>/`` in the format of ``test_bench_reconcile.py``
(the same month: same generator, first period and seed), which the core and the baselines read.

Run in its own process (the generator takes ~8 GB at 5M rows): ``python -m national.data ROWS SEED``.
Delete the cache folders after changing the generator, the writers or the core's outcomes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import polars as pl

from disburse.fixtures.dialects import payout_filename, write_events, write_orders, write_payouts
from disburse.fixtures.generate import iter_months
from disburse.fixtures.model import GeneratedMonth
from disburse.profile import ProvinceProfile, pilot_provinces
from disburse.reconcile import reconcile
from disburse.reconcile.simulate import inputs_for

CACHE = Path(os.environ.get("BENCH_CACHE") or "/tmp/disburse-bench-cache")
FIRST_PERIOD = "2026-09"  # the benchmarked month is the second, 2026-10, with a ledger behind it
EXCEL_MAX_ROWS = 1_048_576
CORE_FRAMES = ("orders", "prior_orders", "events", "payouts", "control_totals")


def sheet_limit() -> int:
    """Rows in a sheet: Excel's, or lower from ``BENCH_NATIONAL_XLSX_ROWS`` to exercise the split."""
    return int(os.environ.get("BENCH_NATIONAL_XLSX_ROWS", str(EXCEL_MAX_ROWS)))


def national_dir(rows: int, seed: int) -> Path:
    limit = sheet_limit()
    return CACHE / f"national-rows{rows}-seed{seed}{'' if limit == EXCEL_MAX_ROWS else f'-sheet{limit}'}"


def core_dir(rows: int, seed: int) -> Path:
    """Shared with ``test_bench_reconcile.py``: the second month's ``ReconcileInput`` as parquet."""
    return CACHE / f"rows{rows}-seed{seed}"


def is_cached(rows: int, seed: int) -> bool:
    core = core_dir(rows, seed)
    return (national_dir(rows, seed) / "manifest.json").exists() and all(
        (core / f"{name}.parquet").exists() for name in CORE_FRAMES
    )


def manifest(data: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((data / "manifest.json").read_text())
    return result


def sheet_rows(profile: ProvinceProfile) -> int:
    """Data rows one sheet holds under the header (and title rows) and above the footer."""
    return sheet_limit() - profile.header_row - (1 if profile.control_footer else 0)


def _sums(lines: pl.DataFrame) -> tuple[int, int]:
    return int(lines["amount_paid_vnd"].sum()), int(lines["fee_vnd"].fill_null(0).sum())


def write_province(
    lines: pl.DataFrame, profile: ProvinceProfile, folder: Path, period: str, footer: tuple[int, int] | None
) -> list[Path]:
    """One file, or for an XLSX dialect beyond one sheet, parts of at most ``sheet_rows`` lines. Each part's
    footer carries its own sums; an injected control-total difference stays on the last part."""
    path = folder / payout_filename(profile, period)
    size = sheet_rows(profile)
    if profile.container != "xlsx" or lines.height <= size:
        write_payouts(lines, profile, path, footer)
        return [path]
    paid, fee = _sums(lines)
    delta = (footer[0] - paid, footer[1] - fee) if footer else (0, 0)
    parts = [lines.slice(offset, size) for offset in range(0, lines.height, size)]
    paths: list[Path] = []
    for k, part in enumerate(parts, start=1):
        part_paid, part_fee = _sums(part)
        if k == len(parts):
            part_paid, part_fee = part_paid + delta[0], part_fee + delta[1]
        part_path = path.with_name(f"{path.stem}_part{k}{path.suffix}")
        write_payouts(part, profile, part_path, (part_paid, part_fee) if footer else None)
        paths.append(part_path)
    return paths


def write_month(month: GeneratedMonth, root: Path) -> dict[str, Any]:
    folder = root / month.period
    (folder / "payouts").mkdir(parents=True, exist_ok=True)
    write_orders(month.orders, folder / "orders.csv")
    write_events(month.events, folder / "events.csv")
    payouts: list[dict[str, str]] = []
    for code, profile in sorted(pilot_provinces().items()):
        if code not in month.payouts:
            continue
        lines = month.payouts[code]
        for path in write_province(lines, profile, folder / "payouts", month.period, month.footers.get(code)):
            payouts.append(
                {"province": code, "dialect": profile.dialect, "path": str(path.relative_to(root))}
            )
    return {
        "period": month.period,
        "orders": f"{month.period}/orders.csv",
        "events": f"{month.period}/events.csv",
        "order_lines": month.orders.height,
        "payout_lines": sum(frame.height for frame in month.payouts.values()),
        "payouts": payouts,
    }


def _publish(tmp: Path, target: Path) -> None:
    """Rename a finished folder into place; another process may have finished the same one first."""
    if target.exists():
        shutil.rmtree(tmp)
    else:
        tmp.rename(target)


def build(rows: int, seed: int) -> Path:
    """Generate, write and cache both months (and the core's input) unless already cached."""
    target = national_dir(rows, seed)
    if is_cached(rows, seed):
        return target
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    core = core_dir(rows, seed)
    core_missing = not all((core / f"{name}.parquet").exists() for name in CORE_FRAMES)
    months: list[GeneratedMonth] = []  # kept only to build the core's input, when it is not cached yet
    written: list[dict[str, Any]] = []
    for month in iter_months(FIRST_PERIOD, 2, rows, seed):
        written.append(write_month(month, tmp))
        if core_missing:
            months.append(month)
        del month
    if core_missing:
        first = reconcile(inputs_for(months, 0, []))
        inp = inputs_for(months, 1, [first])
        core_tmp = core.with_name(f"{core.name}.tmp{os.getpid()}")
        core_tmp.mkdir(parents=True, exist_ok=True)
        for name in CORE_FRAMES:
            getattr(inp, name).write_parquet(core_tmp / f"{name}.parquet")
        (core_tmp / "period.txt").write_text(inp.period)
        _publish(core_tmp, core)
    (tmp / "manifest.json").write_text(json.dumps({"rows": rows, "seed": seed, "months": written}, indent=1))
    _publish(tmp, target)
    return target


if __name__ == "__main__":
    print(build(int(sys.argv[1]), int(sys.argv[2])))
