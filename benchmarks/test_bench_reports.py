"""Province PDF and XLSX generation at 10k and 100k exception rows, against baselines in the same run.

Baselines: the same rows written with reportlab's simplest canvas loop (one ``drawString`` per row, same
font, no tables, no wrapping) and as CSV with polars. Each benchmark times ``BENCH_REPORT_ROUNDS`` renders
(default 3; pytest-benchmark reports their median) and records the growth of peak resident memory, the page
count and the file size in ``extra_info`` (``--benchmark-json``; printed with ``-s``, with the province
PDF's median as a ratio of the canvas loop's once both have run).

``test_month_pdfs`` renders what a national month writes: five province PDFs of ``BENCH_MONTH_ROWS``
exception rows in all (default 150,000, split as a 5M-line month's are, the largest province a third; rows
shaped like the core's, ``sample_exceptions(like_core=True)``), one after the other, and the national summary
of all of them; ``BENCH_MONTH_ROWS=0`` skips it. The ``real-month`` group at the end renders a whole
national month (658,590 exceptions) as ``reconcile`` does, in worker processes.

Rows from ``BENCH_REPORT_ROWS`` (comma-separated, default ``10000,100000``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pypdf import PdfReader
from pytest_benchmark.fixture import BenchmarkFixture
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from disburse.profile import pilot_provinces
from disburse.reports.fonts import report_fonts
from disburse.reports.pdf import RunInfo, render_national_pdf, render_province_pdf
from disburse.reports.pdf_sample import sample_exceptions, sample_summary
from disburse.reports.vn import format_vnd
from disburse.reports.xlsx import write_exceptions_xlsx
from disburse.reports.xlsx_reference import write_cell_by_cell
from disburse.schema import SUMMARY_SCHEMA

SIZES = [int(n) for n in os.environ.get("BENCH_REPORT_ROWS", "10000,100000").split(",")]
ROUNDS = int(os.environ.get("BENCH_REPORT_ROUNDS", "3"))
MONTH_ROWS = int(os.environ.get("BENCH_MONTH_ROWS", "150000"))
# Share of a month's exceptions per province (HCM the largest), from the pilot provinces' caseloads.
MONTH_SHARES = {"79": 0.34, "75": 0.22, "68": 0.17, "48": 0.14, "19": 0.13}
RUN = RunInfo(period="2026-10", run_id=1, generated_at=datetime(2026, 11, 5, 9, 30))
# Median seconds per (benchmark, rows), for the ratio of the province PDF to the canvas loop.
MEDIANS: dict[tuple[str, int], float] = {}


@pytest.fixture(scope="module", params=SIZES, ids=lambda n: f"{n}rows")
def rows(request: pytest.FixtureRequest) -> pl.DataFrame:
    return sample_exceptions(request.param, wards=60)


def canvas_baseline(path: Path, exceptions: pl.DataFrame) -> None:
    """The cheapest readable PDF of the same rows: one drawString per row, 60 rows a page."""
    font = report_fonts().regular
    canvas = Canvas(str(path), pagesize=landscape(A4), invariant=True)
    y = 0.0
    for name, order_id, payout_id, ordered, paid, difference, detail in exceptions.select(
        "full_name", "order_id", "payout_id", "ordered_vnd", "paid_vnd", "difference_vnd", "detail"
    ).iter_rows():
        if y < 40:
            if y:
                canvas.showPage()
            canvas.setFont(font, 7.5)
            y = 555.0
        line = " | ".join(
            [
                name or "",
                order_id or "",
                payout_id or "",
                format_vnd(ordered),
                format_vnd(paid),
                format_vnd(difference),
                (detail or "")[:60],
            ]
        )
        canvas.drawString(34, y, line)
        y -= 8.5
    canvas.save()


def _status_kb(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False where Linux does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def timed(
    benchmark: BenchmarkFixture, write: Callable[[Path], None], path: Path, rounds: int = ROUNDS
) -> float:
    """``rounds`` calls of ``write(path)``; their median in seconds (NaN under --benchmark-disable)."""
    benchmark.pedantic(write, args=(path,), rounds=rounds, iterations=1, warmup_rounds=0)  # type: ignore[no-untyped-call]
    stats = benchmark.stats
    return float(stats.stats.median) if stats is not None else float("nan")


# A ratio recorded once both benchmarks of a pair ran at the same rows: (its name, ours, the baseline).
PDF_PAIR = ("province_pdf_to_canvas_ratio", "test_province_pdf", "test_baseline_canvas_pdf")
XLSX_PAIR = ("spliced_to_cell_loop_ratio", "test_xlsx_spliced", "test_xlsx_baseline_cell_loop")


def measure(
    benchmark: BenchmarkFixture,
    write: Callable[[Path], None],
    path: Path,
    rows: int,
    *,
    rounds: int = ROUNDS,
    pair: tuple[str, str, str] = PDF_PAIR,
) -> dict[str, Any]:
    """Time the calls and record how far the process's resident memory rose above where it started.

    Peak RSS (VmHWM, reset just before the call) rather than tracemalloc: tracing every allocation slows
    reportlab twentyfold, which makes a 100k render impractical; RSS also counts C allocations.
    """
    before_kb = _status_kb("VmRSS")
    resettable = _reset_peak_rss()
    cpu = time.process_time()
    median = timed(benchmark, write, path, rounds)
    # CPU seconds too: on a shared machine wall time varies with the neighbours' load, CPU time much less.
    info: dict[str, Any] = {
        "median_s": round(median, 3),
        "cpu_s_per_round": round((time.process_time() - cpu) / rounds, 2),
        "bytes": path.stat().st_size,
    }
    if resettable:
        info["peak_rss_growth_mb"] = round(max(0, _status_kb("VmHWM") - before_kb) / 1024, 1)
    if path.suffix == ".pdf":
        info["pages"] = len(PdfReader(path).pages)
    name = benchmark.name.split("[")[0]
    MEDIANS[(name, rows)] = median
    ratio, ours_name, baseline_name = pair
    ours, baseline = MEDIANS.get((ours_name, rows)), MEDIANS.get((baseline_name, rows))
    if name in (ours_name, baseline_name) and ours is not None and baseline is not None:
        info[ratio] = round(ours / baseline, 3)
    benchmark.extra_info.update(info)
    print(f"\n{benchmark.group} {benchmark.name}: {info}")  # shown with pytest -s
    return info


def test_province_pdf(benchmark: BenchmarkFixture, rows: pl.DataFrame, tmp_path: Path) -> None:
    benchmark.group = f"report:{rows.height}"
    summary = sample_summary(rows)

    def write(path: Path) -> None:
        render_province_pdf(path, profile=pilot_provinces()["79"], run=RUN, summary=summary, exceptions=rows)

    info = measure(benchmark, write, tmp_path / "province.pdf", rows.height)
    # Bounded memory: the listing's cells are held as Polars columns and turned into Python objects a block
    # at a time; what grows is reportlab's finished page streams, kept until the file is written.
    if "peak_rss_growth_mb" in info:
        assert info["peak_rss_growth_mb"] < 100 + rows.height / 1_000


def test_baseline_canvas_pdf(benchmark: BenchmarkFixture, rows: pl.DataFrame, tmp_path: Path) -> None:
    benchmark.group = f"report:{rows.height}"
    measure(benchmark, lambda path: canvas_baseline(path, rows), tmp_path / "canvas.pdf", rows.height)


def test_baseline_csv(benchmark: BenchmarkFixture, rows: pl.DataFrame, tmp_path: Path) -> None:
    benchmark.group = f"report:{rows.height}"
    measure(benchmark, rows.write_csv, tmp_path / "exceptions.csv", rows.height)


def test_exceptions_xlsx(benchmark: BenchmarkFixture, rows: pl.DataFrame, tmp_path: Path) -> None:
    benchmark.group = f"report:{rows.height}"
    xlsx = tmp_path / "exceptions.xlsx"
    measure(benchmark, lambda path: write_exceptions_xlsx(path, rows), xlsx, rows.height)


@pytest.mark.skipif(MONTH_ROWS <= 0, reason="BENCH_MONTH_ROWS=0")
def test_month_pdfs(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    """Every PDF of a national month, one after the other in this process."""
    benchmark.group = f"month:{MONTH_ROWS}"
    frames = {
        code: sample_exceptions(
            round(MONTH_ROWS * share), province_code=code, seed=int(code), wards=80, like_core=True
        )
        for code, share in MONTH_SHARES.items()
    }
    summaries = {code: sample_summary(frame, province_code=code) for code, frame in frames.items()}
    everything = pl.concat(list(frames.values()))
    summary = pl.DataFrame(list(summaries.values()), schema=SUMMARY_SCHEMA)

    def write(folder: Path) -> None:
        folder.mkdir(exist_ok=True)
        for code, frame in frames.items():
            render_province_pdf(
                folder / f"{code}.pdf",
                profile=pilot_provinces()[code],
                run=RUN,
                summary=summaries[code],
                exceptions=frame,
            )
        render_national_pdf(folder / "national.pdf", run=RUN, summary=summary, exceptions=everything)

    folder = tmp_path / "month"
    info = {
        "median_s": round(timed(benchmark, write, folder), 3),
        "rows": everything.height,
        "largest_province_rows": max(frame.height for frame in frames.values()),
        "pages": sum(len(PdfReader(path).pages) for path in folder.glob("*.pdf")),
        "bytes": sum(path.stat().st_size for path in folder.glob("*.pdf")),
    }
    benchmark.extra_info.update(info)
    print(f"\n{benchmark.group} {benchmark.name}: {info}")


# --- exceptions.xlsx at a month's scale: the spliced writer against the cell-by-cell one it replaced. ---
#
# Rows from ``BENCH_XLSX_ROWS`` (default 131,716, a measured month, and 650,000, a national month at the
# generator's default rates), ``BENCH_XLSX_ROUNDS`` renders each (default 3; the cell loop takes ~40 s a
# render at 650k). Run: pytest benchmarks/test_bench_reports.py -k test_xlsx_ --benchmark-only -s
# Group ``xlsx:N``: ``test_xlsx_spliced`` (write_exceptions_xlsx), ``test_xlsx_baseline_cell_loop`` (the
# writer as it was: one xlsxwriter call a cell in constant_memory mode) and ``test_xlsx_floor_csv`` (the same
# rows as CSV by Polars: no styling, no zip, the floor). ``spliced_to_cell_loop_ratio`` once both ran.

XLSX_SIZES = [int(n) for n in os.environ.get("BENCH_XLSX_ROWS", "131716,650000").split(",")]
XLSX_ROUNDS = int(os.environ.get("BENCH_XLSX_ROUNDS", "3"))


@pytest.fixture(scope="module", params=XLSX_SIZES, ids=lambda n: f"{n}rows")
def xlsx_rows(request: pytest.FixtureRequest) -> pl.DataFrame:
    # The columns write_exceptions_xlsx gets from reconcile: the exceptions with full_name and ward_code.
    return sample_exceptions(request.param, wards=60)


def measure_xlsx(
    benchmark: BenchmarkFixture, write: Callable[[Path], None], path: Path, rows: int
) -> dict[str, Any]:
    """``measure`` with ``XLSX_ROUNDS`` rounds and the spliced writer's ratio to the cell loop."""
    benchmark.group = f"xlsx:{rows}"
    return measure(benchmark, write, path, rows, rounds=XLSX_ROUNDS, pair=XLSX_PAIR)


