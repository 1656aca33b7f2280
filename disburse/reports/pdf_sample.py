"""Deterministic, realistic-looking exceptions and summaries for the README page and the benchmarks.

Not used by the pipeline. The rows look like the core's output (Vietnamese names and details, real ward codes)
but carry no reconciliation logic: they exist to exercise layout and scale.
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
                      wards: int = 24) -> pl.DataFrame:
    """``rows`` exception rows of one province: EXCEPTION_SCHEMA plus ``full_name`` and ``ward_code``."""
    rng = random.Random(seed)
    ward_codes = _ward_codes(province_code, wards) or ["00000"]
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
    schema = {**EXCEPTION_SCHEMA, "full_name": pl.String(), "ward_code": pl.String()}
    return pl.DataFrame(records, schema=schema)


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
