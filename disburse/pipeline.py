"""The use cases of a month, wiring loaders, ledger, core and reports. The CLI only parses and prints."""

from __future__ import annotations

import functools
import getpass
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from disburse import profile as profiles
from disburse.errors import InputError
from disburse.ledger import BatchReceipt, Ledger
from disburse.loaders.events import load_events
from disburse.loaders.model import Loaded
from disburse.loaders.orders import load_orders
from disburse.loaders.payouts import load_payouts
from disburse.reconcile import reconcile
from disburse.reports import files as report_files
from disburse.reports.pdf import RunInfo, render_national_pdf, render_province_pdf
from disburse.reports.xlsx import write_exceptions_xlsx

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_REJECTS_SHOWN = 10


DEFAULT_DATABASE_URL = "sqlite:///disburse.db"


def database_url(*, hide_password: bool = False) -> str:
    """DISBURSE_DATABASE_URL, else the SQLite file ./disburse.db (no server to start)."""
    url = os.environ.get("DISBURSE_DATABASE_URL") or DEFAULT_DATABASE_URL
    if hide_password:
        from sqlalchemy.engine import make_url  # parses the URL only; the ledger alone connects

        return make_url(url).render_as_string(hide_password=True)
    return url


def open_ledger() -> Ledger:
    return Ledger.connect(database_url())


def current_user() -> str:
    return os.environ.get("DISBURSE_USER") or getpass.getuser()


def check_period(period: str) -> str:
    if pl.select(pl.lit(period).str.contains(PERIOD_PATTERN)).item() is not True:
        raise InputError(f"period {period!r} is not a month: write it as YYYY-MM, for example 2026-10.")
    return period


def _refuse_rejects(loaded: Loaded) -> None:
    """A file with unreadable rows is refused whole: nothing of it is imported."""
    if loaded.rejects.is_empty():
        return
    shown = loaded.rejects.head(MAX_REJECTS_SHOWN)
    lines = [
        f"  row {r['row']}, column {r['column']!r}, value {r['value']!r}: {r['reason']}"
        for r in shown.iter_rows(named=True)
    ]
    more = loaded.rejects.height - shown.height
    tail = [f"  ... and {more} more"] if more > 0 else []
    raise InputError(
        "\n".join(
            [
                f"{loaded.source}: {loaded.rejects.height} row(s) cannot be read, so nothing of the file "
                "was imported; correct them and import the file again:",
                *lines,
                *tail,
            ]
        )
    )


def province_code(code: str) -> str:
    """The current code of a province given by current or legacy code."""
    try:
        return profiles.current_code(code)
    except profiles.ProfileError as exc:
        raise InputError(f"{exc}.") from exc


@dataclass(frozen=True)
class ImportReport:
    source: Path
    kind: str
    receipt: BatchReceipt
    period: str | None
    province_code: str | None


def _single_period(loaded: Loaded) -> str:
    periods = loaded.frame["period"].unique().sort().to_list()
    if len(periods) != 1:
        raise InputError(
            f"{loaded.source}: an orders file must hold one period, this one holds {periods or 'none'}; "
            "split it by period."
        )
    return str(periods[0])


def import_orders(ledger: Ledger, path: Path, *, supersedes: int | None = None) -> ImportReport:
    loaded = load_orders(path)
    _refuse_rejects(loaded)
    period = _single_period(loaded)
    provinces = loaded.frame["province_code"].unique().to_list()
    province = provinces[0] if len(provinces) == 1 else None
    receipt = ledger.import_batch(
        "orders", loaded, province_code=province, period=period, user=current_user(), supersedes=supersedes
    )
    return ImportReport(path, "orders", receipt, period, province)


def import_events(ledger: Ledger, path: Path, *, supersedes: int | None = None) -> ImportReport:
    loaded = load_events(path)
    _refuse_rejects(loaded)
    receipt = ledger.import_batch(
        "events", loaded, province_code=None, period=None, user=current_user(), supersedes=supersedes
    )
    return ImportReport(path, "events", receipt, None, None)


def import_payouts(
    ledger: Ledger,
    path: Path,
    *,
    province: str,
    period: str,
    dialect: str | None = None,
    supersedes: int | None = None,
) -> ImportReport:
    check_period(period)
    try:
        province_profile = profiles.profile_for(province, dialect)
    except profiles.ProfileError as exc:
        raise InputError(f"{path}: {exc}.") from exc
    loaded = load_payouts(path, province_profile, period)
    _refuse_rejects(loaded)
    receipt = ledger.import_batch(
        "payouts",
        loaded,
        province_code=province_profile.province_code,
        period=period,
        user=current_user(),
        supersedes=supersedes,
    )
    return ImportReport(path, "payouts", receipt, period, province_profile.province_code)


@dataclass(frozen=True)
class ReconcileReport:
    period: str
    run_id: int
    created: bool
    out: Path
    written: list[Path]
    summary: pl.DataFrame
    exceptions: pl.DataFrame


