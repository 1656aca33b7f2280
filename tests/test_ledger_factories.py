"""Small canonical frames and hand-built reconcile results for the ledger tests (no tests here).

The reconcile core is not used: each test states the outcomes it wants the ledger to store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from disburse.loaders.model import Loaded, LoadedPayouts
from disburse.reconcile.model import ReconcileResult
from disburse.schema import (
    CONTROL_TOTAL_SCHEMA,
    EVENT_SCHEMA,
    EXCEPTION_SCHEMA,
    ORDER_SCHEMA,
    OUTCOME_SCHEMA,
    PAYOUT_SCHEMA,
    REJECT_SCHEMA,
    SEVERITY,
    SUMMARY_SCHEMA,
    empty,
)

NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Đức Cường", "Phạm Thị Dung", "Hoàng Văn Em"]


def order_id(province: str, period: str, n: int) -> str:
    return f"{province}-{period.replace('-', '')}-{n:07d}"


def orders(period: str, province: str = "79", n: int = 3, *, start: int = 1) -> pl.DataFrame:
    """``n`` orders; beneficiary i is the same person every month (``{province}-NCC-{i}``)."""
    rows = []
    for i in range(start, start + n):
        rows.append(
            {
                "order_id": order_id(province, period, i),
                "period": period,
                "province_code": province,
                "ward_code": "26734",
                "beneficiary_id": f"{province}-NCC-{i:07d}",
                "national_id": f"{i:012d}",
                "full_name": NAMES[i % len(NAMES)],
                "birth_date": dt.date(1940 + i % 50, 1 + i % 12, 1 + i % 28),
                "program": "NCC",
                "allowance_code": "NCC.TB",
                "amount_vnd": 2_789_000 + i,
                "covers": [period],
                "proxy_national_id": f"{i + 500:012d}" if i % 3 == 0 else None,
                "proxy_name": "Người Nhận Thay" if i % 3 == 0 else None,
                "proxy_valid_until": dt.date(2027, 12, 31) if i % 3 == 0 else None,
            }
        )
    return pl.DataFrame(rows, schema=ORDER_SCHEMA)


def payouts(
    period: str, province: str, paid: Sequence[tuple[str, int]], *, prefix: str = "GD"
) -> pl.DataFrame:
    """One PAID line per (order_id, amount); amount 0 makes it UNPAID_ABSENT."""
    rows = []
    for i, (oid, amount) in enumerate(paid, 1):
        rows.append(
            {
                "province_code": province,
                "period": period,
                "payout_id": f"{prefix}{i:06d}",
                "order_ref": oid,
                "beneficiary_id": f"{province}-NCC-{int(oid.rsplit('-', 1)[1]):07d}",
                "national_id": f"{int(oid.rsplit('-', 1)[1]):012d}",
                "full_name": NAMES[i % len(NAMES)],
                "amount_paid_vnd": amount,
                "fee_vnd": 6_600 if amount else 0,
                "paid_on": dt.date(int(period[:4]), int(period[5:]), 3) if amount else None,
                "status": "PAID" if amount else "UNPAID_ABSENT",
                "receiver_national_id": None,
                "ward_code": "26734",
                "post_office_code": "700000",
            }
        )
    return pl.DataFrame(rows, schema=PAYOUT_SCHEMA)


def events(rows: Iterable[tuple[str, str, str, dt.date]]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=EVENT_SCHEMA, orient="row")


def loaded(frame: pl.DataFrame, name: str = "file.csv", *, salt: str = "") -> Loaded:
    """A Loaded whose digest stands for the file's bytes: same frame + name + salt, same digest."""
    digest = hashlib.sha256((name + salt + repr(frame.rows())).encode()).hexdigest()
    return Loaded(Path(name), digest, frame, empty(REJECT_SCHEMA))


