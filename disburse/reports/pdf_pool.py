"""Province PDFs rendered side by side in worker processes.

A national month lists about 130,000 exceptions per province; each province PDF is one single-threaded
reportlab build of seconds, and the five are independent. ``PdfPool`` renders them in worker processes while
the calling process writes its other reports and then renders those no worker has started yet
(``disburse.pipeline.month._write_targets``).

- Workers are *spawned* (never forked: the caller's Polars thread pool may be running), through
  ``concurrent.futures.ProcessPoolExecutor``.
- A worker gets what it needs as a picklable ``ProvincePdf``: the profile, the run, the summary row and
  the province's rows, pickled as LZ4-compressed Arrow IPC bytes.
- A spawned worker would normally import the caller's ``__main__`` module again (multiprocessing does, so
  that functions defined there can be unpickled). A script that calls the pipeline at its top level, without
  an ``if __name__ == "__main__":`` guard, would then run again in every worker. The jobs here reference
  only ``disburse`` modules, so the workers are started without the caller's main module (``_no_main``):
  nothing of the caller's script runs twice.
- Output is the same bytes as rendering in the calling process: the same function with the same inputs, and
  the reports depend on no clock, hash seed or process state (``tests/test_reports_pdf.py``).
"""

from __future__ import annotations

import io
import multiprocessing
import os
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import polars as pl

from disburse.profile import ProvinceProfile
from disburse.reports.pdf import RunInfo, render_province_pdf

# ``DISBURSE_PDF_WORKERS``: processes rendering PDFs at most, the calling one included (default: the CPUs
# this process may use, once the PDFs are large enough to pay for starting workers); 1 renders every PDF in
# the calling process.
WORKERS_VARIABLE: Final = "DISBURSE_PDF_WORKERS"
# Starting a worker costs about half a second (importing Polars, reportlab and the fonts): by default, PDFs of
# fewer rows than this in all are rendered in the calling process (20,000 rows take about half a second).
POOL_MIN_ROWS: Final = 20_000
_THREADS: Final = "POLARS_MAX_THREADS"


class ProvincePdf:
    """A province PDF to render: a writer, ``write(path)``, for the calling process or, pickled, a worker.

    Pickled, the rows travel as LZ4-compressed Arrow IPC (a 200,000-row province is ~14 MB); rendered in the
    calling process they are not copied.
    """

    def __init__(self, *, profile: ProvinceProfile, run: RunInfo, summary: Mapping[str, Any],
                 exceptions: pl.DataFrame) -> None:
        self.profile, self.run, self.summary = profile, run, dict(summary)
        self.exceptions = exceptions

    @property
    def rows(self) -> int:
        return self.exceptions.height

    def __call__(self, path: Path) -> None:
        render_province_pdf(path, profile=self.profile, run=self.run, summary=self.summary,
                            exceptions=self.exceptions)

    def __reduce__(self) -> tuple[Callable[..., ProvincePdf], tuple[Any, ...]]:
        buffer = io.BytesIO()
        self.exceptions.write_ipc(buffer, compression="lz4")
        return _unpickled, (self.profile, self.run, self.summary, buffer.getvalue())


def _unpickled(profile: ProvinceProfile, run: RunInfo, summary: dict[str, Any], rows: bytes) -> ProvincePdf:
    return ProvincePdf(profile=profile, run=run, summary=summary, exceptions=pl.read_ipc(io.BytesIO(rows)))


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def pdf_workers(rows: Sequence[int]) -> int:
    """How many processes, the calling one included, to render PDFs of ``rows`` exception rows each with
    (1: only the calling process)."""
    configured = os.environ.get(WORKERS_VARIABLE, "").strip()
    if configured:
        if not configured.isdigit():
            raise ValueError(f"{WORKERS_VARIABLE}={configured!r}: a number of worker processes (1: none)")
        wanted = int(configured)
    elif sum(rows) < POOL_MIN_ROWS:
        wanted = 1
    else:
        wanted = _cpus()
    return max(1, min(wanted, len(rows)))


@contextmanager
def _no_main() -> Iterator[None]:
    """While workers are started: a ``__main__`` with no file or spec, which multiprocessing's spawn does
    not re-import in the worker (``multiprocessing.spawn.get_preparation_data``)."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class PdfPool:
    """Spawned worker processes rendering PDFs; a context manager that waits for them on exit."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> PdfPool:
        # Each worker's Polars gets its share of the CPUs, the calling process rendering too (unless
        # POLARS_MAX_THREADS says otherwise): with every CPU busy rendering, more threads only contend. Set
        # in the worker's environment before Polars is imported there (os.putenv: Polars reads the process
        # environment when it starts its pool).
        context = multiprocessing.get_context("spawn")
        if _THREADS in os.environ:
            self._executor = ProcessPoolExecutor(max_workers=self._workers, mp_context=context)
        else:
            threads = str(max(1, _cpus() // (self._workers + 1)))
            self._executor = ProcessPoolExecutor(max_workers=self._workers, mp_context=context,
                                                 initializer=os.putenv, initargs=(_THREADS, threads))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:
            # On an error, jobs not started are dropped; running ones are waited for (seconds at most).
            self._executor.shutdown(wait=True, cancel_futures=exc[0] is not None)
            self._executor = None

    def submit(self, write: Callable[[Path], None], path: Path) -> Future[None]:
        """``write(path)`` in a worker; its exception, if any, is raised by the future's ``result()``.
        ``write`` must be picklable and defined in an importable module (a ``ProvincePdf``)."""
        if self._executor is None:
            raise RuntimeError("PdfPool is used outside its with-block")
        # Workers are started on submission, one per job until there are ``workers``.
        with _no_main():
            return self._executor.submit(write, path)
