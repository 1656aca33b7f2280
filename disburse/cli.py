"""`disburse`: the month of a finance officer, one command per step. Parse, call the pipeline, print.

Output rules: results go to stdout (a table, or JSON with --json); errors, progress bars and the --fail-on
verdict go to stderr, so `--json` output can always be piped. Progress bars are drawn only on a terminal and
never with --quiet.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import polars as pl
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from typer.core import TyperGroup

from disburse import pipeline
from disburse.errors import DisburseError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_CODES = (
    "\b\n"
    "Exit codes:\n"
    "  0  success (also a file imported again: nothing changed)\n"
    "  1  reconcile --fail-on SEVERITY found exceptions at or above it; ledger verify found a problem\n"
    "  2  bad usage or bad input: the message names the file, row, column or value and what to do"
)

# The order of the month, for `disburse --help` (click would sort the commands alphabetically).
MONTH_ORDER = (
    "init",
    "status",
    "import",
    "reconcile",
    "exceptions",
    "close",
    "reopen",
    "history",
    "ledger",
    "config",
    "fixtures",
    "demo",
)


class MonthOrder(TyperGroup):
    def list_commands(self, ctx: object) -> list[str]:
        known = [name for name in MONTH_ORDER if name in self.commands]
        return known + sorted(set(self.commands) - set(known))


app = typer.Typer(
    cls=MonthOrder,
    help=(
        "Reconcile welfare allowances paid in cash through the post office.\n\n"
        "\b\n"
        "A month, in order:\n"
        "  disburse init                            once: create the ledger\n"
        "  disburse status --period 2026-10         what is imported, missing, reconciled, open\n"
        "  disburse import orders FILE              the department's payment list\n"
        "  disburse import events FILE              registry events (deaths, moves), when sent\n"
        "  disburse import payouts FILE --province 79 --period 2026-10\n"
        "                                           one payout file per province\n"
        "  disburse reconcile --period 2026-10      match; write exceptions.csv, summary.json, PDFs\n"
        "  disburse exceptions list --status open   follow up: list, show, ack, resolve\n"
        "  disburse close --period 2026-10 --province 79\n"
        "                                           lock a province's month when it is settled\n\n"
        f"{EXIT_CODES}\n\n"
        "Settings come from DISBURSE_DATABASE_URL, DISBURSE_USER, DISBURSE_PROFILES_DIR, "
        "DISBURSE_OUTPUT_DIR, else ./disburse.toml (or the file named by DISBURSE_CONFIG): "
        "see `disburse config show`. Try `disburse demo` for three generated months."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

# A pipe or a file gets wide lines rather than tables cut at 80 columns.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


@dataclass
class _State:
    quiet: bool = False


state = _State()


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Errors a user can cause end in one clear message and exit code 2, never a traceback. Anything else
    is a bug and keeps its traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DisburseError as exc:
            err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


@app.callback()
@friendly
def main(
    ctx: typer.Context,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bars and no confirmations; errors are still shown."),
    ] = False,
) -> None:
    state.quiet = quiet
    # profiles_dir of disburse.toml reaches the profiles through the environment, for this command only.
    ctx.with_resource(pipeline.profiles_dir_applied())


def quiet_if(quiet: bool) -> None:
    """--quiet works before the command (`disburse -q import ...`) and after it, where people type it."""
    state.quiet = state.quiet or quiet


def say(message: str) -> None:
    """A confirmation or a step: silent with --quiet."""
    if not state.quiet:
        out.print(message, markup=False, highlight=False, soft_wrap=True)


class _Bars:
    """``pipeline.Progress`` drawn as rich bars: one bar per job, removed when the job is done."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, job: str, done: int, total: int, doing: str) -> None:
        task = self.tasks.get(job)
        if task is None:
            task = self.tasks[job] = self.progress.add_task(job, total=total)
        self.progress.update(task, completed=done, total=total, description=f"{job}: {doing}")
        if done >= total:
            self.progress.remove_task(task)
            del self.tasks[job]


