"""The national summary: one row per province, totals, exceptions by severity chart, the top codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final
from xml.sax.saxutils import escape

import polars as pl
from reportlab.platypus import CondPageBreak, Flowable, Paragraph, Spacer, Table

from disburse.profile import ProfileError, pilot_provinces
from disburse.reports.pdf_chart import severity_stacks
from disburse.reports.pdf_doc import FRAME_WIDTH, RunInfo
from disburse.reports.pdf_exceptions import code_totals
from disburse.reports.pdf_parts import letterhead, signature_block, title_block
from disburse.reports.pdf_styles import Styles, grid_style
from disburse.reports.vn import code_label, format_int, format_vnd, severity_label
from disburse.schema import Severity

TITLE: Final = "BÁO CÁO TỔNG HỢP ĐỐI SOÁT CHI TRẢ TRỢ CẤP QUA BƯU ĐIỆN"
ISSUER: Final = "Bộ Nội vụ"
PLACE: Final = "Hà Nội"
TOP_CODES: Final = 10

# (header, SUMMARY_SCHEMA fields summed into the column); "Chưa chi" includes orders with no result at all,
# because both are money the post office still holds for the beneficiary.
_MONEY_COLUMNS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("Tiền theo\nlệnh chi", ("ordered_vnd",)),
    ("Tiền đã chi", ("paid_out_vnd",)),
    ("Phí dịch vụ", ("fee_vnd",)),
    ("Chưa chi", ("unpaid_vnd", "missing_vnd")),
    ("Chuyển sang\nkỳ sau", ("carried_out_vnd",)),
    ("Chênh lệch\nquyết toán", ("residual_vnd",)),
)
_SEVERITIES: Final = tuple(Severity)
_NAME_WIDTH: Final = 96.0
_COUNT_WIDTH: Final = 46.0
_MONEY_WIDTH: Final = (
    (FRAME_WIDTH - _NAME_WIDTH - _COUNT_WIDTH * (1 + len(_SEVERITIES))) / len(_MONEY_COLUMNS)
)


def province_name(code: str) -> str:
    try:
        return pilot_provinces()[code].province_name
    except (KeyError, ProfileError):
        return f"Tỉnh mã {code}"


def _severity_counts(exceptions: pl.DataFrame) -> dict[tuple[str, str], int]:
    counts = exceptions.group_by(["province_code", "severity"]).len()
    return {(province, severity): n for province, severity, n in counts.iter_rows()}


def _province_table(summary: pl.DataFrame, counts: dict[tuple[str, str], int], st: Styles) -> Table:
    header = ["Tỉnh/thành phố", "Số lệnh", *(label for label, _ in _MONEY_COLUMNS),
              *(severity_label(s) for s in _SEVERITIES)]
    rows: list[list[Any]] = [header]
    totals = [0] * (1 + len(_MONEY_COLUMNS) + len(_SEVERITIES))
    for record in summary.sort("province_code").iter_rows(named=True):
        code = record["province_code"]
        values = [int(record["orders"] or 0)]
        values += [sum(int(record[field] or 0) for field in fields) for _, fields in _MONEY_COLUMNS]
        values += [counts.get((code, severity), 0) for severity in _SEVERITIES]
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        rows.append([province_name(code), *_formatted(values)])
    rows.append(["Tổng cộng", *_formatted(totals)])
    widths = [_NAME_WIDTH, _COUNT_WIDTH, *([_MONEY_WIDTH] * len(_MONEY_COLUMNS)),
              *([_COUNT_WIDTH] * len(_SEVERITIES))]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(grid_style(right_from_col=1, total_row=True, font_size=7.5))
    return table


def _formatted(values: list[int]) -> list[str]:
    count, *rest = values
    money, severities = rest[: len(_MONEY_COLUMNS)], rest[len(_MONEY_COLUMNS):]
    # Plain numbers under a "đơn vị tính: đồng" note, as Vietnamese financial tables do: national totals run
    # to 16 digits and would not fit nine columns with a currency sign on each.
    return [format_int(count), *(format_int(v) for v in money), *(format_int(v) for v in severities)]


def _top_codes_table(prepared: pl.DataFrame, st: Styles) -> Table:
    totals = code_totals(prepared)
    spread = prepared.group_by("code").agg(pl.col("province_code").n_unique().alias("provinces"))
    top = (totals.join(spread, on="code", how="left")
           .sort(["rows", "_rank", "code"], descending=[True, False, False]).head(TOP_CODES))
    header = ["#", "Loại ngoại lệ", "Mã", "Mức độ", "Số dòng", "Số tỉnh", "Số tiền liên quan"]
    rows: list[list[Any]] = [header]
    for index, row in enumerate(top.iter_rows(named=True), start=1):
        rows.append([str(index), Paragraph(escape(code_label(row["code"])), st.cell), row["code"],
                     severity_label(row["severity"]), format_int(row["rows"]), format_int(row["provinces"]),
                     format_vnd(row["involved_vnd"])])
    widths = [22.0, 220.0, 150.0, 80.0, 70.0, 60.0, 120.0]
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(grid_style(right_from_col=4))
    return table


def national_flowables(*, run: RunInfo, summary: pl.DataFrame, prepared: pl.DataFrame,
                       st: Styles) -> Iterator[Flowable]:
    counts = _severity_counts(prepared)
    codes = sorted(summary["province_code"].to_list())
    yield letterhead(ISSUER, st)
    yield from title_block(TITLE, "Các tỉnh, thành phố thí điểm", run, st)
    yield Paragraph("I. Tổng hợp theo tỉnh/thành phố (đơn vị tính: đồng)", st.h2)
    yield _province_table(summary, counts, st)
    yield Paragraph("Chưa chi gồm cả lệnh chi không có kết quả chi trả. Chênh lệch quyết toán dương là tiền "
                    "bưu điện còn giữ, âm là chi vượt lệnh chi. Các cột mức độ là số dòng ngoại lệ.",
                    st.small)
    yield CondPageBreak(210)
    yield Paragraph("II. Số ngoại lệ theo tỉnh/thành phố và mức độ", st.h2)
    stacks: dict[str, list[int]] = {s: [counts.get((code, s), 0) for code in codes] for s in _SEVERITIES}
    yield severity_stacks([province_name(c) for c in codes], stacks, width=FRAME_WIDTH, title="Số dòng")
    yield CondPageBreak(200)
    shown = min(TOP_CODES, prepared["code"].n_unique()) if prepared.height else TOP_CODES
    yield Paragraph(f"III. {shown} loại ngoại lệ nhiều nhất", st.h2)
    if prepared.height:
        yield _top_codes_table(prepared, st)
    else:
        yield Paragraph("Không có ngoại lệ nào trong kỳ.", st.body)
    yield Spacer(1, 6)
    yield signature_block(PLACE, run.generated_at, st)