def test_xlsx_spliced(benchmark: BenchmarkFixture, xlsx_rows: pl.DataFrame, tmp_path: Path) -> None:
    def write(path: Path) -> None:
        write_exceptions_xlsx(path, xlsx_rows, created=RUN.generated_at)

    info = measure_xlsx(benchmark, write, tmp_path / "exceptions.xlsx", xlsx_rows.height)
    # Blocks of rows, not the month, in memory: ~115 MB above the frame at 650k rows when measured.
    if "peak_rss_growth_mb" in info:
        assert info["peak_rss_growth_mb"] < 250


def test_xlsx_baseline_cell_loop(
    benchmark: BenchmarkFixture, xlsx_rows: pl.DataFrame, tmp_path: Path
) -> None:
    def write(path: Path) -> None:
        write_cell_by_cell(path, xlsx_rows, created=RUN.generated_at)

    measure_xlsx(benchmark, write, tmp_path / "cell_loop.xlsx", xlsx_rows.height)


def test_xlsx_floor_csv(benchmark: BenchmarkFixture, xlsx_rows: pl.DataFrame, tmp_path: Path) -> None:
    measure_xlsx(benchmark, xlsx_rows.write_csv, tmp_path / "exceptions.csv", xlsx_rows.height)


# --- Every PDF of a real-shaped national month: 658,590 exceptions in five provinces. ---
#
# The rows of ``BENCH_REAL_MONTH`` (a parquet of the named exceptions ``render_province_pdf`` gets, as a
# 5M-line generated month's reconcile writes them; default /tmp/exp/named.parquet, its summary rows beside
# it as summary.parquet) when the file exists, else ``sample_exceptions(like_core=True)`` in the same
# provinces and sizes: the core's English details (mostly distinct, half of them wrapping), its identifiers
# and names. ``BENCH_REAL_MONTH_ROUNDS`` renders each (default 3). Group ``real-month``:
# ``test_real_month_pdfs_pool`` (as ``reconcile`` writes them: province PDFs in worker processes and in this
# one, which also writes the national summary), ``test_real_month_pdfs_serial`` (one after the other in this
# process) and ``test_real_month_baseline_canvas`` (the same rows through ``canvas_baseline``, a file per
# province).
# Wall time depends on the neighbours' load on a shared machine: each records its CPU seconds (this process
# and its workers) and the load average before it ran. Run:
#   pytest benchmarks/test_bench_reports.py -k real_month --benchmark-only -s

