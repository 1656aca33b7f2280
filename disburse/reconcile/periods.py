"""Period arithmetic on ``YYYY-MM`` strings (scalars: a run has one period, never per row)."""

from __future__ import annotations

from datetime import date, timedelta


def shift_period(period: str, months: int) -> str:
    """``2026-01`` shifted by -1 is ``2025-12``."""
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def first_day(period: str) -> date:
    return date(int(period[:4]), int(period[5:7]), 1)


def last_day(period: str) -> date:
    return first_day(shift_period(period, 1)) - timedelta(days=1)
