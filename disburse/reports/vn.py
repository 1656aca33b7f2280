"""Vietnamese wording and number formatting for the reports.

Money is whole VND (``int``) throughout: it is formatted from integers, never through floats, so a sum of
billions prints exactly. Labels and action lines are keyed by ``Code`` so a new code fails loudly in the tests
rather than printing an English identifier in a report meant for a provincial finance office.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Final

import polars as pl

from disburse.schema import SEVERITY, Code, Severity

DONG: Final = "₫"


def format_int(value: int) -> str:
    """``1500000`` → ``1.500.000`` (Vietnamese groups thousands with dots)."""
    if value < 0:
        return "-" + format_int(-value)
    return f"{value:,}".replace(",", ".")


def format_vnd(value: int | None) -> str:
    """``1500000`` → ``1.500.000 ₫``; ``-1500000`` → ``-1.500.000 ₫``; ``None`` → an em dash."""
    if value is None:
        return "—"
    return f"{format_int(value)} {DONG}"


def format_distinct(values: pl.Series, show: Callable[[int], str], *, null: str) -> pl.Series:
    """``show`` of each value of an integer column (``null`` for nulls), called once per distinct value.

    Amounts in a listing repeat (allowance levels, their differences), so a long column costs a lookup per
    row and a Python call per distinct amount; it is also exactly the scalar formatting used elsewhere.
    """
    distinct = values.drop_nulls().unique().to_list()
    return values.replace_strict({value: show(value) for value in distinct}, default=null,
                                 return_dtype=pl.String)


def period_label(period: str) -> str:
    """``2026-10`` → ``tháng 10/2026``."""
    year, month = period.split("-")
    return f"tháng {int(month):02d}/{year}"


# Vietnam keeps UTC+7 all year (no daylight saving), so a fixed offset needs no time-zone database.
VIETNAM_TIME: Final = timezone(timedelta(hours=7), "ICT")


def local_time(moment: datetime) -> datetime:
    """An aware datetime (the pipeline stamps runs in UTC) as Vietnam's wall clock; a naive one as given."""
    return moment.astimezone(VIETNAM_TIME) if moment.tzinfo is not None else moment


def datetime_label(moment: datetime) -> str:
    """``28/11/2026 09:05`` in Vietnam time (day first, 24-hour clock, as Vietnamese forms write it)."""
    return local_time(moment).strftime("%d/%m/%Y %H:%M")


def place_date_line(place: str, moment: datetime) -> str:
    """The line above a signature block: ``TP Hồ Chí Minh, ngày 28 tháng 11 năm 2026`` (Vietnam date)."""
    day = local_time(moment)
    return f"{place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


SEVERITY_LABEL: Final[dict[str, str]] = {
    Severity.CRITICAL: "Nghiêm trọng",
    Severity.HIGH: "Cao",
    Severity.WARNING: "Cảnh báo",
    Severity.INFO: "Thông tin",
}

CODE_LABEL: Final[dict[str, str]] = {
    Code.PHANTOM_PAYOUT: "Chi không có lệnh chi",
    Code.DUPLICATE_PAYOUT: "Chi trùng lặp",
    Code.OVERPAID: "Chi thừa so với lệnh chi",
    Code.PAID_AFTER_DEATH: "Chi cho người đã chết",
    Code.PROXY_UNAUTHORIZED: "Nhận thay không có ủy quyền hợp lệ",
    Code.ID_MISMATCH: "Số CCCD không khớp",
    Code.DUPLICATE_ORDER: "Lệnh chi trùng lặp",
    Code.CONTROL_TOTAL_MISMATCH: "Dòng tổng cộng không khớp chi tiết",
    Code.UNDERPAID: "Chi thiếu so với lệnh chi",
    Code.MISSING_RESULT: "Không có kết quả chi trả",
    Code.PROXY_EXPIRED: "Giấy ủy quyền đã hết hạn",
    Code.FEE_MISMATCH: "Phí dịch vụ sai biểu phí",
    Code.PAID_LATE: "Chi ngoài thời gian chi trả",
    Code.NAME_MISMATCH: "Họ tên không khớp",
    Code.LOCATION_MISMATCH: "Chi tại xã/phường khác",
    Code.UNCOLLECTED_3_MONTHS: "Không nhận tiền 3 tháng liên tiếp",
    Code.UNPAID: "Chưa chi trả, chuyển kỳ sau",
}