@contextmanager
def progress_bars() -> Iterator[pipeline.Progress]:
    """Bars on a terminal; nothing in a pipe, a log file or with --quiet, where they would be noise."""
    if state.quiet or not err.is_terminal:
        yield pipeline.no_progress
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        yield _Bars(progress)


def print_json(value: object) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, default=_json_value))


def _json_value(value: object) -> str:
    """Dates and times as ISO 8601 (naive datetimes from the ledger are UTC)."""
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


PeriodOpt = Annotated[str, typer.Option("--period", help="The month, YYYY-MM.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress bars and no confirmations; errors are still shown.")
]
SupersedesOpt = Annotated[int | None, typer.Option(help="Batch id this corrected file replaces.")]


# --- the month ----------------------------------------------------------------------------------------------


@app.command()
@friendly
def init(quiet: QuietOpt = False) -> None:
    """Create the ledger or migrate it to the latest schema; safe to run again.

    SQLite file ./disburse.db unless DISBURSE_DATABASE_URL (or database_url in disburse.toml) names another.

    \b
    Example:
      disburse init
    """
    quiet_if(quiet)
    pipeline.open_ledger(create=True).upgrade()
    say(f"ledger ready: {pipeline.database_url(hide_password=True)}")


@app.command()
@friendly
def status(period: PeriodOpt, as_json: JsonOpt = False) -> None:
    """Where a month stands, by province: orders and payout files imported, what is missing, whether it
    was reconciled, open exceptions by severity, whether it is closed; then what to do next.

    \b
    Example:
      disburse status --period 2026-10
    """
    report = pipeline.period_status(pipeline.open_ledger(), period)
    if as_json:
        print_json(report.as_dict())
        return
    _print_status(report)


def _print_status(report: pipeline.StatusReport) -> None:
    run = report.run
    if run is None:
        out.print(f"{report.period}: not reconciled yet")
    else:
        fresh = "up to date" if run.up_to_date else "out of date: files changed since, reconcile again"
        out.print(
            f"{report.period}: latest run {run.run_id}, {run.created_at:%Y-%m-%d %H:%M} UTC "
            f"by {run.created_by} ({fresh})",
            markup=False,
        )
    table = Table(
        "province",
        "orders",
        "ordered VND",
        "payout files",
        "missing",
        "reconciled",
        *pipeline.SEVERITIES,
        "resolved",
        "period",
        title=f"Status {report.period}",
        caption="critical, high, warning, info: open exceptions (new or acknowledged) of the latest run",
    )
    for row in report.provinces.iter_rows(named=True):  # five provinces: a display loop
        table.add_row(
            f"{row['province_code']} {row['province_name']}",
            f"{row['orders']:,}",
            f"{row['ordered_vnd']:,}",
            str(row["payout_files"]),
            ", ".join(row["missing"]) or "-",
            "yes" if row["reconciled"] else "no",
            *(str(row[f"open_{s}"]) for s in pipeline.SEVERITIES),
            str(row["resolved"]),
            "closed" if row["closed"] else "open",
        )
    out.print(table)
    out.print(f"registry events: {report.event_batches} file(s), {report.event_lines:,} lines (all months)")
    for step in report.next_steps:
        out.print(f"next: {step}", markup=False, highlight=False, soft_wrap=True)


import_app = typer.Typer(
    help="Import a file into the ledger as a batch. Importing the same file again changes nothing.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")


def _import_canonical(
    use_case: Callable[..., pipeline.ImportReport], file: Path, *, supersedes: int | None, quiet: bool
) -> None:
    """Orders and events files share one shape of import: canonical columns, no dialect."""
    quiet_if(quiet)
    with progress_bars() as progress:
        report = use_case(pipeline.open_ledger(), file, supersedes=supersedes, progress=progress)
    _print_import(report)


