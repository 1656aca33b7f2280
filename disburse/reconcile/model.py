"""Inputs and outputs of the reconcile core: frozen records of canonical frames."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from disburse.profile import ProvinceProfile


@dataclass(frozen=True)
class ReconcileInput:
    period: str  # YYYY-MM
    orders: pl.DataFrame  # ORDER_SCHEMA: the orders of `period` (one or more provinces)
    prior_orders: pl.DataFrame  # PRIOR_ORDER_SCHEMA: orders of earlier periods with their state
    events: pl.DataFrame  # EVENT_SCHEMA: every registry event known
    payouts: pl.DataFrame  # PAYOUT_SCHEMA: every payout line of the period's files
    control_totals: pl.DataFrame  # CONTROL_TOTAL_SCHEMA
    profiles: Mapping[str, ProvinceProfile]  # by current province code


@dataclass(frozen=True)
class ReconcileResult:
    exceptions: pl.DataFrame  # EXCEPTION_SCHEMA, sorted (see reconcile.sort_exceptions)
    outcomes: pl.DataFrame  # OUTCOME_SCHEMA, sorted by order_id
    summary: pl.DataFrame  # SUMMARY_SCHEMA, sorted by province_code
