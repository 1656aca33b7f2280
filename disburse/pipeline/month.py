"""Reconciling a period and writing its reports; generated months and the demo."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from disburse import profile as profiles
from disburse.errors import InputError
from disburse.ledger import Ledger
from disburse.pipeline.imports import (
    ImportReport,
    Progress,
    import_events,
    import_orders,
    import_payouts,
    no_progress,
    province_code,
)
from disburse.pipeline.settings import check_period, current_user
from disburse.reconcile import reconcile
from disburse.reports import files as report_files

if TYPE_CHECKING:
    from disburse.reports.pdf import RunInfo

# The report writers (reportlab, xlsxwriter, numpy) are imported where they are used: every other command
# would pay their import time (0.25 s) at start-up.


@dataclass(frozen=True)
class ReconcileReport:
    period: str
    run_id: int
    created: bool
    out: Path
    written: list[Path]
    summary: pl.DataFrame
    exceptions: pl.DataFrame
    notes: tuple[str, ...] = ()  # what the officer must know about the outputs (a file not written)


def reconcile_period(
    ledger: Ledger,
    *,
    period: str,
    out: Path,
    province: str | None = None,
    amount_tolerance_vnd: int | None = None,
    generated_at: datetime | None = None,
    progress: Progress = no_progress,
) -> ReconcileReport:
    """Reconcile every province of the period (a DUPLICATE_ORDER can span provinces) and write the outputs,
    for one province only when ``province`` is given."""
    from disburse.reports import xlsx
    from disburse.reports.pdf import RunInfo

    check_period(period)
    code = province_code(province) if province is not None else None  # refused before any work
    job = f"reconcile {period}"
    progress(job, 0, 4, "reading the ledger")
    by_code = profiles.pilot_provinces()
    inp, batch_ids = ledger.reconcile_input(period, by_code)
    if inp.orders.is_empty():
        raise InputError(
            f"no orders are imported for period {period}; run `disburse import orders FILE` first."
        )
    _make_folder(out)  # a folder that cannot be made is refused before the run is recorded
    progress(job, 1, 4, "matching orders and payouts")
    result = reconcile(inp, amount_tolerance_vnd=amount_tolerance_vnd)
    progress(job, 2, 4, "recording the run")
    params: dict[str, object] = {"amount_tolerance_vnd": amount_tolerance_vnd}

    summary, exceptions = result.summary, result.exceptions
    if code is not None:
        summary = summary.filter(pl.col("province_code") == code)
        exceptions = exceptions.filter(pl.col("province_code") == code)
    # Only the columns with_names reads: a national month has 5M orders and as many prior ones.
    name_columns = ["order_id", "full_name", "ward_code"]
    all_orders = pl.concat([inp.orders.select(name_columns), inp.prior_orders.select(name_columns)])
    generated = generated_at or datetime.now(UTC)
    sheets = _sheet_targets(out, exceptions, generated)
    # While the run is recorded (mostly SQLite, which leaves the other core idle), the names are looked up
    # and the exceptions' CSV and workbook, which need no run id, are written under their .partial names
    # (seconds each at national scale); they are renamed only once the run is recorded.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="disburse-sheets") as pool:
        early = pool.submit(_names_and_sheets, sheets, exceptions, all_orders, inp.payouts)
        try:
            receipt = ledger.record_run(period, params, batch_ids, result, user=current_user())
        except BaseException:
            _discard(early)
            raise
        named, prewritten = early.result()
    run = RunInfo(period=period, run_id=receipt.run_id, generated_at=generated)
    targets = _report_targets(out, run, by_code, summary, exceptions, named)
    notes: tuple[str, ...] = ()
    if named.height > xlsx.MAX_DATA_ROWS:
        notes = (
            f"exceptions.xlsx was not written: {named.height:,} exceptions are more than one Excel sheet "
            f"holds ({xlsx.MAX_DATA_ROWS:,}); exceptions.csv lists every one.",
        )
    written = _write_targets(
        targets, lambda done, message: progress(job, done, 3 + len(targets), message), prewritten
    )
    progress(job, 3 + len(targets), 3 + len(targets), "done")
    return ReconcileReport(period, receipt.run_id, receipt.created, out, written, summary, exceptions, notes)


def _make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            f"{out}: the output folder cannot be created ({reason}); choose another --out."
        ) from None


Writer = Callable[[Path], None]


def _report_targets(
    out: Path,
    run: RunInfo,
    by_code: dict[str, profiles.ProvinceProfile],
    summary: pl.DataFrame,
    exceptions: pl.DataFrame,
    named: pl.DataFrame,
) -> list[tuple[Path, Writer]]:
    """Every output file of a run with the function that writes it, in the order they are written."""
    from disburse.reports import xlsx
    from disburse.reports.pdf import render_national_pdf
    from disburse.reports.pdf_pool import ProvincePdf

    period = run.period
    document = report_files.summary_document(
        period=period, run_id=run.run_id, summary=summary, exceptions=exceptions
    )
    (csv, write_csv), (workbook, write_workbook) = _sheet_targets(out, exceptions, run.generated_at)
    targets: list[tuple[Path, Writer]] = [
        (csv, lambda p: write_csv(p, named)),
        (out / "summary.json", lambda p: report_files.write_summary_json(p, document)),
    ]
    if named.height <= xlsx.MAX_DATA_ROWS:  # never a truncated workbook (reconcile_period says why)
        targets.append((workbook, lambda p: write_workbook(p, named)))
    for row in summary.iter_rows(named=True):  # one PDF per province: five rows, not a hot path
        rows = named.filter(pl.col("province_code") == row["province_code"])
        if rows.is_empty():
            continue  # a province with no discrepancy gets no PDF; the national summary still lists it
        # A picklable writer, so that _write_targets can hand it to a worker process.
        render = ProvincePdf(profile=by_code[row["province_code"]], run=run, summary=row, exceptions=rows)
        targets.append((out / f"discrepancies_{row['province_code']}_{period}.pdf", render))
    national = functools.partial(render_national_pdf, run=run, summary=summary, exceptions=named)
    targets.append((out / f"national_summary_{period}.pdf", national))
    return targets


# An output that needs the exceptions (with their names) but not the run: written while the run is recorded.
SheetWriter = Callable[[Path, pl.DataFrame], None]


def _sheet_targets(out: Path, exceptions: pl.DataFrame, created: datetime) -> list[tuple[Path, SheetWriter]]:
    """exceptions.csv (of ``exceptions``, whatever frame it is given) and exceptions.xlsx (of the named
    exceptions it is given), in that order."""
    from disburse.reports import xlsx

    def write_csv(path: Path, named: pl.DataFrame) -> None:  # the exceptions as the run found them
        report_files.write_exceptions_csv(path, exceptions)

    def write_workbook(path: Path, named: pl.DataFrame) -> None:
        xlsx.write_exceptions_xlsx(path, named, created=created)

    return [(out / "exceptions.csv", write_csv), (out / "exceptions.xlsx", write_workbook)]


def _names_and_sheets(
    sheets: list[tuple[Path, SheetWriter]],
    exceptions: pl.DataFrame,
    orders: pl.DataFrame,
    payouts: pl.DataFrame,
) -> tuple[pl.DataFrame, set[Path]]:
    """The exceptions with names, and the sheets written under their .partial names. A sheet that cannot be
    written is left to ``_write_targets``, which reports the error as it does for every output."""
    from disburse.reports import xlsx

    named = report_files.with_names(exceptions, orders, payouts)
    written: set[Path] = set()
    for path, write in sheets:
        if path.suffix == ".xlsx" and named.height > xlsx.MAX_DATA_ROWS:
            continue
        try:
            write(_partial(path), named)
        except OSError:
            _partial(path).unlink(missing_ok=True)
            continue
        written.add(path)
    return named, written


def _write_targets(
    targets: list[tuple[Path, Writer]],
    progress: Callable[[int, str], None],
    prewritten: set[Path] | None = None,
) -> list[Path]:
    """Write every target (``write_target`` each); the paths written, in the targets' order.

    The province PDFs take most of the time (seconds each at a national month's scale) and are independent.
    With more than one CPU they are handed, largest first, to worker processes (``PdfPool``; one fewer than
    the processes to use), while this process writes the other targets; then this process renders the PDFs
    no worker has started yet (cancelling them in the pool), largest first, and waits for the rest. So this
    process is never idle while PDFs are left, and on a machine whose other CPUs are busy it does most of the
    work itself, at little more cost than rendering everything here. Each PDF still goes to its ``.partial``
    name and is renamed once complete, with ``write_target``'s errors.
    """
    from disburse.reports.pdf_pool import PdfPool, ProvincePdf, pdf_workers

    already = prewritten or set()
    # A target written before (its .partial is there) is only renamed, with write_target's errors.
    targets = [(target, _written_before if target in already else write) for target, write in targets]
    pooled = {index for index, (_, write) in enumerate(targets) if isinstance(write, ProvincePdf)}

    def size(index: int) -> int:
        write = targets[index][1]
        return write.rows if isinstance(write, ProvincePdf) else 0

    processes = pdf_workers([size(index) for index in pooled])
    done = 3
    if processes < 2:
        written: list[Path] = []
        for target, write in targets:
            progress(done, f"writing {target.name}")
            write_target(target, written, write)
            done += 1
        return written

    largest_first = sorted(pooled, key=size, reverse=True)
    renamed: set[int] = set()
    futures: dict[int, Future[None]] = {}
    try:
        with PdfPool(processes - 1) as pool:
            for index in largest_first:
                futures[index] = pool.submit(targets[index][1], _partial(targets[index][0]))
            for index, (target, write) in enumerate(targets):
                if index not in pooled:
                    progress(done, f"writing {target.name}")
                    write_target(target, [], write)
                    done += 1
            for index in largest_first:
                if futures[index].cancel():  # no worker has started it: render it here
                    target, write = targets[index]
                    progress(done, f"writing {target.name}")
                    write_target(target, [], write)
                    renamed.add(index)
                    done += 1
            for index in sorted(pooled - renamed):
                target = targets[index][0]
                progress(done, f"writing {target.name}")
                write_target(target, [], _waiting_for(futures[index], targets[index][1]))
                renamed.add(index)
                done += 1
    except BaseException:
        # The pool has been shut down: remove what finished workers wrote for targets not renamed (a target
        # that failed keeps its .partial, as in the serial loop).
        for index, future in futures.items():
            finished = future.done() and not future.cancelled() and future.exception() is None
            if finished and index not in renamed:
                _partial(targets[index][0]).unlink(missing_ok=True)
        raise
    return [target for target, _ in targets]


def _waiting_for(future: Future[None], write: Writer) -> Writer:
    """A writer whose file a worker is writing: it waits for the worker and raises its error, or writes the
    file itself when the worker died (killed by the system, out of memory) rather than failed."""

    def wait(path: Path) -> None:
        try:
            future.result()
        except BrokenProcessPool:
            write(path)

    return wait


def _discard(early: Future[tuple[pl.DataFrame, set[Path]]]) -> None:
    """The run was not recorded: remove the sheets written for it (the run's own error is the one raised)."""
    try:
        written = early.result()[1]
    except Exception:  # the caller re-raises the recording's error, which says more
        return
    for path in written:
        _partial(path).unlink(missing_ok=True)


def _written_before(path: Path) -> None:
    """The writer of a target already written under its .partial name (``_names_and_sheets``)."""


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def write_target(path: Path, written: list[Path], write: Callable[[Path], None]) -> None:
    """Write to a temporary name then rename, so a crash never leaves a half-written report."""
    partial = _partial(path)
    try:
        write(partial)
        partial.replace(path)
    except OSError as exc:  # a full disk, a file open in Excel on a shared drive, a read-only folder
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            f"{path}: cannot be written ({reason}); close the file if it is open, free space or choose "
            "another --out, then reconcile again (the run is recorded; the same inputs give the same run)."
        ) from None
    written.append(path)


@dataclass(frozen=True)
class GeneratedFiles:
    period: str
    folder: Path
    orders: Path
    events: Path
    expected: Path
    payouts: dict[str, Path] = field(default_factory=dict)  # province code -> file


def generate_fixtures(
    out: Path, *, period: str, rows: int, seed: int, months: int = 1, progress: Progress = no_progress
) -> list[GeneratedFiles]:
    """Write ``months`` generated months starting at ``period`` into out/<period>/."""
    from disburse.fixtures.generate import generate
    from disburse.fixtures.write import write_month

    check_period(period)
    if rows < 1 or months < 1:
        raise InputError("--rows and --months must be at least 1.")
    generated: list[GeneratedFiles] = []
    progress("generate", 0, months, f"month 1 of {months}")
    for month in generate(period, months, rows, seed):
        folder = out / month.period
        paths = write_month(month, folder)
        payouts = {key.split(":", 1)[1]: path for key, path in paths.items() if key.startswith("payouts:")}
        generated.append(
            GeneratedFiles(month.period, folder, paths["orders"], paths["events"], paths["expected"], payouts)
        )
        progress("generate", len(generated), months, f"{month.period} written")
    return generated


@dataclass(frozen=True)
class MonthRun:
    files: GeneratedFiles
    imports: list[ImportReport]
    report: ReconcileReport


def run_months(
    ledger: Ledger,
    generated: list[GeneratedFiles],
    *,
    on_step: Callable[[str], None] = lambda _: None,
    generated_at: datetime | None = None,
    progress: Progress = no_progress,
) -> list[MonthRun]:
    """Import and reconcile generated months in order, as an officer would month after month."""
    runs: list[MonthRun] = []
    for files in generated:
        progress("months", len(runs), len(generated), files.period)
        on_step(f"{files.period}: importing orders, events and {len(files.payouts)} payout files")
        imports = [
            import_orders(ledger, files.orders, progress=progress),
            import_events(ledger, files.events, progress=progress),
        ]
        imports += [
            import_payouts(ledger, path, province=code, period=files.period, progress=progress)
            for code, path in sorted(files.payouts.items())
        ]
        on_step(f"{files.period}: reconciling")
        report = reconcile_period(
            ledger,
            period=files.period,
            out=files.folder / "report",
            generated_at=generated_at,
            progress=progress,
        )
        runs.append(MonthRun(files, imports, report))
        progress("months", len(runs), len(generated), f"{files.period} reconciled")
    return runs


def run_demo(
    out: Path,
    *,
    rows: int,
    seed: int,
    months: int,
    period: str,
    on_step: Callable[[str], None] = lambda _: None,
    progress: Progress = no_progress,
) -> list[MonthRun]:
    """Generate months of data, import them into a fresh SQLite ledger in ``out`` and reconcile each."""
    check_period(period)  # before the folder is emptied
    if out.exists():
        _refuse_foreign_folder(out)
        shutil.rmtree(out)
    out.mkdir(parents=True)
    on_step(f"generating {months} month(s) of {rows} order lines from {period} (seed {seed})")
    generated = generate_fixtures(out, period=period, rows=rows, seed=seed, months=months, progress=progress)
    ledger = Ledger.connect(f"sqlite:///{out / 'disburse.db'}")
    ledger.upgrade()
    return run_months(ledger, generated, on_step=on_step, progress=progress)


def _refuse_foreign_folder(out: Path) -> None:
    """The demo empties its folder: only an empty one or an earlier demo's (it has the demo ledger)."""
    if out.is_dir() and (not any(out.iterdir()) or (out / "disburse.db").is_file()):
        return
    raise InputError(
        f"{out}: exists and is not an earlier demo's folder, and the demo empties its folder; "
        "choose a new --out."
    )
