"""Where a period stands: what is imported, missing, reconciled, open, closed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from disburse import profile as profiles
from disburse.ledger import Ledger
from disburse.ledger.status import PeriodStatus, RunState
from disburse.pipeline.settings import OPEN_STATUSES, SEVERITIES, check_period


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
