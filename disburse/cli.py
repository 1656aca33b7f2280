"""`disburse`: the month of a finance officer, one command per step. Parse, call the pipeline, print."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from disburse import pipeline
from disburse.errors import DisburseError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    help=(
        "Reconcile welfare allowances paid in cash through the post office.\n\n"
        "A month, in order: init → import orders → import events → import payouts (one per province) "
        "→ reconcile. Try `disburse demo` for a whole generated month."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
fixtures_app = typer.Typer(help="Generate sample months with known discrepancies.", no_args_is_help=True)
import_app = typer.Typer(help="Import a file into the ledger as a batch.", no_args_is_help=True)
app.add_typer(fixtures_app, name="fixtures")
app.add_typer(import_app, name="import")

# A pipe or a file gets wide lines rather than tables cut at 80 columns.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Errors a user can cause end in one clear message and exit code 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DisburseError as exc:
            err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


PeriodOpt = Annotated[str, typer.Option("--period", help="The month, YYYY-MM.")]


@app.command()
@friendly
def init() -> None:
    """Create the ledger or migrate it to the latest schema.

    SQLite file ./disburse.db unless DISBURSE_DATABASE_URL is set.
    \b
    Example:
      disburse init
    """
    pipeline.open_ledger().upgrade()
    out.print(f"ledger ready: {pipeline.database_url(hide_password=True)}")


@fixtures_app.command("generate")
@friendly
def fixtures_generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write into (one sub-folder per month).")],
    period: PeriodOpt = "2026-10",
    rows: Annotated[int, typer.Option(help="Order lines per month, over the five provinces.")] = 3000,
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 1,
    months: Annotated[int, typer.Option(help="Consecutive months, starting at --period.")] = 1,
) -> None:
    """Write generated months: orders, events, one payout file per province in its dialect, and
    expected_exceptions.csv (the discrepancies injected).

    \b

    Example:

      disburse fixtures generate --out sample --period 2026-10 --rows 500 --seed 7
    """
    for files in pipeline.generate_fixtures(out_dir, period=period, rows=rows, seed=seed, months=months):
        out.print(f"{files.period}: {files.folder} ({len(files.payouts)} payout files)")


@import_app.command("orders")
@friendly
def import_orders(
    file: Annotated[Path, typer.Argument(help="Orders file: CSV (UTF-8), Parquet or XLSX.")],
    supersedes: Annotated[int | None, typer.Option(help="Batch id this corrected file replaces.")] = None,
) -> None:
    """Import the department's payment list for a period.

    \b

    Example:

      disburse import orders sample/2026-10/orders.csv
    """
    _print_import(pipeline.import_orders(pipeline.open_ledger(), file, supersedes=supersedes))


@import_app.command("events")
@friendly
def import_events(
    file: Annotated[Path, typer.Argument(help="Registry events file: CSV, Parquet or XLSX.")],
    supersedes: Annotated[int | None, typer.Option(help="Batch id this corrected file replaces.")] = None,
) -> None:
    """Import registry events (DECEASED, MOVED, IMPRISONED, SUSPENDED).

    \b

    Example:

      disburse import events sample/2026-10/events.csv
    """
    _print_import(pipeline.import_events(pipeline.open_ledger(), file, supersedes=supersedes))


@import_app.command("payouts")
@friendly
def import_payouts(
    file: Annotated[Path, typer.Argument(help="The post office's payout result file, as it arrived.")],
    province: Annotated[str, typer.Option("--province", help="Province code, e.g. 79 (legacy codes too).")],
    period: PeriodOpt,
    dialect: Annotated[str | None, typer.Option(help="Profile name when not the province's default.")] = None,
    supersedes: Annotated[int | None, typer.Option(help="Batch id this corrected file replaces.")] = None,
) -> None:
    """Import one province's payout result file, read in that province's dialect.

    \b

    Example:

      disburse import payouts sample/2026-10/payouts/79_hcm_2026-10.csv --province 79 --period 2026-10
    """
    report = pipeline.import_payouts(
        pipeline.open_ledger(), file, province=province, period=period, dialect=dialect, supersedes=supersedes
    )
    _print_import(report)


def _print_import(report: pipeline.ImportReport) -> None:
    receipt = report.receipt
    if receipt.created:
        out.print(
            f"imported {report.source} as batch {receipt.batch_id} ({receipt.line_count} {report.kind} lines)"
        )
    else:
        reason = (
            receipt.existing_reason or f"{report.source} was already imported as batch {receipt.batch_id}."
        )
        out.print(f"already imported, nothing changed: {reason}")


@app.command()
@friendly
def reconcile(
    period: PeriodOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for exceptions.csv, summary.json, PDFs.")],
    province: Annotated[str | None, typer.Option(help="Write outputs for this province only.")] = None,
    tolerance_vnd: Annotated[
        int | None, typer.Option(help="Amount tolerance in VND (default: each profile's, 0).")
    ] = None,
    generated_at: Annotated[
        datetime | None,
        typer.Option(
            help="Date printed in the reports (default: now); fix it to get byte-identical PDFs.",
            formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        ),
    ] = None,
) -> None:
    """Match the period's orders against every payout file and write the exception reports.

    \b

    Example:

      disburse reconcile --period 2026-10 --out out/2026-10
    """
    report = pipeline.reconcile_period(
        pipeline.open_ledger(),
        period=period,
        out=out_dir,
        province=province,
        amount_tolerance_vnd=tolerance_vnd,
        generated_at=generated_at.replace(tzinfo=UTC) if generated_at else None,
    )
    _print_reconcile(report)


def _print_reconcile(report: pipeline.ReconcileReport) -> None:
    state = "" if report.created else " (same inputs as an earlier run: results unchanged)"
    out.print(f"run {report.run_id} for {report.period}{state}")
    table = Table(
        "province",
        "orders",
        "ordered VND",
        "paid VND",
        "unpaid+missing VND",
        "residual VND",
        "critical",
        "high",
        "warning",
        "info",
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
            *(str(counts.get(s, 0)) for s in ("critical", "high", "warning", "info")),
        )
    out.print(table)
    out.print(f"written to {report.out}:")
    for path in report.written:
        out.print(f"  {path.name}")


@app.command()
@friendly
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the data, the ledger and the reports.")
    ] = Path("demo-out"),
    rows: Annotated[int, typer.Option(help="Order lines per month.")] = 3000,
    months: Annotated[int, typer.Option(help="Months to run in a row (history feeds carry-forward).")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 1,
    period: Annotated[str, typer.Option(help="First month.")] = "2026-08",
) -> None:
    """Generate months of data for the five pilot provinces, import them into a fresh SQLite ledger in
    --out, reconcile each month and write the reports.

    \b

    Example:

      disburse demo --out demo-out --rows 3000
    """
    runs = pipeline.run_demo(
        out_dir, rows=rows, seed=seed, months=months, period=period, on_step=lambda s: out.print(f"· {s}")
    )
    for run in runs:
        _print_reconcile(run.report)


# --- after the run: exceptions, periods, history, integrity ---

exceptions_app = typer.Typer(
    help="Follow up the exceptions found: list, acknowledge, resolve.", no_args_is_help=True
)
ledger_app = typer.Typer(help="Check the ledger's integrity.", no_args_is_help=True)
app.add_typer(exceptions_app, name="exceptions")
app.add_typer(ledger_app, name="ledger")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def _print_frame(frame: pl.DataFrame, *, title: str, as_json: bool) -> None:
    if as_json:
        typer.echo(frame.write_json())
        return
    if frame.is_empty():
        out.print(f"{title}: none")
        return
    table = Table(*frame.columns, title=title)
    for row in frame.iter_rows():  # what a person reads on a terminal: a display loop, not a hot path
        table.add_row(*("" if v is None else str(v) for v in row))
    out.print(table)


@exceptions_app.command("list")
@friendly
def exceptions_list(
    period: Annotated[str | None, typer.Option(help="YYYY-MM")] = None,
    province: Annotated[str | None, typer.Option(help="Province code.")] = None,
    code: Annotated[str | None, typer.Option(help="Exception code, e.g. OVERPAID.")] = None,
    severity: Annotated[str | None, typer.Option(help="critical, high, warning or info.")] = None,
    status: Annotated[str | None, typer.Option(help="new, acknowledged or resolved.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List exceptions with their status, first-seen period and age.

    \b
    Example:
      disburse exceptions list --period 2026-10 --severity critical
    """
    frame = pipeline.open_ledger().exceptions(
        period=period, province=province, code=code, severity=severity, status=status
    )
    if not as_json:  # the key already names code, period, province, order and payout
        frame = frame.select("exception_key", "severity", "status", "first_seen_at", "in_latest_run", "note")
    _print_frame(frame, title="Exceptions", as_json=as_json)


