"""Exceptions after the run: list, show, acknowledge, resolve; what --fail-on counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from disburse.errors import InputError
from disburse.ledger import Ledger
from disburse.pipeline.imports import province_code
from disburse.pipeline.settings import OPEN_STATUSES, SEVERITIES, STATUSES, check_period, current_user
from disburse.schema import SEVERITY_RANK, Code


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
