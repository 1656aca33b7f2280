"""Province PDF and XLSX generation at 10k and 100k exception rows, against baselines in the same run.

Baselines: the same rows written with reportlab's simplest canvas loop (one ``drawString`` per row, same
font, no tables, no wrapping) and as CSV with polars. Each benchmark times one render (``pedantic``, one
round: a 100k PDF takes tens of seconds) and records the growth of peak resident memory during it, the
page count and the file size in ``extra_info`` (``--benchmark-json``; printed with ``-s``).

Rows from ``BENCH_REPORT_ROWS`` (comma-separated, default ``10000,100000``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
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
from disburse.reports.pdf import RunInfo, render_province_pdf
from disburse.reports.pdf_sample import sample_exceptions, sample_summary
from disburse.reports.vn import format_vnd
from disburse.reports.xlsx import write_exceptions_xlsx

SIZES = [int(n) for n in os.environ.get("BENCH_REPORT_ROWS", "10000,100000").split(",")]
RUN = RunInfo(period="2026-10", run_id=1, generated_at=datetime(2026, 11, 5, 9, 30))


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
        line = " | ".join([name or "", order_id or "", payout_id or "", format_vnd(ordered), format_vnd(paid),
                           format_vnd(difference), (detail or "")[:60]])
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


def measure(benchmark: BenchmarkFixture, write: Callable[[Path], None], path: Path) -> dict[str, Any]:
    """Time one call and record how far the process's resident memory rose above where it started.

    Peak RSS (VmHWM, reset just before the call) rather than tracemalloc: tracing every allocation slows
    reportlab twentyfold, which makes a 100k render impractical; RSS also counts C allocations.
    """
    before_kb = _status_kb("VmRSS")
    resettable = _reset_peak_rss()
    cpu = time.process_time()
    benchmark.pedantic(write, args=(path,), rounds=1, iterations=1, warmup_rounds=0)  # type: ignore[no-untyped-call]
    # CPU seconds too: on a shared machine wall time varies with the neighbours' load, CPU time much less.
    info: dict[str, Any] = {"cpu_s": round(time.process_time() - cpu, 2), "bytes": path.stat().st_size}
    if resettable:
        info["peak_rss_growth_mb"] = round(max(0, _status_kb("VmHWM") - before_kb) / 1024, 1)
    if path.suffix == ".pdf":
        info["pages"] = len(PdfReader(path).pages)
    benchmark.extra_info.update(info)
    print(f"\n{benchmark.group} {benchmark.name}: {info}")  # shown with pytest -s
    return info


def test_province_pdf(benchmark: BenchmarkFixture, rows: pl.DataFrame, tmp_path: Path) -> None:
    benchmark.group = f"report:{rows.height}"
    summary = sample_summary(rows)

    def write(path: Path) -> None:
        render_province_pdf(path, profile=pilot_provinces()["79"], run=RUN, summary=summary, exceptions=rows)

    info = measure(benchmark, write, tmp_path / "province.pdf")
    # Bounded memory: the listing is streamed, so memory stays far below what holding every row as
    # Paragraph/Table objects would take (kilobytes a row); what grows is reportlab's finished pages.
    if "peak_rss_growth_mb" in info:
        assert info["peak_rss_growth_mb"] < 100 + rows.height / 1_000


def test_baseline_canvas_pdf(benchmark: BenchmarkFixture, rows: pl.DataFrame, tmp_path: Path) -> None:
    benchmark.group = f"report:{rows.height}"
    measure(benchmark, lambda path: canvas_baseline(path, rows), tmp_path / "canvas.pdf")


def test_baseline_csv(benchmark: BenchmarkFixture, rows: pl.DataFrame, tmp_path: Path) -> None:
    benchmark.group = f"report:{rows.height}"
    measure(benchmark, rows.write_csv, tmp_path / "exceptions.csv")


def test_exceptions_xlsx(benchmark: BenchmarkFixture, rows: pl.DataFrame, tmp_path: Path) -> None:
    benchmark.group = f"report:{rows.height}"
    measure(benchmark, lambda path: write_exceptions_xlsx(path, rows), tmp_path / "exceptions.xlsx")
