"""Deterministic, realistic-looking exceptions and summaries for the README page and the benchmarks.

Not used by the pipeline. The rows look like the core's output (Vietnamese names and details, real ward codes)
but carry no reconciliation logic: they exist to exercise layout and scale.

By default the details are short Vietnamese phrases that repeat. ``like_core=True`` gives rows shaped like a
generated national month's instead (``disburse demo`` at the generator's default rates): the codes in the
proportions reconcile finds them, details in the core's English forms that the PDF translates, carrying
amounts, dates, wards and identifiers (so nearly every detail is distinct, and half of them wrap in the
listing), identifiers in the dialects' formats, three- and four-word names, ~480 wards a province.
"""

from __future__ import annotations

import random
from typing import Any, Final

import polars as pl

from disburse.reports.vn import format_vnd
from disburse.schema import EXCEPTION_SCHEMA, SEVERITY, SUMMARY_SCHEMA, Code

_FAMILY: Final = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Dương")
_MIDDLE: Final = ("Thị", "Văn", "Hữu", "Đình", "Quốc", "Thị Ngọc", "Minh", "Thị Mỹ")
_GIVEN: Final = ("Hằng", "Ửng", "Tuấn", "Duyên", "Lộc", "Trâm", "Khởi", "Ỷ", "Phượng", "Dũng", "Thảo",
                 "Nghĩa")
# Weights: what a month of a province typically shows (many unpaid, few frauds).
_CODE_WEIGHTS: Final[tuple[tuple[Code, int], ...]] = (
    (Code.UNPAID, 30), (Code.MISSING_RESULT, 8), (Code.PAID_LATE, 10), (Code.NAME_MISMATCH, 10),
    (Code.FEE_MISMATCH, 6), (Code.UNDERPAID, 5), (Code.OVERPAID, 4), (Code.LOCATION_MISMATCH, 5),
    (Code.UNCOLLECTED_3_MONTHS, 5), (Code.DUPLICATE_PAYOUT, 3), (Code.PHANTOM_PAYOUT, 2),
    (Code.PAID_AFTER_DEATH, 2), (Code.PROXY_UNAUTHORIZED, 2), (Code.PROXY_EXPIRED, 3), (Code.ID_MISMATCH, 2),
    (Code.DUPLICATE_ORDER, 1),
)
_AMOUNTS: Final = (2_789_000, 500_000, 750_000, 1_000_000, 1_394_500, 5_578_000, 3_347_000)
_UNPAID_REASONS: Final = ("Vắng mặt", "Chuyển đi", "Từ chối nhận", "Đã chết")


def _ward_codes(province_code: str, count: int) -> list[str]:
    from vietnam_provinces import Ward
    from vietnam_provinces.codes import ProvinceCode

    wards = sorted(Ward.iter_by_province(ProvinceCode(int(province_code))), key=lambda w: w.code.value)
    return [f"{w.code.value:05d}" for w in wards[:count]]


