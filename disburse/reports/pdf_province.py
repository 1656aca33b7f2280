"""The province report: money summary, exceptions per code, a chart, the grouped listing, signatures."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

import polars as pl
from reportlab.platypus import CondPageBreak, Flowable, Paragraph, Spacer, Table, TableStyle

from disburse.profile import ProvinceProfile
from disburse.reports.fonts import report_fonts
from disburse.reports.pdf_chart import amount_bars
from disburse.reports.pdf_doc import FRAME_WIDTH, RunInfo
from disburse.reports.pdf_exceptions import code_totals, listing
from disburse.reports.pdf_parts import letterhead, signature_block, summary_int, title_block
from disburse.reports.pdf_styles import TOTAL_FILL, Styles, grid_style
from disburse.reports.vn import code_label, format_int, format_vnd, severity_label

TITLE: Final = "BÁO CÁO ĐỐI SOÁT CHI TRẢ TRỢ CẤP QUA BƯU ĐIỆN"

# (label, SUMMARY_SCHEMA field) in reading order; a None field is a section row spanning both columns.
_MONEY_ROWS: Final[tuple[tuple[str, str | None], ...]] = (
    ("Lệnh chi", None),
    ("Số lệnh chi", "orders"),
    ("Tổng tiền theo lệnh chi", "ordered_vnd"),
    ("  Đã chi đúng lệnh", "matched_paid_vnd"),
    ("  Chi thiếu", "underpaid_gap_vnd"),
    ("  Chưa chi (vắng, chuyển đi, từ chối…)", "unpaid_vnd"),
    ("  Không có kết quả chi trả", "missing_vnd"),
    ("Bưu điện đã chi", None),
    ("Số dòng kết quả chi trả", "payout_lines"),
    ("Tổng tiền đã chi", "paid_out_vnd"),
    ("  Chi không có lệnh chi", "phantom_vnd"),
    ("  Chi trùng lặp", "duplicate_vnd"),
    ("  Chi thừa so với lệnh chi", "overpaid_vnd"),
    ("Phí dịch vụ chi trả", "fee_vnd"),
    ("Quyết toán tạm ứng", None),
    ("Tạm ứng kỳ này", "advance_vnd"),
    ("Chuyển từ kỳ trước", "carried_in_vnd"),
    ("Nộp trả", "returned_vnd"),
    ("Chuyển sang kỳ sau", "carried_out_vnd"),
    ("Chênh lệch quyết toán tiền mặt", "residual_vnd"),
)
_COUNT_FIELDS: Final = frozenset({"orders", "payout_lines"})
_MONEY_WIDTHS: Final = (188.0, 102.0)
_GAP: Final = 14.0
# One line per code (label, code, severity, rows, VND), so that the 17 codes and the money table fit beside
# each other on the first page: the two sit in one table row, which reportlab cannot split across pages.
_CODE_WIDTHS: Final = (140.0, 108.0, 58.0, 40.0, FRAME_WIDTH - sum(_MONEY_WIDTHS) - _GAP - 346.0)


def _money_table(summary: Mapping[str, object], st: Styles) -> Table:
    fonts = report_fonts()
    rows: list[list[Any]] = [["Chỉ tiêu", "Số tiền / số lượng"]]
    extra: list[tuple[Any, ...]] = []
    for label, field in _MONEY_ROWS:
        index = len(rows)
        if field is None:
            rows.append([label, ""])
            extra += [("SPAN", (0, index), (1, index)), ("FONTNAME", (0, index), (1, index), fonts.bold),
                      ("BACKGROUND", (0, index), (1, index), TOTAL_FILL)]
            continue
        value = summary_int(summary, field)
        rows.append([label, format_int(value) if field in _COUNT_FIELDS else format_vnd(value)])
    last = len(rows) - 1
    extra.append(("FONTNAME", (0, last), (1, last), fonts.bold))
    table = Table(rows, colWidths=_MONEY_WIDTHS, repeatRows=1)
    style = grid_style(right_from_col=1)
    for command in extra:
        style.add(*command)
    table.setStyle(style)
    return table


def _balance_note(summary: Mapping[str, object], st: Styles) -> Paragraph:
    """States whether ordered money is fully accounted for, and how to read the cash-close residual."""
    parts = ("matched_paid_vnd", "underpaid_gap_vnd", "unpaid_vnd", "missing_vnd")
    accounted = sum(summary_int(summary, key) for key in parts)
    ordered = summary_int(summary, "ordered_vnd")
    verdict = "khớp" if accounted == ordered else f"<b>lệch {format_vnd(ordered - accounted)}</b>"
    return Paragraph(
        "Cân đối: tiền theo lệnh chi = đã chi đúng lệnh + chi thiếu + chưa chi + không có kết quả: "
        f"{verdict}. "
        "Chênh lệch quyết toán = tạm ứng + chuyển từ kỳ trước − đã chi − nộp trả − chuyển sang kỳ sau; "
        "dương là tiền bưu điện còn giữ, âm là chi vượt lệnh chi.",
        st.small,
    )


def _code_table(totals: pl.DataFrame, st: Styles) -> Table:
    rows: list[list[Any]] = [["Loại ngoại lệ", "Mã", "Mức độ", "Số dòng", "Số tiền liên quan"]]
    for row in totals.iter_rows(named=True):
        rows.append([code_label(row["code"]), row["code"], severity_label(row["severity"]),
                     format_int(row["rows"]), format_vnd(row["involved_vnd"])])
    rows.append(["Tổng cộng", "", "", format_int(int(totals["rows"].sum())),
                 format_vnd(int(totals["involved_vnd"].sum()))])
    table = Table(rows, colWidths=_CODE_WIDTHS, repeatRows=1)
    style = grid_style(right_from_col=3, total_row=True)
    style.add("FONTSIZE", (1, 1), (1, -1), 6.5)
    table.setStyle(style)
    return table


def _overview(summary: Mapping[str, object], totals: pl.DataFrame, st: Styles) -> Table:
    left = [Paragraph("I. Tổng hợp tiền", st.h2), _money_table(summary, st), Spacer(1, 3),
            _balance_note(summary, st)]
    right = [Paragraph("II. Ngoại lệ theo loại", st.h2), _code_table(totals, st)]
    outer = Table([[left, "", right]], colWidths=[sum(_MONEY_WIDTHS), _GAP, sum(_CODE_WIDTHS)])
    outer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                               ("FONTNAME", (0, 0), (-1, -1), report_fonts().regular)]))
    return outer


def province_flowables(*, profile: ProvinceProfile, run: RunInfo, summary: Mapping[str, object],
                       prepared: pl.DataFrame, st: Styles) -> Iterator[Flowable]:
    """Everything in the province PDF, in order; the listing part is generated lazily."""
    totals = code_totals(prepared)
    yield letterhead(profile.department, st)
    yield from title_block(TITLE, profile.province_name, run, st)
    yield _overview(summary, totals, st)
    yield CondPageBreak(200)
    yield Paragraph("III. Số tiền liên quan theo loại ngoại lệ", st.h2)
    bars = [(code_label(row["code"]), row["involved_vnd"], row["severity"])
            for row in totals.sort("involved_vnd", descending=True).iter_rows(named=True)]
    yield amount_bars(bars, width=FRAME_WIDTH, title="")
    yield Paragraph("IV. Chi tiết ngoại lệ (theo mức độ, loại và xã/phường)", st.h2)
    yield Paragraph("Số tiền liên quan của một dòng là số lớn hơn giữa tiền theo lệnh chi và tiền đã chi "
                    "(với dòng tổng cộng của tệp: phần chênh lệch); số tiền trống (—) là không áp dụng cho "
                    "dòng đó.", st.small)
    yield Spacer(1, 4)
    yield from listing(prepared, st)
    yield signature_block(profile.province_name, run.generated_at, st)