REAL_MONTH = Path(os.environ.get("BENCH_REAL_MONTH", "/tmp/exp/named.parquet"))
REAL_MONTH_ROUNDS = int(os.environ.get("BENCH_REAL_MONTH_ROUNDS", "3"))
# Exceptions per province in the measured month (5M order lines, the generator's default rates).
REAL_MONTH_ROWS = {"79": 204_108, "75": 129_760, "68": 128_747, "48": 108_012, "19": 87_963}


@dataclass(frozen=True)
class RealMonth:
    source: str
    provinces: dict[str, pl.DataFrame]
    summaries: dict[str, dict[str, Any]]
    summary: pl.DataFrame
    everything: pl.DataFrame


@pytest.fixture(scope="module")
def real_month() -> RealMonth:
    if REAL_MONTH.is_file():
        everything = pl.read_parquet(REAL_MONTH)
        provinces = {
            code: everything.filter(pl.col("province_code") == code)
            for code in sorted(everything["province_code"].drop_nulls().unique().to_list())
        }
        source = str(REAL_MONTH)
    else:
        provinces = {
            code: sample_exceptions(rows, province_code=code, seed=int(code), wards=480, like_core=True)
            for code, rows in REAL_MONTH_ROWS.items()
        }
        everything = pl.concat(list(provinces.values()))
        source = "sample_exceptions(like_core=True)"
    summary_file = REAL_MONTH.with_name("summary.parquet")
    if REAL_MONTH.is_file() and summary_file.is_file():
        summary = pl.read_parquet(summary_file)
        summaries = {row["province_code"]: row for row in summary.iter_rows(named=True)}
    else:
        summaries = {code: sample_summary(frame, province_code=code) for code, frame in provinces.items()}
        summary = pl.DataFrame(list(summaries.values()), schema=SUMMARY_SCHEMA)
    return RealMonth(source, provinces, summaries, summary, everything)


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def measure_real_month(
    benchmark: BenchmarkFixture, write: Callable[[Path], None], folder: Path, month: RealMonth
) -> dict[str, Any]:
    benchmark.group = "real-month"
    load = os.getloadavg()[0]
    cpu, children = time.process_time(), _children_cpu()
    benchmark.pedantic(write, args=(folder,), rounds=REAL_MONTH_ROUNDS, iterations=1, warmup_rounds=0)  # type: ignore[no-untyped-call]
    stats = benchmark.stats
    median = float(stats.stats.median) if stats is not None else float("nan")
    spent = (time.process_time() - cpu + _children_cpu() - children) / REAL_MONTH_ROUNDS
    pdfs = sorted(folder.glob("*.pdf"))
    info: dict[str, Any] = {
        "median_s": round(median, 3),
        "cpu_s_per_round": round(spent, 2),
        "load_before": round(load, 2),
        "rows": month.everything.height,
        "largest_province_rows": max(frame.height for frame in month.provinces.values()),
        "source": month.source,
        "files": len(pdfs),
        "bytes": sum(path.stat().st_size for path in pdfs),
    }
    name = benchmark.name.split("[")[0]
    MEDIANS[(name, month.everything.height)] = median
    pool, serial, canvas = (
        MEDIANS.get((f"test_real_month_{which}", month.everything.height))
        for which in ("pdfs_pool", "pdfs_serial", "baseline_canvas")
    )
    if pool is not None and serial is not None:
        info["pool_to_serial_ratio"] = round(pool / serial, 2)
    if pool is not None and canvas is not None:
        info["pool_to_canvas_ratio"] = round(pool / canvas, 2)
    if serial is not None and canvas is not None:
        info["serial_to_canvas_ratio"] = round(serial / canvas, 2)
    benchmark.extra_info.update(info)
    print(f"\n{benchmark.group} {benchmark.name}: {info}")
    return info