@exceptions_app.command("ack")
@friendly
def exceptions_ack(
    key: Annotated[str, typer.Argument(help="The exception's key, as `exceptions list` shows it.")],
    note: Annotated[str, typer.Option(help="What was decided, for the record.")],
) -> None:
    """Acknowledge an exception: seen and being handled.

    \b
    Example:
      disburse exceptions ack KEY --note "Bưu điện đã xác nhận, đang thu hồi"
    """
    pipeline.open_ledger().ack(key, note, pipeline.current_user())
    out.print(f"acknowledged {key}")


@exceptions_app.command("resolve")
@friendly
def exceptions_resolve(
    key: Annotated[str, typer.Argument(help="The exception's key, as `exceptions list` shows it.")],
    note: Annotated[str, typer.Option(help="How it was resolved, for the record.")],
) -> None:
    """Resolve an exception, with a note saying how.

    \b
    Example:
      disburse exceptions resolve KEY --note "Đã thu hồi 1.500.000 đ, chứng từ số 12"
    """
    pipeline.open_ledger().resolve(key, note, pipeline.current_user())
    out.print(f"resolved {key}")


@app.command()
@friendly
def close(
    period: PeriodOpt,
    province: Annotated[str, typer.Option("--province", help="Province code.")],
) -> None:
    """Close a province's period: later imports and runs for it are refused.

    \b
    Example:
      disburse close --period 2026-10 --province 79
    """
    pipeline.open_ledger().close_period(
        pipeline.check_period(period), pipeline.province_code(province), user=pipeline.current_user()
    )
    out.print(f"closed {period} for province {province}")