def _amounts(code: Code, ordered: int, rng: random.Random) -> tuple[int | None, int | None, str]:
    """(ordered, paid, detail) for one row of ``code``."""
    day = rng.randint(1, 10)
    if code in (Code.UNPAID, Code.UNCOLLECTED_3_MONTHS):
        return ordered, 0, rng.choice(_UNPAID_REASONS)
    if code is Code.MISSING_RESULT:
        return ordered, 0, "Không có dòng kết quả chi trả nào cho lệnh chi này"
    if code is Code.OVERPAID:
        paid = ordered + rng.choice((100_000, 500_000, ordered))
        return ordered, paid, f"Đã chi {format_vnd(paid)}, lệnh chi {format_vnd(ordered)}"
    if code is Code.UNDERPAID:
        paid = ordered - rng.choice((50_000, 200_000, ordered // 2))
        return ordered, paid, f"Đã chi {format_vnd(paid)}, lệnh chi {format_vnd(ordered)}"
    if code is Code.PHANTOM_PAYOUT:
        return None, ordered, "Mã lệnh chi trong kết quả không có trong danh sách chi trả của kỳ"
    if code is Code.PAID_LATE:
        return ordered, ordered, f"Chi ngày {rng.randint(11, 28):02d}/10/2026, ngoài thời gian 01–10/10/2026"
    if code is Code.FEE_MISMATCH:
        return ordered, ordered, f"Phí báo cáo {format_vnd(7_000)}, theo biểu phí {format_vnd(6_600)}"
    if code is Code.PAID_AFTER_DEATH:
        return ordered, ordered, f"Đối tượng chết ngày 12/08/2026, vẫn chi ngày {day:02d}/10/2026"
    if code is Code.DUPLICATE_PAYOUT:
        return ordered, ordered, f"Lệnh chi đã được chi ngày {day:02d}/10/2026 bởi giao dịch khác"
    if code is Code.PROXY_EXPIRED:
        return ordered, ordered, "Giấy ủy quyền hết hạn ngày 30/06/2026, người nhận thay vẫn nhận tiền"
    if code is Code.NAME_MISMATCH:
        return ordered, ordered, "Họ tên trên kết quả chi trả khác họ tên trên danh sách chi trả"
    return ordered, ordered, f"Phát hiện khi đối soát kỳ 2026-10 (mã {code.value})"


def sample_exceptions(rows: int, *, province_code: str = "79", period: str = "2026-10", seed: int = 7,
                      wards: int = 24, like_core: bool = False) -> pl.DataFrame:
    """``rows`` exception rows of one province: EXCEPTION_SCHEMA plus ``full_name`` and ``ward_code``;
    shaped like a generated national month's with ``like_core`` (see the module doc)."""
    rng = random.Random(seed)
    ward_codes = _ward_codes(province_code, wards) or ["00000"]
    schema = {**EXCEPTION_SCHEMA, "full_name": pl.String(), "ward_code": pl.String()}
    if like_core:
        core_codes, core_weights = zip(*_CORE_WEIGHTS, strict=True)
        core = [_core_row(code, province_code, period, index, ward_codes, rng)
                for index, code in enumerate(rng.choices(core_codes, weights=core_weights, k=rows), start=1)]
        return pl.DataFrame(core, schema=schema)
    codes, weights = zip(*_CODE_WEIGHTS, strict=True)
    records: list[dict[str, Any]] = []
    for index, code in enumerate(rng.choices(codes, weights=weights, k=rows), start=1):
        ordered, paid, detail = _amounts(code, rng.choice(_AMOUNTS), rng)
        number = rng.randint(1, 9_999_999)
        order_id = f"{province_code}-{period.replace('-', '')}-{number:07d}"
        records.append({
            "province_code": province_code, "period": period, "code": code.value, "severity": SEVERITY[code],
            "order_id": None if ordered is None else order_id,
            "payout_id": None if paid == 0 else f"BD{province_code}-{index:08d}",
            "beneficiary_id": f"{province_code}-{rng.choice(('NCC', 'BTXH'))}-{number:07d}",
            "national_id": f"0{province_code}{rng.randint(0, 999_999_999):09d}",
            "ordered_vnd": ordered, "paid_vnd": paid,
            "difference_vnd": None if ordered is None or paid is None else paid - ordered,
            "detail": detail,
            "full_name": f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}",
            "ward_code": rng.choice(ward_codes),
        })
    return pl.DataFrame(records, schema=schema)


# Codes in the proportions of a generated national month (5M order lines, 658,590 exceptions).
_CORE_WEIGHTS: Final[tuple[tuple[Code, int], ...]] = (
    (Code.UNPAID, 23), (Code.MISSING_RESULT, 23), (Code.LOCATION_MISMATCH, 20), (Code.NAME_MISMATCH, 20),
    (Code.OVERPAID, 20), (Code.PHANTOM_PAYOUT, 20), (Code.UNDERPAID, 20), (Code.PAID_LATE, 20),
    (Code.DUPLICATE_PAYOUT, 20), (Code.DUPLICATE_ORDER, 20), (Code.FEE_MISMATCH, 20), (Code.ID_MISMATCH, 10),
    (Code.PAID_AFTER_DEATH, 10), (Code.PROXY_EXPIRED, 10), (Code.PROXY_UNAUTHORIZED, 10),
)
_CORE_AMOUNTS: Final = (750_000, 1_000_000, 500_000, 2_789_000, 1_250_000, 1_394_500, 2_231_200, 4_183_500,
                        3_346_800, 5_578_000)
_CORE_FAMILY: Final = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
                       "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Đoàn", "Trương", "Lâm", "Mai", "Tạ", "Hà",
                       "Quách")