# What the office must do about each code: one sentence, imperative, for the person holding the report.
CODE_ACTION: Final[dict[str, str]] = {
    Code.PHANTOM_PAYOUT: "Yêu cầu bưu điện giải trình và thu hồi toàn bộ số tiền đã chi không có lệnh chi.",
    Code.DUPLICATE_PAYOUT: (
        "Thu hồi số tiền chi trùng từ bưu điện và kiểm tra chữ ký nhận tiền của từng lần chi."
    ),
    Code.OVERPAID: "Thu hồi số tiền chi thừa từ bưu điện và đối chiếu chứng từ chi.",
    Code.PAID_AFTER_DEATH: (
        "Dừng chi, thu hồi số tiền đã chi sau ngày đối tượng chết và báo cáo cơ quan có thẩm quyền."
    ),
    Code.PROXY_UNAUTHORIZED: (
        "Xác minh người nhận thay với UBND xã; thu hồi số tiền nếu không có giấy ủy quyền hợp lệ."
    ),
    Code.ID_MISMATCH: (
        "Đối chiếu CCCD người nhận với hồ sơ đối tượng và xác minh trực tiếp nếu nghi mạo danh."
    ),
    Code.DUPLICATE_ORDER: "Rà soát hồ sơ hưởng, hủy lệnh chi trùng và thu hồi số tiền đã chi trùng (nếu có).",
    Code.CONTROL_TOTAL_MISMATCH: "Yêu cầu bưu điện lập lại tệp kết quả có dòng tổng cộng khớp với chi tiết.",
    Code.UNDERPAID: "Yêu cầu bưu điện chi bổ sung phần còn thiếu cho đối tượng hoặc giải trình bằng văn bản.",
    Code.MISSING_RESULT: "Yêu cầu bưu điện báo cáo kết quả chi trả của các lệnh chi còn thiếu.",
    Code.PROXY_EXPIRED: (
        "Yêu cầu người nhận thay gia hạn giấy ủy quyền có xác nhận của UBND xã trước kỳ chi sau."
    ),
    Code.FEE_MISMATCH: (
        "Tính lại phí dịch vụ theo biểu phí đã ký và điều chỉnh khi thanh toán phí cho bưu điện."
    ),
    Code.PAID_LATE: "Yêu cầu bưu điện giải trình lý do chi ngoài thời gian chi trả.",
    Code.NAME_MISMATCH: "Đối chiếu họ tên trên danh sách chi với CCCD và cập nhật hồ sơ nếu sai sót.",
    Code.LOCATION_MISMATCH: "Xác minh nơi cư trú của đối tượng và cập nhật địa bàn chi trả.",
    Code.UNCOLLECTED_3_MONTHS: (
        "Phối hợp UBND xã xác minh tình trạng đối tượng; chưa dừng chi khi chưa có kết quả xác minh."
    ),
    Code.UNPAID: "Chuyển số tiền chưa chi sang kỳ sau (truy lĩnh) hoặc nộp trả theo quy định.",
}


def code_label(code: str) -> str:
    return CODE_LABEL.get(code, code)


def code_action(code: str) -> str:
    return CODE_ACTION.get(code, "Rà soát và xử lý theo quy định.")


def severity_of(code: str) -> str:
    return SEVERITY.get(code, Severity.INFO)


def severity_label(severity: str) -> str:
    return SEVERITY_LABEL.get(severity, severity)


@cache
def ward_name(ward_code: str | None) -> str:
    """The ward's name from the ``vietnam-provinces`` list (post-2025 codes); the code itself if unknown."""
    if ward_code is None or not ward_code.strip():
        return "Không rõ xã/phường"
    # Imported here: loading the package's division table is only needed once a report names a ward.
    from vietnam_provinces import Ward, WardCode

    try:
        ward = Ward.from_code(WardCode(int(ward_code)))
    except ValueError:  # not digits, or a code retired by the 2025 merger
        return f"Mã xã {ward_code}"
    # The package's data has stray double spaces in a few names ("Phường  Rạch Dừa").
    return " ".join(str(ward.name).split())