@import_app.command("orders")
@friendly
def import_orders(
    file: Annotated[Path, typer.Argument(help="Orders file: CSV (UTF-8), Parquet or XLSX.")],
    supersedes: SupersedesOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import the department's payment list for a period.

    \b
    Example:
      disburse import orders sample/2026-10/orders.csv
    """
    _import_canonical(pipeline.import_orders, file, supersedes=supersedes, quiet=quiet)


@import_app.command("events")
@friendly
def import_events(
    file: Annotated[Path, typer.Argument(help="Registry events file: CSV, Parquet or XLSX.")],
    supersedes: SupersedesOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import registry events (DECEASED, MOVED, IMPRISONED, SUSPENDED).

    \b
    Example:
      disburse import events sample/2026-10/events.csv
    """
    _import_canonical(pipeline.import_events, file, supersedes=supersedes, quiet=quiet)


@import_app.command("payouts")
@friendly
def import_payouts(
    file: Annotated[Path, typer.Argument(help="The post office's payout result file, as it arrived.")],
    province: Annotated[str, typer.Option("--province", help="Province code, e.g. 79 (legacy codes too).")],
    period: PeriodOpt,
    dialect: Annotated[str | None, typer.Option(help="Profile name when not the province's default.")] = None,
    supersedes: SupersedesOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import one province's payout result file, read in that province's dialect.

    \b
    Example:
      disburse import payouts sample/2026-10/payouts/79_hcm_2026-10.csv --province 79 --period 2026-10
    """
    quiet_if(quiet)
    with progress_bars() as progress:
        report = pipeline.import_payouts(
            pipeline.open_ledger(),
            file,
            province=province,
            period=period,
            dialect=dialect,
            supersedes=supersedes,
            progress=progress,
        )
    _print_import(report)


def _print_import(report: pipeline.ImportReport) -> None:
    receipt = report.receipt
    if receipt.created:
        say(
            f"imported {report.source} as batch {receipt.batch_id} ({receipt.line_count} {report.kind} lines)"
        )
    else:
        reason = (
            receipt.existing_reason or f"{report.source} was already imported as batch {receipt.batch_id}."
        )
        say(f"already imported, nothing changed: {reason}")


@app.command()
@friendly
def reconcile(
    period: PeriodOpt,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for exceptions.csv, summary.json, PDFs (default: <output_dir>/<period>, "
            "output_dir being ./out unless configured).",
        ),
    ] = None,
    province: Annotated[str | None, typer.Option(help="Write outputs for this province only.")] = None,
    tolerance_vnd: Annotated[
        int | None, typer.Option(help="Amount tolerance in VND (default: each profile's, 0).")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            help="Exit with code 1 when any exception at or above this severity (critical, high, warning, "
            "info) is in the outputs; for scripts and schedulers."
        ),
    ] = None,
    generated_at: Annotated[
        datetime | None,
        typer.Option(
            help="Date printed in the reports (default: now); fix it to get byte-identical PDFs.",
            formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        ),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Match the period's orders against every payout file and write the exception reports.

    Running it again with the same files gives the same run and the same reports.

    \b
    Example:
      disburse reconcile --period 2026-10 --out out/2026-10 --fail-on critical
    """
    quiet_if(quiet)
    threshold = pipeline.check_severity(fail_on)  # a typo is refused before any work
    with progress_bars() as progress:
        report = pipeline.reconcile_period(
            pipeline.open_ledger(),
            period=period,
            out=out_dir or pipeline.default_out(period),
            province=province,
            amount_tolerance_vnd=tolerance_vnd,
            generated_at=generated_at.replace(tzinfo=UTC) if generated_at else None,
            progress=progress,
        )
    if not state.quiet:
        _print_reconcile(report)
    for note in report.notes:  # a file not written is a warning: --quiet keeps it, on stderr
        (err if state.quiet else out).print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    if threshold is not None:
        found = pipeline.count_at_or_above(report.exceptions, threshold)
        if found:
            if not state.quiet:
                err.print(
                    f"{found} exception(s) at or above {threshold} (--fail-on {threshold}): exit code 1",
                    markup=False,
                )
            raise typer.Exit(1)


def _print_reconcile(report: pipeline.ReconcileReport) -> None:
    state_note = "" if report.created else " (same inputs as an earlier run: results unchanged)"
    out.print(f"run {report.run_id} for {report.period}{state_note}")
    table = Table(
        "province",
        "orders",
        "ordered VND",
        "paid VND",
        "unpaid+missing VND",
        "residual VND",
        *pipeline.SEVERITIES,
        title=f"Reconciliation {report.period}",
    )
    by_severity = report.exceptions.group_by("province_code", "severity").len()
    for row in report.summary.iter_rows(named=True):  # one row per province
        counts = {
            r["severity"]: r["len"]
            for r in by_severity.filter(pl.col("province_code") == row["province_code"]).iter_rows(named=True)
        }
        table.add_row(
            row["province_code"],
            f"{row['orders']:,}",
            f"{row['ordered_vnd']:,}",
            f"{row['paid_out_vnd']:,}",
            f"{row['unpaid_vnd'] + row['missing_vnd']:,}",
            f"{row['residual_vnd']:,}",
            *(str(counts.get(s, 0)) for s in pipeline.SEVERITIES),
        )
    out.print(table)
    out.print(f"written to {report.out}:", markup=False, highlight=False)
    for path in report.written:
        out.print(f"  {path.name}", markup=False, highlight=False)


# --- after the run: exceptions, periods, history, integrity -------------------------------------------------

exceptions_app = typer.Typer(
    help="Follow up the exceptions a run found: list, show, ack (being handled), resolve (done).",
    no_args_is_help=True,
)
app.add_typer(exceptions_app, name="exceptions")

CaseArg = Annotated[
    str, typer.Argument(help="The exception's number (first column of `exceptions list`) or its key.")
]
TABLE_LIMIT = 200  # a terminal is for reading: more rows go to --json or a narrower filter


def _print_frame(frame: pl.DataFrame, *, title: str, as_json: bool, limit: int | None = None) -> None:
    if as_json:
        typer.echo(frame.write_json())
        return
    if frame.is_empty():
        out.print(f"{title}: none")
        return
    shown = frame.head(limit) if limit is not None else frame
    table = Table(*frame.columns, title=title)
    for row in shown.iter_rows():  # what a person reads on a terminal: a display loop, not a hot path
        table.add_row(*("" if v is None else str(v) for v in row))
    out.print(table)
    if shown.height < frame.height:
        out.print(
            f"... {frame.height - shown.height} more: narrow the filters, or use --json for all of them"
        )


@exceptions_app.command("list")
@friendly
def exceptions_list(
    period: Annotated[str | None, typer.Option(help="YYYY-MM")] = None,
    province: Annotated[str | None, typer.Option(help="Province code (legacy codes too).")] = None,
    code: Annotated[str | None, typer.Option(help="Exception code, e.g. OVERPAID.")] = None,
    severity: Annotated[
        str | None, typer.Option(help="Exactly this: critical, high, warning or info.")
    ] = None,
    min_severity: Annotated[
        str | None, typer.Option(help="This severity and the graver ones, e.g. high = high and critical.")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="new, acknowledged, resolved, or open (new or acknowledged).")
    ] = None,
    older_than_days: Annotated[
        int | None, typer.Option(help="Only exceptions first seen more than this many days ago.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List exceptions with their number, status and age (days since a run first reported them).

    \b
    Example:
      disburse exceptions list --period 2026-10 --min-severity high --status open --older-than-days 7
    """
    frame = pipeline.list_exceptions(
        pipeline.open_ledger(),
        period=period,
        province=province,
        code=code,
        severity=severity,
        min_severity=min_severity,
        status=status,
        older_than_days=older_than_days,
    )
    if not as_json:
        frame = frame.select(
            pl.col("case_id").alias("no"),
            "code",
            "severity",
            "period",
            pl.col("province_code").alias("province"),
            "order_id",
            "payout_id",
            "status",
            pl.col("age_days").alias("age (days)"),
            "note",
        )
    _print_frame(frame, title="Exceptions", as_json=as_json, limit=TABLE_LIMIT)


@exceptions_app.command("show")
@friendly
def exceptions_show(ref: CaseArg, as_json: JsonOpt = False) -> None:
    """Everything about one exception: what was found in each run, and who did what about it.

    \b
    Example:
      disburse exceptions show 12
    """
    detail = pipeline.show_exception(pipeline.open_ledger(), ref)
    if as_json:
        print_json(detail)
        return
    _print_fields(detail["case"], title=f"Exception {detail['case']['case_id']}")
    for row in detail["rows"]:
        _print_fields(row, title=f"Reported by run {row['run_id']}")
    _print_frame(pl.DataFrame(detail["statuses"]), title="Follow-up", as_json=False)


def _print_fields(fields: dict[str, object], *, title: str) -> None:
    table = Table("field", "value", title=title)
    for name, value in fields.items():
        table.add_row(name, _display(value))
    out.print(table)


def _display(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


@exceptions_app.command("ack")
@friendly
def exceptions_ack(
    ref: CaseArg,
    note: Annotated[str, typer.Option(help="What was decided, for the record.")],
    quiet: QuietOpt = False,
) -> None:
    """Acknowledge an exception: seen and being handled.

    \b
    Example:
      disburse exceptions ack 12 --note "Bưu điện đã xác nhận, đang thu hồi"
    """
    quiet_if(quiet)
    key = pipeline.acknowledge(pipeline.open_ledger(), ref, note)
    say(f"acknowledged exception {ref} ({key})" if ref.strip().isdigit() else f"acknowledged {key}")


@exceptions_app.command("resolve")
@friendly
def exceptions_resolve(
    ref: CaseArg,
    note: Annotated[str, typer.Option(help="How it was resolved, for the record.")],
    quiet: QuietOpt = False,
) -> None:
    """Resolve an exception, with a note saying how.

    \b
    Example:
      disburse exceptions resolve 12 --note "Đã thu hồi 1.500.000 đ, chứng từ số 12"
    """
    quiet_if(quiet)
    key = pipeline.resolve(pipeline.open_ledger(), ref, note)
    say(f"resolved exception {ref} ({key})" if ref.strip().isdigit() else f"resolved {key}")


@app.command()
@friendly
def close(
    period: PeriodOpt,
    province: Annotated[str, typer.Option("--province", help="Province code.")],
    quiet: QuietOpt = False,
) -> None:
    """Close a province's period: later imports and runs for it are refused.

    \b
    Example:
      disburse close --period 2026-10 --province 79
    """
    quiet_if(quiet)
    pipeline.open_ledger().close_period(
        pipeline.check_period(period), pipeline.province_code(province), user=pipeline.current_user()
    )
    say(f"closed {period} for province {province}")


@app.command()
@friendly
def reopen(
    period: PeriodOpt,
    province: Annotated[str, typer.Option("--province", help="Province code.")],
    reason: Annotated[str, typer.Option(help="Why it must be reopened; recorded in the ledger.")],
    quiet: QuietOpt = False,
) -> None:
    """Reopen a closed period, with a reason that is recorded.

    \b
    Example:
      disburse reopen --period 2026-10 --province 79 --reason "Bưu điện gửi lại tệp đã sửa"
    """
    quiet_if(quiet)
    pipeline.open_ledger().reopen_period(
        pipeline.check_period(period),
        pipeline.province_code(province),
        reason=reason,
        user=pipeline.current_user(),
    )
    say(f"reopened {period} for province {province}")


@app.command()
@friendly
def history(
    beneficiary_id: Annotated[str, typer.Argument(help="e.g. 79-NCC-0001234")],
    as_json: JsonOpt = False,
) -> None:
    """A beneficiary's orders, payouts and exceptions across months.

    \b
    Example:
      disburse history 79-NCC-0001234
    """
    frames = pipeline.open_ledger().history(beneficiary_id)
    if as_json:
        print_json({name: frame.to_dicts() for name, frame in frames.items()})
        return
    for name, frame in frames.items():
        _print_frame(frame, title=f"{beneficiary_id}: {name}", as_json=False)


ledger_app = typer.Typer(help="Check the ledger's integrity.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("verify")
@friendly
def ledger_verify(as_json: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Check every invariant: journal entries balance, the audit chain is intact, stored lines still hash to
    their batch's digest. Exit code 1 when anything is wrong.

    \b
    Example:
      disburse ledger verify
    """
    quiet_if(quiet)
    problems = pipeline.open_ledger().verify()
    if as_json:
        print_json({"ok": not problems, "problems": problems})
    else:
        for problem in problems:
            err.print(f"problem: {problem}", markup=False)
        if not problems:
            say("ledger verified: every entry balances, the audit chain is intact, every batch hashes")
    if problems:
        raise typer.Exit(1)


config_app = typer.Typer(help="The settings in effect and where each comes from.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
@friendly
def config_show(as_json: JsonOpt = False) -> None:
    """Print the effective settings and where each came from (environment, config file or default);
    the database password is hidden.

    Settings: database_url, user, profiles_dir, output_dir. An environment variable (DISBURSE_DATABASE_URL,
    DISBURSE_USER, DISBURSE_PROFILES_DIR, DISBURSE_OUTPUT_DIR) wins over the config file: ./disburse.toml,
    or the file named by DISBURSE_CONFIG.

    \b
    Example:
      disburse config show
    """
    report = pipeline.config_report()
    if as_json:
        print_json(report)
        return
    out.print(f"config file: {report['config_file'] or 'none (./disburse.toml not found)'}", markup=False)
    table = Table("setting", "value", "from", "environment variable", title="Settings")
    for item in report["settings"]:
        table.add_row(item["setting"], item["value"] or "", item["source"], item["environment"])
    out.print(table)


# --- sample data --------------------------------------------------------------------------------------------

fixtures_app = typer.Typer(help="Generate sample months with known discrepancies.", no_args_is_help=True)
app.add_typer(fixtures_app, name="fixtures")


@fixtures_app.command("generate")
@friendly
def fixtures_generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write into (one sub-folder per month).")],
    period: PeriodOpt = "2026-10",
    rows: Annotated[int, typer.Option(help="Order lines per month, over the five provinces.")] = 3000,
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 1,
    months: Annotated[int, typer.Option(help="Consecutive months, starting at --period.")] = 1,
    quiet: QuietOpt = False,
) -> None:
    """Write generated months: orders, events, one payout file per province in its dialect, and
    expected_exceptions.csv (the discrepancies injected).

    \b
    Example:
      disburse fixtures generate --out sample --period 2026-10 --rows 500 --seed 7
    """
    quiet_if(quiet)
    with progress_bars() as progress:
        generated = pipeline.generate_fixtures(
            out_dir, period=period, rows=rows, seed=seed, months=months, progress=progress
        )
    for files in generated:
        say(f"{files.period}: {files.folder} ({len(files.payouts)} payout files)")


@app.command()
@friendly
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the data, the ledger and the reports (emptied first).")
    ] = Path("demo-out"),
    rows: Annotated[int, typer.Option(help="Order lines per month.")] = 3000,
    months: Annotated[int, typer.Option(help="Months to run in a row (history feeds carry-forward).")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 1,
    period: Annotated[str, typer.Option(help="First month.")] = "2026-08",
    quiet: QuietOpt = False,
) -> None:
    """Generate months of data for the five pilot provinces, import them into a fresh SQLite ledger in
    --out, reconcile each month and write the reports.

    \b
    Example:
      disburse demo --out demo-out --rows 3000
    """
    quiet_if(quiet)
    with progress_bars() as progress:
        runs = pipeline.run_demo(
            out_dir,
            rows=rows,
            seed=seed,
            months=months,
            period=period,
            on_step=lambda step: say(f"· {step}"),
            progress=progress,
        )
    if not state.quiet:
        for run in runs:
            _print_reconcile(run.report)
