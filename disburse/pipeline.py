"""The use cases of a month, wiring loaders, ledger, core and reports. The CLI only parses and prints."""

from __future__ import annotations

import csv
import functools
import io
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from disburse import config
from disburse import profile as profiles
from disburse.errors import InputError, LedgerError
from disburse.ledger import BatchReceipt, Ledger
from disburse.ledger.status import PeriodStatus, RunState
from disburse.loaders.columns import resolve_headers
from disburse.loaders.events import load_events
from disburse.loaders.model import Loaded, LoadedPayouts
from disburse.loaders.orders import load_orders
from disburse.loaders.payouts import load_payouts
from disburse.reconcile import reconcile
from disburse.reports import files as report_files
from disburse.reports.pdf import RunInfo, render_national_pdf, render_province_pdf
from disburse.reports.xlsx import write_exceptions_xlsx
from disburse.schema import SEVERITY_RANK, Code

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_REJECTS_SHOWN = 10


DEFAULT_DATABASE_URL = config.DEFAULT_DATABASE_URL


# --- settings and the ledger --------------------------------------------------------------------------------


def settings() -> config.Settings:
    """The effective settings (environment over disburse.toml over defaults), read at each use so a test or
    a script that changes the environment is obeyed."""
    return _effective().settings


# DISBURSE_PROFILES_DIR as set by ``profiles_dir_applied`` from the file: still the file's setting, not the
# environment's, when settings are read again during the command.
_applied_profiles_dir: list[str] = []


def _effective() -> config.Effective:
    variable = config.ENV["profiles_dir"]
    if _applied_profiles_dir and os.environ.get(variable) == _applied_profiles_dir[-1]:
        return config.load({k: v for k, v in os.environ.items() if k != variable})
    return config.load()


def database_url(*, hide_password: bool = False) -> str:
    """DISBURSE_DATABASE_URL, else database_url of disburse.toml, else the SQLite file ./disburse.db."""
    url = settings().database_url
    return _hide_password(url) if hide_password else url


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url  # parses the URL only; the ledger alone connects
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url  # not a URL at all: nothing in it to hide, and the ledger will say what is wrong


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases, in-memory ones, or text that is not a URL)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def open_ledger(*, create: bool = False) -> Ledger:
    """The configured ledger. Only ``create`` (``disburse init``) may bring a new SQLite file into being:
    anywhere else a missing file means the officer is in the wrong folder or forgot ``init``, and silently
    creating an empty ledger there would hide that."""
    url = database_url()
    path = _sqlite_file(url)
    if not create and path is not None and not path.exists():
        raise LedgerError(
            f"There is no ledger at {path.absolute()}: run `disburse init` to create it, or point "
            "DISBURSE_DATABASE_URL "
            "(or database_url in disburse.toml) at the existing one."
        )
    return Ledger.connect(url)


def current_user() -> str:
    return settings().effective_user


@contextmanager
def profiles_dir_applied() -> Iterator[None]:
    """Make profiles_dir of disburse.toml visible to the profiles, which read DISBURSE_PROFILES_DIR; the
    environment is restored afterwards so nothing leaks into the next command of the same process."""
    effective = config.load()
    variable = config.ENV["profiles_dir"]
    folder = effective.settings.profiles_dir
    if folder is None or os.environ.get(variable):
        yield
        return
    os.environ[variable] = str(folder)
    _applied_profiles_dir.append(str(folder))
    try:
        yield
    finally:
        os.environ.pop(variable, None)
        _applied_profiles_dir.pop()


def config_report() -> dict[str, Any]:
    """What `disburse config show` prints: each setting, its value (password hidden) and its source."""
    effective = _effective()
    values = effective.settings.model_dump()
    values["database_url"] = _hide_password(effective.settings.database_url)
    values["user"] = effective.settings.effective_user
    sources = dict(effective.sources)
    if effective.settings.user is None:
        sources["user"] = "login name"
    return {
        "config_file": str(effective.file) if effective.file else None,
        "settings": [
            {
                "setting": key,
                "value": None if values[key] is None else str(values[key]),
                "source": sources[key],
                "environment": config.ENV[key],
            }
            for key in config.ENV
        ],
    }


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