_CORE_MIDDLE: Final = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Quang", "Thu", "Kim", "Thanh", "Xuân",
                       "Công", "Mỹ", "Bảo")
_CORE_GIVEN: Final = ("An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc",
                      "Quân", "Sơn", "Thắng", "Tuấn", "Việt", "Hoa", "Hòa", "Lan", "Mai", "Nga", "Nhung",
                      "Oanh",
                      "Phương", "Thảo", "Trang", "Tuyết", "Yến", "Đào", "Giang")
_ALLOWANCES: Final = ("NCC.LS", "NCC.TB", "NCC.BB", "NCC.CM", "NCC.KT", "BTXH.NCT", "BTXH.TMC", "BTXH.KT")
_UNPAID_CODES: Final = ("UNPAID_ABSENT", "UNPAID_MOVED", "UNPAID_REFUSED")


def _core_name(rng: random.Random) -> str:
    middle = rng.choice(_CORE_MIDDLE)
    if rng.random() < 0.12:  # four words: "Trương Văn Đức Phương"
        middle = f"{middle} {rng.choice(_CORE_MIDDLE)}"
    return f"{rng.choice(_CORE_FAMILY)} {middle} {rng.choice(_CORE_GIVEN)}"


def _core_row(code: Code, province: str, period: str, index: int, wards: list[str],
              rng: random.Random) -> dict[str, Any]:
    """One row as reconcile writes it for ``code``: amounts, identifiers and the English detail."""
    compact = period.replace("-", "")
    year, month = (int(part) for part in period.split("-"))
    previous = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"

    def day(first: int = 1, last: int = 10, of: str = period) -> str:
        return f"{of}-{rng.randint(first, last):02d}"

    def national_id() -> str:
        return f"0{rng.randint(10, 96):02d}{rng.randint(0, 999_999_999):09d}"

    other = rng.choice(("19", "48", "68", "75", "79"))
    ordered: int | None = rng.choice(_CORE_AMOUNTS)
    paid: int | None = ordered
    order_id: str | None = f"{province}-{compact}-{rng.randint(1, 1_999_999):07d}"
    payout_id: str | None = f"BD{province}-{compact}-{index:07d}"
    if code is Code.UNPAID:
        paid, detail = 0, f"reported unpaid: {rng.choice(_UNPAID_CODES)} (line {payout_id})"
        payout_id = None
    elif code is Code.MISSING_RESULT:
        paid, payout_id, detail = 0, None, "no payout line covers this order"
    elif code is Code.LOCATION_MISMATCH:
        detail = f"paid at ward {rng.choice(wards)}, order's ward {rng.choice(wards)}"
    elif code is Code.NAME_MISMATCH:
        detail = f"payout name '{_core_name(rng)}' vs order name '{_core_name(rng)}'"
    elif code is Code.OVERPAID:
        assert ordered is not None
        paid = ordered + rng.choice((1_000, 50_000, 100_000, 250_000, ordered))
        detail = f"line paid {paid} VND for orders totalling {ordered} VND"
    elif code is Code.UNDERPAID:
        assert ordered is not None
        paid = rng.randrange(0, ordered, 25_000)
        detail = f"line paid {paid} VND for orders totalling {ordered} VND"
    elif code is Code.PHANTOM_PAYOUT:
        ordered, paid = None, 500_000
        beneficiary = f"{province}-{rng.choice(('NCC', 'BTXH'))}-{rng.randint(9_000_000, 9_999_999)}"
        detail = f"no open order for beneficiary {beneficiary}"
        if rng.random() < 0.2:
            order_id = None
    elif code is Code.PAID_LATE:
        detail = f"paid on {day(11, 30)} outside the payment window of {period}"
    elif code is Code.DUPLICATE_PAYOUT:
        line = f"BD{province}-{compact}-{rng.randint(1, 500_000):07d}"
        detail = f"order already paid by line {line} this period"
    elif code is Code.DUPLICATE_ORDER:
        paid, payout_id = None, None
        detail = (f"same national_id and allowance {rng.choice(_ALLOWANCES)} as order(s) "
                  f"{other}-{compact}-{rng.randint(1, 1_999_999):07d}")
    elif code is Code.FEE_MISMATCH:
        tariff = rng.choice((6_600, 9_900, 13_200, 19_523, 15_618))
        detail = f"reported fee {tariff + rng.choice((500, 1_000, -500))} VND, tariff {tariff} VND"
    elif code is Code.ID_MISMATCH:
        detail = f"payout national_id {national_id()} vs order {national_id()}"
    elif code is Code.PAID_AFTER_DEATH:
        detail = f"deceased {day(1, 28, previous)}, paid {day()} for period {period}"
    elif code is Code.PROXY_EXPIRED:
        detail = f"paid {day()} to proxy whose authorisation ended {day(1, 28, previous)}"
    else:  # PROXY_UNAUTHORIZED
        detail = f"paid to proxy {national_id()}; authorised proxy: " + (
            "(none)" if rng.random() < 0.3 else national_id())
    return {
        "province_code": province, "period": period, "code": code.value, "severity": SEVERITY[code],
        "order_id": order_id, "payout_id": payout_id,
        "beneficiary_id": f"{province}-{rng.choice(('NCC', 'BTXH'))}-{rng.randint(1, 9_999_999):07d}",
        "national_id": national_id(), "ordered_vnd": ordered, "paid_vnd": paid,
        "difference_vnd": None if ordered is None or paid is None else paid - ordered,
        "detail": detail, "full_name": _core_name(rng), "ward_code": rng.choice(wards),
    }