@app.command()
@friendly
def reopen(
    period: PeriodOpt,
    province: Annotated[str, typer.Option("--province", help="Province code.")],
    reason: Annotated[str, typer.Option(help="Why it must be reopened; recorded in the ledger.")],
) -> None:
    """Reopen a closed period, with a reason that is recorded.

    \b
    Example:
      disburse reopen --period 2026-10 --province 79 --reason "Bưu điện gửi lại tệp đã sửa"
    """
    pipeline.open_ledger().reopen_period(
        pipeline.check_period(period),
        pipeline.province_code(province),
        reason=reason,
        user=pipeline.current_user(),
    )
    out.print(f"reopened {period} for province {province}")


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
        typer.echo(json.dumps({name: frame.to_dicts() for name, frame in frames.items()}, default=str))
        return
    for name, frame in frames.items():
        _print_frame(frame, title=f"{beneficiary_id}: {name}", as_json=False)


@ledger_app.command("verify")
@friendly
def ledger_verify() -> None:
    """Check every invariant: journal entries balance, the audit chain is intact, stored lines still hash to
    their batch's digest. Exit code 1 when anything is wrong.

    \b
    Example:
      disburse ledger verify
    """
    problems = pipeline.open_ledger().verify()
    for problem in problems:
        err.print(f"problem: {problem}", markup=False)
    if problems:
        raise typer.Exit(1)
    out.print("ledger verified: every entry balances, the audit chain is intact, every batch hashes")