def reconcile_period(
    ledger: Ledger,
    *,
    period: str,
    out: Path,
    province: str | None = None,
    amount_tolerance_vnd: int | None = None,
    generated_at: datetime | None = None,
) -> ReconcileReport:
    """Reconcile every province of the period (a DUPLICATE_ORDER can span provinces) and write the outputs,
    for one province only when ``province`` is given."""
    check_period(period)
    by_code = profiles.pilot_provinces()
    inp, batch_ids = ledger.reconcile_input(period, by_code)
    if inp.orders.is_empty():
        raise InputError(
            f"no orders are imported for period {period}; run `disburse import orders FILE` first."
        )
    result = reconcile(inp, amount_tolerance_vnd=amount_tolerance_vnd)
    params: dict[str, object] = {"amount_tolerance_vnd": amount_tolerance_vnd}
    receipt = ledger.record_run(period, params, batch_ids, result, user=current_user())

    summary, exceptions = result.summary, result.exceptions
    if province is not None:
        code = profiles.current_code(province)
        summary = summary.filter(pl.col("province_code") == code)
        exceptions = exceptions.filter(pl.col("province_code") == code)
    all_orders = pl.concat([inp.orders, inp.prior_orders.select(inp.orders.columns)])
    named = report_files.with_names(exceptions, all_orders, inp.payouts)

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    write_target(out / "exceptions.csv", written, lambda p: report_files.write_exceptions_csv(p, exceptions))
    document = report_files.summary_document(
        period=period, run_id=receipt.run_id, summary=summary, exceptions=exceptions
    )
    write_target(out / "summary.json", written, lambda p: report_files.write_summary_json(p, document))
    run = RunInfo(period=period, run_id=receipt.run_id, generated_at=generated_at or datetime.now(UTC))
    write_target(
        out / "exceptions.xlsx", written, lambda p: write_exceptions_xlsx(p, named, created=run.generated_at)
    )
    for row in summary.iter_rows(named=True):  # one PDF per province: five rows, not a hot path
        code = row["province_code"]
        rows = named.filter(pl.col("province_code") == code)
        if rows.is_empty():
            continue  # a province with no discrepancy gets no PDF; the national summary still lists it
        target = out / f"discrepancies_{code}_{period}.pdf"
        render = functools.partial(
            render_province_pdf, profile=by_code[code], run=run, summary=row, exceptions=rows
        )
        write_target(target, written, render)
    write_target(
        out / f"national_summary_{period}.pdf",
        written,
        lambda p: render_national_pdf(p, run=run, summary=summary, exceptions=named),
    )
    return ReconcileReport(period, receipt.run_id, receipt.created, out, written, summary, exceptions)


def write_target(path: Path, written: list[Path], write: Callable[[Path], None]) -> None:
    """Write to a temporary name then rename, so a crash never leaves a half-written report."""
    partial = path.with_name(path.name + ".partial")
    write(partial)
    partial.replace(path)
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
    out: Path, *, period: str, rows: int, seed: int, months: int = 1
) -> list[GeneratedFiles]:
    """Write ``months`` generated months starting at ``period`` into out/<period>/."""
    from disburse.fixtures.generate import generate
    from disburse.fixtures.write import write_month

    check_period(period)
    if rows < 1 or months < 1:
        raise InputError("--rows and --months must be at least 1.")
    generated: list[GeneratedFiles] = []
    for month in generate(period, months, rows, seed):
        folder = out / month.period
        paths = write_month(month, folder)
        payouts = {key.split(":", 1)[1]: path for key, path in paths.items() if key.startswith("payouts:")}
        generated.append(
            GeneratedFiles(month.period, folder, paths["orders"], paths["events"], paths["expected"], payouts)
        )
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
) -> list[MonthRun]:
    """Import and reconcile generated months in order, as an officer would month after month."""
    runs: list[MonthRun] = []
    for files in generated:
        on_step(f"{files.period}: importing orders, events and {len(files.payouts)} payout files")
        imports = [import_orders(ledger, files.orders), import_events(ledger, files.events)]
        imports += [
            import_payouts(ledger, path, province=code, period=files.period)
            for code, path in sorted(files.payouts.items())
        ]
        on_step(f"{files.period}: reconciling")
        report = reconcile_period(
            ledger, period=files.period, out=files.folder / "report", generated_at=generated_at
        )
        runs.append(MonthRun(files, imports, report))
    return runs


def run_demo(
    out: Path,
    *,
    rows: int,
    seed: int,
    months: int,
    period: str,
    on_step: Callable[[str], None] = lambda _: None,
) -> list[MonthRun]:
    """Generate months of data, import them into a fresh SQLite ledger in ``out`` and reconcile each."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    on_step(f"generating {months} month(s) of {rows} order lines from {period} (seed {seed})")
    generated = generate_fixtures(out, period=period, rows=rows, seed=seed, months=months)
    ledger = Ledger.connect(f"sqlite:///{out / 'disburse.db'}")
    ledger.upgrade()
    return run_months(ledger, generated, on_step=on_step)