class Progress(Protocol):
    """Told where a long job stands: ``done`` of ``total`` steps of ``job``, now ``doing``. The CLI draws
    bars from it; scripts and tests pass nothing (``no_progress``)."""

    def __call__(self, job: str, done: int, total: int, doing: str) -> None: ...


def no_progress(job: str, done: int, total: int, doing: str) -> None:
    """The default: nobody is watching."""


def _existing_file(path: Path) -> Path:
    """Refuse a path that is not a file before any loader reads it, with the fix in the message."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file; give the path of the file inside it.")
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path and try again.")
    return path


def import_orders(
    ledger: Ledger, path: Path, *, supersedes: int | None = None, progress: Progress = no_progress
) -> ImportReport:
    job = f"import {path.name}"
    progress(job, 0, 2, "reading and checking every row")
    loaded = _load_canonical(_existing_file(path), "orders")
    _refuse_rejects(loaded)
    period = _single_period(loaded)
    provinces = loaded.frame["province_code"].unique().to_list()
    province = provinces[0] if len(provinces) == 1 else None
    progress(job, 1, 2, "storing in the ledger")
    receipt = ledger.import_batch(
        "orders", loaded, province_code=province, period=period, user=current_user(), supersedes=supersedes
    )
    progress(job, 2, 2, "done")
    return ImportReport(path, "orders", receipt, period, province)


def import_events(
    ledger: Ledger, path: Path, *, supersedes: int | None = None, progress: Progress = no_progress
) -> ImportReport:
    job = f"import {path.name}"
    progress(job, 0, 2, "reading and checking every row")
    loaded = _load_canonical(_existing_file(path), "events")
    _refuse_rejects(loaded)
    progress(job, 1, 2, "storing in the ledger")
    receipt = ledger.import_batch(
        "events", loaded, province_code=None, period=None, user=current_user(), supersedes=supersedes
    )
    progress(job, 2, 2, "done")
    return ImportReport(path, "events", receipt, None, None)


def import_payouts(
    ledger: Ledger,
    path: Path,
    *,
    province: str,
    period: str,
    dialect: str | None = None,
    supersedes: int | None = None,
    progress: Progress = no_progress,
) -> ImportReport:
    check_period(period)
    try:
        province_profile = profiles.profile_for(province, dialect)
    except profiles.ProfileError as exc:
        raise InputError(f"{path}: {exc}.") from exc
    job = f"import {path.name}"
    progress(job, 0, 2, "reading and checking every row")
    loaded = _load_payouts_of(_existing_file(path), province_profile, period)
    _refuse_rejects(loaded)
    progress(job, 1, 2, "storing in the ledger")
    receipt = ledger.import_batch(
        "payouts",
        loaded,
        province_code=province_profile.province_code,
        period=period,
        user=current_user(),
        supersedes=supersedes,
    )
    progress(job, 2, 2, "done")
    return ImportReport(path, "payouts", receipt, period, province_profile.province_code)


def _load_payouts_of(path: Path, profile: profiles.ProvinceProfile, period: str) -> LoadedPayouts:
    """Load in ``profile``'s dialect; a file that cannot be read so but whose header is another
    province's is named as that province's file: the usual slip is the wrong --province."""
    try:
        return load_payouts(path, profile, period, check_scope=True)
    except InputError as exc:
        kind = _canonical_kind(path)
        if kind is not None:
            raise InputError(
                f"{path}: this is an {kind} file, not a payout result file; "
                f"import it with `disburse import {kind} {path}`."
            ) from exc
        other = _dialect_of(path)
        if other is None or other.dialect == profile.dialect:
            raise
        raise InputError(
            f"{path}: this is a payout file in the {other.dialect} format of province "
            f"{other.province_code} ({other.province_name}), not in the {profile.dialect} format of province "
            f"{profile.province_code} ({profile.province_name}); import it with --province "
            f"{other.province_code}, or ask province {profile.province_code} for its own file."
        ) from exc


def _load_canonical(path: Path, kind: str) -> Loaded:
    """An orders or events file; a payout result file given by mistake is named as such."""
    try:
        return load_orders(path) if kind == "orders" else load_events(path)
    except InputError as exc:
        payout = _dialect_of(path)
        if payout is None:
            raise
        raise InputError(
            f"{path}: this is a payout result file in the {payout.dialect} format of province "
            f"{payout.province_code} ({payout.province_name}), not an {kind} file; import it with "
            f"`disburse import payouts {path} --province {payout.province_code} --period YYYY-MM`."
        ) from exc


# Columns that tell the canonical files apart (DOMAIN.md "Canonical records").
_CANONICAL_MARKERS = {"orders": {"order_id", "amount_vnd"}, "events": {"event", "effective_date"}}


def _canonical_kind(path: Path) -> str | None:
    """ "orders" or "events" when the file carries that canonical header, else None."""
    try:
        if path.suffix.lower() == ".parquet":
            headers: set[str] = set(pl.read_parquet_schema(path))
        elif path.suffix.lower() == ".xlsx":
            import fastexcel

            sheet = fastexcel.read_excel(path).load_sheet(0, header_row=0, n_rows=0)
            headers = {str(c.name) for c in sheet.available_columns()}
        else:
            with path.open("rb") as handle:
                first = handle.read(1 << 16).decode("utf-8-sig", errors="replace").splitlines()[:1]
            headers = set(next(csv.reader(first), []))
    except Exception:  # unreadable as a canonical file: then it is not one
        return None
    return next((kind for kind, marks in _CANONICAL_MARKERS.items() if marks <= headers), None)


def _dialect_of(path: Path) -> profiles.ProvinceProfile | None:
    """The first profile whose header the file carries, reading only the header (this runs only after a
    file failed to load, so its cost is paid on the error path alone)."""
    for candidate in profiles.all_profiles().values():
        try:
            headers = _header_in(path, candidate)
            resolve_headers(headers, candidate.columns, path.name, optional=("row_number",))
        except Exception:  # unreadable in this dialect, or another header: "not this dialect"
            continue
        return candidate
    return None


def _header_in(path: Path, candidate: profiles.ProvinceProfile) -> tuple[str, ...]:
    if candidate.container == "xlsx":
        import fastexcel  # the XLSX reader the loaders use; only the header row is read here

        reader = fastexcel.read_excel(path)
        sheet: str | int = candidate.sheet if candidate.sheet is not None else 0
        loaded = reader.load_sheet(sheet, header_row=candidate.header_row - 1, n_rows=0)
        return tuple(str(c.name) for c in loaded.available_columns())
    with path.open("rb") as handle:
        head = handle.read(1 << 16).decode(candidate.encoding, errors="replace")
    rows = list(csv.reader(io.StringIO(head), delimiter=candidate.delimiter))
    return tuple(rows[candidate.header_row - 1]) if len(rows) >= candidate.header_row else ()


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
    progress: Progress = no_progress,
) -> ReconcileReport:
    """Reconcile every province of the period (a DUPLICATE_ORDER can span provinces) and write the outputs,
    for one province only when ``province`` is given."""
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
    receipt = ledger.record_run(period, params, batch_ids, result, user=current_user())

    summary, exceptions = result.summary, result.exceptions
    if code is not None:
        summary = summary.filter(pl.col("province_code") == code)
        exceptions = exceptions.filter(pl.col("province_code") == code)
    all_orders = pl.concat([inp.orders, inp.prior_orders.select(inp.orders.columns)])
    named = report_files.with_names(exceptions, all_orders, inp.payouts)
    run = RunInfo(period=period, run_id=receipt.run_id, generated_at=generated_at or datetime.now(UTC))
    targets = _report_targets(out, run, by_code, summary, exceptions, named)
    written: list[Path] = []
    for done, (target, write) in enumerate(targets, start=3):
        progress(job, done, 3 + len(targets), f"writing {target.name}")
        write_target(target, written, write)
    progress(job, 3 + len(targets), 3 + len(targets), "done")
    return ReconcileReport(period, receipt.run_id, receipt.created, out, written, summary, exceptions)


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
    period = run.period
    document = report_files.summary_document(
        period=period, run_id=run.run_id, summary=summary, exceptions=exceptions
    )
    targets: list[tuple[Path, Writer]] = [
        (out / "exceptions.csv", lambda p: report_files.write_exceptions_csv(p, exceptions)),
        (out / "summary.json", lambda p: report_files.write_summary_json(p, document)),
        (out / "exceptions.xlsx", lambda p: write_exceptions_xlsx(p, named, created=run.generated_at)),
    ]
    for row in summary.iter_rows(named=True):  # one PDF per province: five rows, not a hot path
        rows = named.filter(pl.col("province_code") == row["province_code"])
        if rows.is_empty():
            continue  # a province with no discrepancy gets no PDF; the national summary still lists it
        render = functools.partial(
            render_province_pdf, profile=by_code[row["province_code"]], run=run, summary=row, exceptions=rows
        )
        targets.append((out / f"discrepancies_{row['province_code']}_{period}.pdf", render))
    national = functools.partial(render_national_pdf, run=run, summary=summary, exceptions=named)
    targets.append((out / f"national_summary_{period}.pdf", national))
    return targets


def write_target(path: Path, written: list[Path], write: Callable[[Path], None]) -> None:
    """Write to a temporary name then rename, so a crash never leaves a half-written report."""
    partial = path.with_name(path.name + ".partial")
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


# --- where a period stands ----------------------------------------------------------------------------------

SEVERITIES = tuple(sorted(SEVERITY_RANK, key=SEVERITY_RANK.__getitem__))  # critical first
OPEN_STATUSES = ("new", "acknowledged")
STATUSES = (*OPEN_STATUSES, "resolved")


@dataclass(frozen=True)
class StatusReport:
    period: str
    provinces: pl.DataFrame  # one row per pilot province (and any other the ledger holds for the period)
    event_batches: int
    event_lines: int
    run: RunState | None
    next_steps: list[str]

    def as_dict(self) -> dict[str, Any]:
        run = None
        if self.run is not None:
            run = {
                "run_id": self.run.run_id,
                "created_at": self.run.created_at.isoformat(),
                "created_by": self.run.created_by,
                "up_to_date": self.run.up_to_date,
            }
        return {
            "period": self.period,
            "provinces": self.provinces.to_dicts(),
            "events": {"batches": self.event_batches, "lines": self.event_lines},
            "run": run,
            "next_steps": self.next_steps,
        }


def period_status(ledger: Ledger, period: str) -> StatusReport:
    """What is imported for each province, what is missing, what was reconciled, what is still open."""
    state = ledger.period_status(check_period(period))
    provinces = _province_rows(state)
    return StatusReport(
        period, provinces, state.event_batches, state.event_lines, state.run, _next_steps(state, provinces)
    )


def _province_rows(state: PeriodStatus) -> pl.DataFrame:
    pilots = profiles.pilot_provinces()
    codes = sorted(
        set(pilots)
        | set(state.orders["province_code"].drop_nulls())
        | set(state.payouts["province_code"].drop_nulls())
    )
    base = pl.DataFrame(
        {
            "province_code": codes,
            "province_name": [pilots[c].province_name if c in pilots else "" for c in codes],
        }
    )
    open_cases = state.exceptions.filter(pl.col("status").is_in(OPEN_STATUSES))
    by_severity = [
        pl.col("count").filter(pl.col("severity") == severity).sum().cast(pl.Int64).alias(f"open_{severity}")
        for severity in SEVERITIES
    ]
    counts = open_cases.group_by("province_code").agg(by_severity)
    resolved = (
        state.exceptions.filter(pl.col("status") == "resolved")
        .group_by("province_code")
        .agg(pl.col("count").sum().cast(pl.Int64).alias("resolved"))
    )
    reconciled = state.reconciled.select(
        "province_code", pl.col("orders").alias("reconciled_orders"), "residual_vnd"
    )
    frame = (
        base.join(state.orders, on="province_code", how="left")
        .join(
            state.payouts.rename({"files": "payout_files", "lines": "payout_lines"}),
            on="province_code",
            how="left",
        )
        .join(reconciled, on="province_code", how="left")
        .join(counts, on="province_code", how="left")
        .join(resolved, on="province_code", how="left")
    )
    zero = ["orders", "ordered_vnd", "payout_files", "payout_lines", "resolved"]
    zero += [f"open_{s}" for s in SEVERITIES]
    frame = frame.with_columns(
        pl.col(zero).fill_null(0),
        pl.col("sources").fill_null([]).alias("payout_sources"),
        pl.col("reconciled_orders").is_not_null().alias("reconciled"),
        pl.col("province_code").is_in(sorted(state.closed)).alias("closed"),
    )
    missing = pl.concat_list(
        pl.when(pl.col("orders") == 0).then(pl.lit(["orders"])).otherwise(pl.lit([], pl.List(pl.String))),
        pl.when(pl.col("payout_files") == 0)
        .then(pl.lit(["payout file"]))
        .otherwise(pl.lit([], pl.List(pl.String))),
    )
    return frame.with_columns(missing.alias("missing")).select(
        "province_code",
        "province_name",
        "orders",
        "ordered_vnd",
        "payout_files",
        "payout_lines",
        "payout_sources",
        "missing",
        "reconciled",
        "residual_vnd",
        *[f"open_{s}" for s in SEVERITIES],
        "resolved",
        "closed",
    )


def _next_steps(state: PeriodStatus, provinces: pl.DataFrame) -> list[str]:
    """What the officer should do next, in the order of the month, each with the command to type."""
    period = state.period
    steps: list[str] = []
    if state.orders.is_empty():
        steps.append(f"Import the payment list: disburse import orders FILE (no orders of {period} yet).")
    no_file = provinces.filter(pl.col("payout_files") == 0, ~pl.col("closed"))["province_code"].to_list()
    if no_file:
        steps.append(
            f"Import the payout file of province {', '.join(no_file)}: "
            f"disburse import payouts FILE --province CODE --period {period}."
        )
    if state.event_batches == 0:
        steps.append("Import the registry events if the department sent them: disburse import events FILE.")
    if not state.orders.is_empty() and state.run is None:
        steps.append(f"Reconcile: disburse reconcile --period {period}.")
    elif state.run is not None and not state.run.up_to_date:
        steps.append(
            f"Reconcile again, files changed since run {state.run.run_id}: "
            f"disburse reconcile --period {period}."
        )
    urgent = int(provinces.select(pl.sum("open_critical") + pl.sum("open_high")).item())
    if urgent:
        steps.append(
            f"Follow up {urgent} open critical or high exception(s): "
            f"disburse exceptions list --period {period} --status open --min-severity high."
        )
    if state.run is not None and state.run.up_to_date:
        open_provinces = provinces.filter(pl.col("reconciled"), ~pl.col("closed"))["province_code"].to_list()
        if open_provinces:
            steps.append(
                f"When a province's month is settled, close it: disburse close --period {period} "
                f"--province CODE (still open: {', '.join(open_provinces)})."
            )
    if not steps and provinces["closed"].all():
        steps.append(f"Nothing to do: {period} is closed for every province.")
    return steps


# --- exceptions: list, show, acknowledge, resolve -----------------------------------------------------------


def utc_now() -> datetime:
    """The clock ages are counted against (one place, so a test can fix it)."""
    return datetime.now(UTC)


def _choice(
    value: str | None, allowed: tuple[str, ...], what: str, transform: Callable[[str], str]
) -> str | None:
    if value is None:
        return None
    chosen = transform(value.strip())
    if chosen not in allowed:
        raise InputError(f"{what} {value!r} is not known; use one of {', '.join(allowed)}.")
    return chosen


def check_severity(severity: str | None) -> str | None:
    return _choice(severity, SEVERITIES, "severity", str.lower)


def list_exceptions(
    ledger: Ledger,
    *,
    period: str | None = None,
    province: str | None = None,
    code: str | None = None,
    severity: str | None = None,
    status: str | None = None,
    min_severity: str | None = None,
    older_than_days: int | None = None,
) -> pl.DataFrame:
    """Exception cases with their number, status and age in days (since the first run that reported them).

    ``min_severity`` keeps that severity and the graver ones; ``status`` "open" means new or acknowledged;
    ``older_than_days`` keeps cases first seen more than that many days ago."""
    if older_than_days is not None and older_than_days < 0:
        raise InputError(f"--older-than-days {older_than_days} cannot be negative; give 0 or more days.")
    floor = check_severity(min_severity)
    chosen_status = _choice(status, (*STATUSES, "open"), "status", str.lower)
    frame = ledger.exceptions(
        period=check_period(period) if period is not None else None,
        province=province_code(province) if province is not None else None,
        code=_choice(code, tuple(Code), "exception code", str.upper),
        severity=check_severity(severity),
        status=chosen_status if chosen_status in STATUSES else None,
    )
    if chosen_status == "open":
        frame = frame.filter(pl.col("status").is_in(OPEN_STATUSES))
    if floor is not None:
        frame = frame.filter(pl.col("severity").is_in(_graver_or_equal(floor)))
    now = utc_now().replace(tzinfo=None)  # the ledger hands back naive UTC
    age = pl.lit(now) - pl.col("first_seen_at")
    frame = frame.with_columns(age.dt.total_days().cast(pl.Int64).alias("age_days"))
    if older_than_days is not None:
        frame = frame.filter(age > timedelta(days=older_than_days))
    numbers = ledger.exception_numbers(period)
    return frame.join(numbers, on="exception_key", how="left", maintain_order="left").select(
        "case_id", *[c for c in frame.columns if c != "case_id"]
    )


def exception_key(ledger: Ledger, ref: str) -> str:
    """A case given by its number (as `exceptions list` shows it) or by its full key."""
    ref = ref.strip()
    return ledger.exception_key(int(ref)) if ref.isdigit() else ref


def show_exception(ledger: Ledger, ref: str) -> dict[str, Any]:
    """One case: identity, current status, its rows in the runs that reported it, and its status history."""
    key = exception_key(ledger, ref)
    detail = ledger.exception_case(key)
    case = detail["case"].to_dicts()[0]
    statuses = detail["statuses"]
    rows = detail["rows"]
    latest = statuses.tail(1).to_dicts()
    first_seen: datetime = case["first_seen_at"]
    case |= {
        "status": latest[0]["status"] if latest else "new",
        "age_days": (utc_now().replace(tzinfo=None) - first_seen).days,
        "in_latest_run": bool(rows["latest_run"].any()),
    }
    return {"case": case, "rows": rows.to_dicts(), "statuses": statuses.to_dicts()}


def acknowledge(ledger: Ledger, ref: str, note: str) -> str:
    key = exception_key(ledger, ref)
    ledger.ack(key, note, current_user())
    return key


def resolve(ledger: Ledger, ref: str, note: str) -> str:
    key = exception_key(ledger, ref)
    ledger.resolve(key, note, current_user())
    return key


# --- reconcile's exit status --------------------------------------------------------------------------------


def count_at_or_above(exceptions: pl.DataFrame, severity: str) -> int:
    """Rows of ``exceptions`` at ``severity`` or graver: what ``reconcile --fail-on`` turns into exit 1."""
    return int(exceptions.filter(pl.col("severity").is_in(_graver_or_equal(severity))).height)


def _graver_or_equal(severity: str) -> list[str]:
    return [s for s in SEVERITIES if SEVERITY_RANK[s] <= SEVERITY_RANK[severity]]


def default_out(period: str) -> Path:
    """Where `reconcile` writes when --out is not given: <output_dir>/<period>."""
    return settings().output_dir / check_period(period)
