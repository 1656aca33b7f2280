"""Orders and registry events files: CSV, Parquet and XLSX round-trip; bad rows are rejected."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from disburse.errors import InputError
from disburse.fixtures.dialects import write_events, write_orders
from disburse.loaders.events import load_events
from disburse.loaders.orders import load_orders
from disburse.loaders.parse import ward_codes
from disburse.schema import EVENT_SCHEMA, ORDER_FILE_COLUMNS, ORDER_SCHEMA

SUFFIXES = [".csv", ".parquet", ".xlsx"]


def orders() -> pl.DataFrame:
    wards = ward_codes().to_list()
    return pl.DataFrame(
        {
            "order_id": ["79-202610-0000001", "79-202610-0000002", "48-202610-0000001"],
            "period": ["2026-10"] * 3,
            "province_code": ["79", "79", "48"],
            "ward_code": [wards[0], wards[100], wards[2000]],
            "beneficiary_id": ["79-NCC-0000001", "79-BTXH-0000002", "48-NCC-0000001"],
            "national_id": ["001234567890", "123456789", "048200001234"],
            "full_name": ["Nguyễn Văn An", "Trần Thị Hoà", "Lê Đức Thịnh"],
            "birth_date": [dt.date(1940, 1, 2), dt.date(1950, 12, 31), None],
            "program": ["NCC", "BTXH", "NCC"],
            "allowance_code": ["NCC.TB", "BTXH.NCT", "NCC.TB"],
            "amount_vnd": [2_789_000, 500_000, 5_578_000],
            "covers": [["2026-10"], ["2026-10"], ["2026-09", "2026-10"]],
            "proxy_national_id": [None, "079987654321", None],
            "proxy_name": [None, "Trần Văn Bình", None],
            "proxy_valid_until": [None, dt.date(2026, 12, 31), None],
        },
        schema=ORDER_SCHEMA,
    )


def events() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "beneficiary_id": ["79-NCC-0000001", "48-NCC-0000001"],
            "national_id": ["001234567890", None],
            "event": ["DECEASED", "MOVED"],
            "effective_date": [dt.date(2026, 9, 15), dt.date(2026, 8, 1)],
        },
        schema=EVENT_SCHEMA,
    )


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_orders_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"orders{suffix}"
    write_orders(orders(), path)
    loaded = load_orders(path)
    assert loaded.rejects.is_empty(), loaded.rejects
    assert_frame_equal(loaded.frame, orders())


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_events_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"events{suffix}"
    write_events(events(), path)
    loaded = load_events(path)
    assert loaded.rejects.is_empty(), loaded.rejects
    assert_frame_equal(loaded.frame, events())


def test_header_only_events_file_is_an_empty_month(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    write_events(events().clear(), path)
    loaded = load_events(path)
    assert loaded.frame.is_empty() and loaded.rejects.is_empty()


def csv_orders(tmp_path: Path, **changes: list[str | None]) -> Path:
    text = orders().with_columns(pl.col("covers").list.join(","))
    text = text.with_columns([pl.Series(k, v, dtype=pl.String) for k, v in changes.items()])
    path = tmp_path / "orders.csv"
    text.write_csv(path)
    return path


def test_legacy_province_codes_are_mapped_and_empty_covers_is_the_period(tmp_path: Path) -> None:
    path = csv_orders(tmp_path, province_code=["77", "74", "49"], covers=["", None, "2026-09, 2026-10"])
    loaded = load_orders(path)
    assert loaded.rejects.is_empty()
    assert loaded.frame["province_code"].to_list() == ["79", "79", "48"]
    assert loaded.frame["covers"].to_list() == [["2026-10"], ["2026-10"], ["2026-09", "2026-10"]]


@pytest.mark.parametrize(
    ("column", "values", "row", "value", "reason"),
    [
        ("period", ["2026-10", "2026-13", "2026-10"], 3, "2026-13", "not a period (YYYY-MM)"),
        ("province_code", ["79", "99", "48"], 3, "99", "province code has no profile"),
        ("amount_vnd", ["2789000", "0", "5578000"], 3, "0", "an order's amount must be > 0"),
        ("amount_vnd", ["2789000", "500000.5", "5578000"], 3, "500000.5", "fractional amount: VND are whole"),
        ("covers", ["2026-10", "2026-10", "2026-9"], 4, "2026-9", "covers must list periods (YYYY-MM,...)"),
        ("birth_date", ["1940-01-02", "02/01/1940", None], 3, "02/01/1940", "not a date (yyyy-mm-dd)"),
        ("program", ["NCC", "XYZ", "NCC"], 3, "XYZ", "unknown program (expected one of BTXH, NCC)"),
        ("order_id", ["A", "B", "A"], 4, "A", "duplicate order_id (first on row 2)"),
        ("full_name", ["An", None, "Bình"], 3, None, "missing value"),
        ("ward_code", ["99999", None, None], 2, "99999", "ward code unknown to the GSO list"),
    ],
)
def test_bad_order_rows(
    tmp_path: Path, column: str, values: list[str | None], row: int, value: str | None, reason: str
) -> None:
    path = csv_orders(tmp_path, **{column: values})
    loaded = load_orders(path)
    rejects = (
        loaded.rejects.filter(pl.col("reason") != "missing value")
        if column == "ward_code"
        else loaded.rejects
    )
    assert rejects.row(0, named=True) == {
        "file": "orders.csv",
        "row": row,
        "column": column,
        "value": value,
        "reason": reason,
    }
    assert loaded.frame.height + loaded.rejects["row"].n_unique() == 3  # nothing lost


def test_orders_file_missing_a_column(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    orders().drop("covers").with_columns(pl.lit(1).alias("extra")).drop("national_id").write_parquet(
        path.with_suffix(".parquet")
    )
    with pytest.raises(InputError, match=r"orders\.parquet.*'national_id'"):
        load_orders(path.with_suffix(".parquet"))


def test_orders_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text("{}")
    with pytest.raises(InputError, match=r"orders\.json"):
        load_orders(path)


def test_orders_file_has_exact_columns() -> None:
    assert tuple(ORDER_SCHEMA) == ORDER_FILE_COLUMNS