def sample_summary(exceptions: pl.DataFrame, *, province_code: str = "79", period: str = "2026-10",
                   orders: int = 48_000) -> dict[str, Any]:
    """A SUMMARY_SCHEMA row consistent with the sample exceptions (money conserved, residual from cash)."""

    def total(code: Code, column: str) -> int:
        return int(exceptions.filter(pl.col("code") == code.value)[column].fill_null(0).sum())

    unpaid = total(Code.UNPAID, "ordered_vnd")
    missing = total(Code.MISSING_RESULT, "ordered_vnd")
    gap = -total(Code.UNDERPAID, "difference_vnd")
    ordered = orders * 1_650_000
    matched = ordered - gap - unpaid - missing
    phantom, duplicate = total(Code.PHANTOM_PAYOUT, "paid_vnd"), total(Code.DUPLICATE_PAYOUT, "paid_vnd")
    overpaid = total(Code.OVERPAID, "difference_vnd")
    paid_out = matched + phantom + duplicate + overpaid
    carried_in, carried_out = 412_500_000, unpaid + missing
    advance, returned = ordered - carried_in, 27_890_000
    row: dict[str, Any] = {
        "province_code": province_code, "period": period, "orders": orders, "payout_lines": orders - 900,
        "ordered_vnd": ordered, "matched_paid_vnd": matched, "underpaid_gap_vnd": gap, "unpaid_vnd": unpaid,
        "missing_vnd": missing, "phantom_vnd": phantom, "duplicate_vnd": duplicate, "overpaid_vnd": overpaid,
        "paid_out_vnd": paid_out, "fee_vnd": (orders - 900) * 6_600, "advance_vnd": advance,
        "carried_in_vnd": carried_in, "returned_vnd": returned, "carried_out_vnd": carried_out,
        "residual_vnd": advance + carried_in - paid_out - returned - carried_out,
    }
    assert set(row) == set(SUMMARY_SCHEMA)
    return row
