"""The exceptions workbook reads back as the same frame, with integer amounts and a usable sheet."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from disburse.reports.xlsx import AMOUNT_FORMAT, SHEET, write_exceptions_xlsx
from disburse.schema import EXCEPTION_SCHEMA

SCHEMA = {**EXCEPTION_SCHEMA, "full_name": pl.String(), "ward_code": pl.String()}


def frame() -> pl.DataFrame:
    base = {"province_code": "79", "period": "2026-10", "beneficiary_id": "79-NCC-0001234",
            "national_id": "001123456789", "ward_code": "25747"}
    rows = [
        {**base, "code": "OVERPAID", "severity": "critical", "order_id": "79-202610-0000001",
         "payout_id": "BD79-0001", "ordered_vnd": 2_789_000, "paid_vnd": 4_289_000,
         "difference_vnd": 1_500_000,
         "detail": "Đã chi 4.289.000 ₫", "full_name": "Nguyễn Thị Hằng"},
        {**base, "code": "UNDERPAID", "severity": "high", "order_id": "79-202610-0000002",
         "payout_id": "BD79-0002", "ordered_vnd": 3_000_000, "paid_vnd": 1_500_000,
         "difference_vnd": -1_500_000, "detail": None, "full_name": "Đặng Văn Ửng"},
        {**base, "code": "PHANTOM_PAYOUT", "severity": "critical", "order_id": None, "payout_id": "BD79-0003",
         "ordered_vnd": None, "paid_vnd": 500_000, "difference_vnd": 500_000, "detail": "Không có lệnh chi",
         "full_name": "Dương Thị Ỷ", "ward_code": None},
        {**base, "code": "CONTROL_TOTAL_MISMATCH", "severity": "critical", "order_id": None,
         "payout_id": None,
         "beneficiary_id": None, "national_id": None, "ordered_vnd": 1_233_000_000_000,
         "paid_vnd": 1_234_500_000_000, "difference_vnd": 1_500_000_000, "detail": "Tệp KQ_79.csv",
         "full_name": None, "ward_code": None},
    ]
    return pl.DataFrame(rows, schema=SCHEMA)


def test_reads_back_equal_with_integer_amounts(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.xlsx"
    expected = frame()
    write_exceptions_xlsx(path, expected)
    back = pl.read_excel(path, sheet_name=SHEET)
    for name in ("ordered_vnd", "paid_vnd", "difference_vnd"):
        assert back.schema[name] == pl.Int64
    # Text columns that are all digits (national_id) must stay text with their leading zeros.
    assert_frame_equal(back, expected)


def test_sheet_is_frozen_filtered_and_formatted(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.xlsx"
    write_exceptions_xlsx(path, frame())
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        styles = book.read("xl/styles.xml").decode()
    assert 'state="frozen"' in sheet and 'topLeftCell="A2"' in sheet
    assert '<autoFilter ref="A1:N5"/>' in sheet
    assert f'formatCode="{AMOUNT_FORMAT}"' in styles
    # Amount cells are numbers (no t="s"/"str" type), e.g. <c r="I2" s="2"><v>2789000</v></c>.
    assert re.search(r'<c r="I2" s="\d+"><v>2789000</v></c>', sheet)


def test_empty_frame(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    write_exceptions_xlsx(path, pl.DataFrame(schema=SCHEMA))
    assert path.stat().st_size > 0