def test_real_month_pdfs_pool(
    benchmark: BenchmarkFixture, real_month: RealMonth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from disburse.pipeline.month import _write_targets
    from disburse.reports.pdf_pool import WORKERS_VARIABLE, ProvincePdf, pdf_workers

    monkeypatch.delenv(WORKERS_VARIABLE, raising=False)

    def write(folder: Path) -> None:
        folder.mkdir(exist_ok=True)
        targets: list[tuple[Path, Callable[[Path], None]]] = [
            (
                folder / f"discrepancies_{code}.pdf",
                ProvincePdf(
                    profile=pilot_provinces()[code],
                    run=RUN,
                    summary=real_month.summaries[code],
                    exceptions=rows,
                ),
            )
            for code, rows in real_month.provinces.items()
        ]
        targets.append(
            (
                folder / "national.pdf",
                lambda path: render_national_pdf(
                    path, run=RUN, summary=real_month.summary, exceptions=real_month.everything
                ),
            )
        )
        _write_targets(targets, lambda done, message: None)

    processes = pdf_workers([rows.height for rows in real_month.provinces.values()])
    benchmark.extra_info["processes"] = processes  # rendering PDFs, this one included
    measure_real_month(benchmark, write, tmp_path / "month", real_month)


def test_real_month_pdfs_serial(benchmark: BenchmarkFixture, real_month: RealMonth, tmp_path: Path) -> None:
    def write(folder: Path) -> None:
        folder.mkdir(exist_ok=True)
        for code, rows in real_month.provinces.items():
            render_province_pdf(
                folder / f"discrepancies_{code}.pdf",
                profile=pilot_provinces()[code],
                run=RUN,
                summary=real_month.summaries[code],
                exceptions=rows,
            )
        render_national_pdf(
            folder / "national.pdf", run=RUN, summary=real_month.summary, exceptions=real_month.everything
        )

    measure_real_month(benchmark, write, tmp_path / "month", real_month)


def test_real_month_baseline_canvas(
    benchmark: BenchmarkFixture, real_month: RealMonth, tmp_path: Path
) -> None:
    def write(folder: Path) -> None:
        folder.mkdir(exist_ok=True)
        for code, rows in real_month.provinces.items():
            canvas_baseline(folder / f"canvas_{code}.pdf", rows)

    measure_real_month(benchmark, write, tmp_path / "month", real_month)