def loaded_payouts(
    frame: pl.DataFrame, name: str = "payouts.csv", *, footer: tuple[int, int] | None = None, salt: str = ""
) -> LoadedPayouts:
    base = loaded(frame, name, salt=salt)
    totals = empty(CONTROL_TOTAL_SCHEMA)
    if footer is not None and frame.height:
        totals = pl.DataFrame(
            [
                {
                    "province_code": frame["province_code"][0],
                    "period": frame["period"][0],
                    "source_name": name,
                    "footer_paid_vnd": footer[0],
                    "footer_fee_vnd": footer[1],
                    "lines_paid_vnd": int(frame["amount_paid_vnd"].sum()),
                    "lines_fee_vnd": int(frame["fee_vnd"].sum()),
                }
            ],
            schema=CONTROL_TOTAL_SCHEMA,
        )
    return LoadedPayouts(base.source, base.file_digest, frame, base.rejects, totals)


def outcome(
    order: dict[str, Any],
    state: str,
    paid: int = 0,
    payout_id: str | None = None,
    *,
    unpaid_own: bool = False,
) -> dict[str, Any]:
    return {
        "order_id": order["order_id"],
        "period": order["period"],
        "province_code": order["province_code"],
        "beneficiary_id": order["beneficiary_id"],
        "allowance_code": order["allowance_code"],
        "amount_vnd": order["amount_vnd"],
        "state": state,
        "paid_vnd": paid,
        "payout_id": payout_id,
        "unpaid_in_own_period": unpaid_own,
    }


def exception(
    code: str, period: str, province: str, order: str | None, payout: str | None, **extra: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {name: None for name in EXCEPTION_SCHEMA}
    row.update(
        code=code,
        severity=SEVERITY[code],
        period=period,
        province_code=province,
        order_id=order,
        payout_id=payout,
    )
    row.update(extra)
    return row


def result(
    period: str,
    outcome_rows: Sequence[dict[str, Any]],
    exception_rows: Sequence[dict[str, Any]] = (),
    *,
    paid_out: dict[str, int] | None = None,
    fee: dict[str, int] | None = None,
) -> ReconcileResult:
    """A consistent result: the summary is derived from the outcomes (residual by the cash-close formula)."""
    out = pl.DataFrame(list(outcome_rows), schema=OUTCOME_SCHEMA).sort("order_id")
    summary_rows = []
    for province in sorted(set(out["province_code"].to_list())):
        mine = out.filter(pl.col("province_code") == province)
        own = mine.filter(pl.col("period") == period)
        prior = mine.filter(pl.col("period") < period)
        advance = int(own["amount_vnd"].sum())
        carried_in = int(prior["amount_vnd"].sum())
        matched = int(mine["paid_vnd"].sum())
        paid = (paid_out or {}).get(province, matched)
        returned = int(prior.filter(pl.col("state") == "SUPERSEDED")["amount_vnd"].sum())
        carried_out = int(mine.filter(pl.col("state") == "OPEN")["amount_vnd"].sum())
        summary_rows.append(
            {
                "province_code": province,
                "period": period,
                "orders": own.height,
                "payout_lines": int((mine["paid_vnd"] > 0).sum()),
                "ordered_vnd": advance,
                "matched_paid_vnd": matched,
                "underpaid_gap_vnd": 0,
                "unpaid_vnd": int(own.filter(pl.col("state") == "OPEN")["amount_vnd"].sum()),
                "missing_vnd": 0,
                "phantom_vnd": 0,
                "duplicate_vnd": max(paid - matched, 0),
                "overpaid_vnd": 0,
                "paid_out_vnd": paid,
                "fee_vnd": (fee or {}).get(province, 6_600 * int((mine["paid_vnd"] > 0).sum())),
                "advance_vnd": advance,
                "carried_in_vnd": carried_in,
                "returned_vnd": returned,
                "carried_out_vnd": carried_out,
                "residual_vnd": advance + carried_in - paid - returned - carried_out,
            }
        )
    exc = pl.DataFrame(list(exception_rows), schema=EXCEPTION_SCHEMA)
    return ReconcileResult(
        exceptions=exc, outcomes=out, summary=pl.DataFrame(summary_rows, schema=SUMMARY_SCHEMA)
    )
