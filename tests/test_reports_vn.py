"""Vietnamese formatting, labels and action lines of the reports."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from disburse.reports import vn
from disburse.schema import Code, Severity


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "0 ₫"),
        (500, "500 ₫"),
        (1_500_000, "1.500.000 ₫"),
        (-1_500_000, "-1.500.000 ₫"),
        (2_789_000, "2.789.000 ₫"),
        # Beyond float precision: formatting from int keeps every digit.
        (12_345_678_901_234_567, "12.345.678.901.234.567 ₫"),
        (None, "—"),
    ],
)
def test_format_vnd(amount: int | None, text: str) -> None:
    assert vn.format_vnd(amount) == text


def test_format_int_groups_with_dots() -> None:
    assert vn.format_int(48_000) == "48.000"
    assert vn.format_int(-999) == "-999"


def test_every_code_has_a_vietnamese_label_and_action() -> None:
    for code in Code:
        label, action = vn.CODE_LABEL[code], vn.CODE_ACTION[code]
        for text in (label, action):
            assert text == unicodedata.normalize("NFC", text)
            assert not text.isascii(), f"{code}: {text!r} has no Vietnamese letters"
        assert action.endswith(".")
    assert len(set(vn.CODE_LABEL.values())) == len(Code)
    assert len(set(vn.CODE_ACTION.values())) == len(Code)


def test_labels_named_in_the_brief() -> None:
    assert vn.code_label(Code.PHANTOM_PAYOUT) == "Chi không có lệnh chi"
    assert vn.code_action(Code.OVERPAID) == "Thu hồi số tiền chi thừa từ bưu điện và đối chiếu chứng từ chi."
    assert vn.code_label("SOMETHING_NEW") == "SOMETHING_NEW"


def test_severity_labels() -> None:
    assert [vn.severity_label(s) for s in Severity] == ["Nghiêm trọng", "Cao", "Cảnh báo", "Thông tin"]


def test_dates_and_periods() -> None:
    moment = datetime(2026, 11, 5, 9, 30)
    assert vn.period_label("2026-10") == "tháng 10/2026"
    assert vn.datetime_label(moment) == "05/11/2026 09:30"
    assert vn.place_date_line("TP Hồ Chí Minh", moment) == "TP Hồ Chí Minh, ngày 05 tháng 11 năm 2026"


def test_aware_times_are_shown_in_vietnam_time() -> None:
    late_utc = datetime(2026, 11, 5, 20, 15, tzinfo=UTC)  # already the 6th in Hà Nội
    assert vn.datetime_label(late_utc) == "06/11/2026 03:15"
    assert vn.place_date_line("Đồng Nai", late_utc) == "Đồng Nai, ngày 06 tháng 11 năm 2026"


def test_ward_names_from_vietnam_provinces_with_fallback() -> None:
    assert vn.ward_name("25747") == "Phường Thủ Dầu Một"
    assert vn.ward_name("26536") == "Phường Rạch Dừa"  # the package spells it with a double space
    assert vn.ward_name("99999") == "Mã xã 99999"
    assert vn.ward_name("abc") == "Mã xã abc"
    assert vn.ward_name(None) == "Không rõ xã/phường"


def test_format_distinct_is_the_scalar_formatting() -> None:
    import polars as pl

    values = [None, 0, 7, -7, 1_500_000, -1_500_000, 1_500_000, 12_345_678_901_234_567, None]
    column = pl.Series(values, dtype=pl.Int64)
    assert vn.format_distinct(column, vn.format_vnd, null="—").to_list() == [vn.format_vnd(v) for v in values]
    assert vn.format_distinct(column.drop_nulls(), vn.format_int, null="").to_list() == [
        vn.format_int(v) for v in values if v is not None
    ]
    assert vn.format_distinct(pl.Series([], dtype=pl.Int64), vn.format_vnd, null="—").to_list() == []
