"""The machine-readable outputs of a run: exceptions.csv and summary.json (DOMAIN.md, output contract)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from disburse.schema import EXCEPTION_SCHEMA, SUMMARY_SCHEMA, Code

# The contract's money keys, and the summary column each one reads.
_CONTRACT_KEYS: dict[str, str] = {
    "ordered_vnd": "ordered_vnd",
    "paid_vnd": "paid_out_vnd",
    "fee_vnd": "fee_vnd",
    "unpaid_vnd": "unpaid_vnd",
    "missing_vnd": "missing_vnd",
    "carried_vnd": "carried_out_vnd",
    "residual_vnd": "residual_vnd",
}
_MONEY_COLUMNS = [name for name, dtype in SUMMARY_SCHEMA.items() if name.endswith("_vnd")]


def write_exceptions_csv(path: Path, exceptions: pl.DataFrame) -> None:
    """UTF-8, comma-separated, exactly the contract's columns in its order; nulls as empty cells."""
    exceptions.select(list(EXCEPTION_SCHEMA)).write_csv(path, null_value="")


def _counts(exceptions: pl.DataFrame) -> dict[str, int]:
    counted = exceptions.group_by("code").len()
    found = dict(zip(counted["code"].to_list(), counted["len"].to_list(), strict=True))
    return {code.value: int(found.get(code.value, 0)) for code in Code}


def _money(rows: pl.DataFrame) -> dict[str, int]:
    totals = rows.select(pl.col(_MONEY_COLUMNS).sum()).row(0, named=True)
    block = {key: int(totals[column]) for key, column in _CONTRACT_KEYS.items()}
    block["detail"] = {column: int(totals[column]) for column in _MONEY_COLUMNS}  # type: ignore[assignment]
    return block


def summary_document(
    *, period: str, run_id: int, summary: pl.DataFrame, exceptions: pl.DataFrame
) -> dict[str, Any]:
    """Per province and overall: counts per code, ordered, paid, fee, unpaid, carried and residual VND."""
    provinces: dict[str, Any] = {}
    for code in summary["province_code"].to_list():
        rows = summary.filter(pl.col("province_code") == code)
        provinces[code] = {
            "counts": _counts(exceptions.filter(pl.col("province_code") == code)),
            **_money(rows),
            "orders": int(rows["orders"].sum()),
            "payout_lines": int(rows["payout_lines"].sum()),
        }
    overall = {
        "counts": _counts(exceptions),
        **_money(summary),
        "orders": int(summary["orders"].sum()),
        "payout_lines": int(summary["payout_lines"].sum()),
    }
    return {"period": period, "run_id": run_id, "provinces": provinces, "overall": overall}


def write_summary_json(path: Path, document: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False) + "\n", "utf-8")


def with_names(exceptions: pl.DataFrame, orders: pl.DataFrame, payouts: pl.DataFrame) -> pl.DataFrame:
    """Exceptions plus the beneficiary's name and ward, for the PDFs and spreadsheets: as registered on the
    order, else (a phantom line names no order) as the post office reported them on the line."""
    # Only the orders and lines the exceptions name: a national month has millions of each.
    # (maintain_order: keep="first" below must see the rows in their given order.)
    orders = orders.join(
        exceptions.select("order_id").unique(), on="order_id", how="semi", maintain_order="left"
    )
    line_keys = exceptions.select("province_code", "payout_id").unique()
    payouts = payouts.join(line_keys, on=["province_code", "payout_id"], how="semi", maintain_order="left")
    by_order = orders.select("order_id", "full_name", "ward_code").unique("order_id", keep="first")
    by_line = payouts.select(
        "province_code",
        "payout_id",
        pl.col("full_name").alias("_line_name"),
        pl.col("ward_code").alias("_line_ward"),
    ).unique(["province_code", "payout_id"], keep="first")
    return (
        exceptions.join(by_order, on="order_id", how="left", maintain_order="left")
        .join(by_line, on=["province_code", "payout_id"], how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("full_name", "_line_name").alias("full_name"),
            pl.coalesce("ward_code", "_line_ward").alias("ward_code"),
        )
        .drop("_line_name", "_line_ward")
    )
