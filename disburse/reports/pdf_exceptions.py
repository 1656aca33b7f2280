"""The exception listing: grouped by severity (critical first), code and ward, as a stream of flowables.

Each code's rows are cut into tables of ``CHUNK_ROWS`` rows that are only built when the document reaches them
(see ``pdf_doc.StreamingDoc``), and each is a ``LongTable`` with a repeated header row, so a listing of
100,000 rows paginates in bounded memory and in time linear in the rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final
from xml.sax.saxutils import escape

import polars as pl
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import CondPageBreak, Flowable, LongTable, Paragraph, Spacer

from disburse.reports.fonts import report_fonts
from disburse.reports.pdf_doc import FRAME_WIDTH, SectionMark
from disburse.reports.pdf_styles import SEVERITY_COLOUR, WARD_FILL, Styles, grid_style
from disburse.reports.vn import (
    code_action,
    code_label,
    format_int,
    format_vnd,
    severity_label,
    ward_name,
)
from disburse.schema import SEVERITY, SEVERITY_RANK

# Rows per table: about two pages. Smaller chunks repeat the header mid-page more often; larger ones make
# each page split copy more cell styles (reportlab rebuilds the remainder table on every split).
CHUNK_ROWS: Final = 120

_HEADERS: Final = ("STT", "Họ và tên", "Mã đối tượng", "Số CCCD", "Mã lệnh chi", "Mã GD chi trả",
                   "Số tiền\nlệnh chi", "Số tiền\nđã chi", "Chênh lệch", "Chi tiết")
_FIXED_WIDTHS: Final = (24.0, 104.0, 80.0, 66.0, 84.0, 72.0, 64.0, 64.0, 64.0)
_WIDTHS: Final = (*_FIXED_WIDTHS, FRAME_WIDTH - sum(_FIXED_WIDTHS))
_FIRST_AMOUNT_COL: Final = 6

_ROW_COLUMNS: Final = ("full_name", "beneficiary_id", "national_id", "order_id", "payout_id",
                       "ordered_vnd", "paid_vnd", "difference_vnd", "detail")


def prepare(exceptions: pl.DataFrame) -> pl.DataFrame:
    """Sorted for the listing, with a severity rank and the optional ``full_name``/``ward_code`` present."""
    frame = exceptions
    for optional in ("full_name", "ward_code"):
        if optional not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(optional))
    severity = pl.coalesce(pl.col("severity"), pl.col("code").replace_strict(SEVERITY, default=None))
    return frame.with_columns(
        severity.alias("severity"),
        severity.replace_strict(SEVERITY_RANK, default=len(SEVERITY_RANK), return_dtype=pl.Int64)
        .alias("_rank"),
    ).sort(["_rank", "code", "ward_code", "order_id", "payout_id"], nulls_last=True)


def _involved() -> pl.Expr:
    """Money a row is about: the larger of what was ordered and what was paid (0 when neither is known)."""
    return pl.max_horizontal(pl.col("ordered_vnd").fill_null(0), pl.col("paid_vnd").fill_null(0))


def code_totals(prepared: pl.DataFrame) -> pl.DataFrame:
    """One row per code: severity, rank, rows, involved VND and net difference VND (integers)."""
    return (
        prepared.group_by("code")
        .agg(
            pl.col("severity").first(),
            pl.col("_rank").first(),
            pl.len().cast(pl.Int64).alias("rows"),
            _involved().sum().cast(pl.Int64).alias("involved_vnd"),
            pl.col("difference_vnd").fill_null(0).sum().cast(pl.Int64).alias("difference_vnd"),
        )
        .sort(["_rank", "code"])
    )


@dataclass(frozen=True)
class _GroupSizes:
    by_severity: dict[str, int]
    by_code: dict[str, tuple[int, int]]  # rows, involved VND
    by_ward: dict[tuple[str, str | None], int]


def _group_sizes(prepared: pl.DataFrame) -> _GroupSizes:
    totals = code_totals(prepared)
    by_code = {row["code"]: (row["rows"], row["involved_vnd"]) for row in totals.iter_rows(named=True)}
    by_severity: dict[str, int] = {}
    for row in totals.iter_rows(named=True):
        by_severity[row["severity"]] = by_severity.get(row["severity"], 0) + row["rows"]
    wards = prepared.group_by(["code", "ward_code"]).len()
    by_ward = {(code, ward): count for code, ward, count in wards.iter_rows()}
    return _GroupSizes(by_severity, by_code, by_ward)


_NAME_COL: Final = 1
_DETAIL_COL: Final = len(_HEADERS) - 1
_CELL_PADDING: Final = 6.0  # LEFTPADDING + RIGHTPADDING of grid_style


def _cell(text: str | None, width: float, st: Styles) -> Paragraph | str:
    """Text that fits the column stays a plain string (cheap to lay out and draw: most names and short
    details); longer text becomes a Paragraph so that it wraps inside the column."""
    if not text:
        return ""
    if stringWidth(text, st.cell.fontName, st.cell.fontSize) <= width - _CELL_PADDING:
        return text
    return Paragraph(escape(text), st.cell)


def _row(number: int, values: tuple[Any, ...], st: Styles) -> list[Any]:
    name, beneficiary, national_id, order_id, payout_id, ordered, paid, difference, detail = values
    return [str(number), _cell(name, _WIDTHS[_NAME_COL], st), beneficiary or "", national_id or "",
            order_id or "", payout_id or "", format_vnd(ordered), format_vnd(paid), format_vnd(difference),
            _cell(detail, _WIDTHS[_DETAIL_COL], st)]


@dataclass
class _Chunk:
    """Rows of one table under construction; ``ward_rows`` are the indexes of the ward sub-heading rows."""

    rows: list[list[Any]] = field(default_factory=list)
    ward_rows: list[int] = field(default_factory=list)

    def add_ward(self, label: str) -> None:
        self.ward_rows.append(len(self.rows) + 1)  # +1: the header row comes first
        self.rows.append([label, *([""] * (len(_HEADERS) - 1))])

    def table(self) -> LongTable:
        table = LongTable([list(_HEADERS), *self.rows], colWidths=_WIDTHS, repeatRows=1)
        style = grid_style(right_from_col=_FIRST_AMOUNT_COL)
        bold = report_fonts().bold
        for index in self.ward_rows:
            style.add("SPAN", (0, index), (-1, index))
            style.add("BACKGROUND", (0, index), (-1, index), WARD_FILL)
            style.add("FONTNAME", (0, index), (-1, index), bold)
            style.add("ALIGN", (0, index), (-1, index), "LEFT")
        table.setStyle(style)
        return table


def _severity_heading(severity: str, rows: int, letter: str, st: Styles) -> Paragraph:
    colour = SEVERITY_COLOUR.get(severity)
    hex_colour = colour.hexval()[2:] if colour is not None else "1b1f24"
    return Paragraph(f'{letter}. Mức độ: <font color="#{hex_colour}">{severity_label(severity)}</font>'
                     f" — {format_int(rows)} dòng", st.h1)


def _ward_label(code: str, ward: str | None, sizes: _GroupSizes) -> str:
    suffix = f" (mã {ward})" if ward else ""
    return f"{ward_name(ward)}{suffix} — {format_int(sizes.by_ward[(code, ward)])} dòng"


def listing(prepared: pl.DataFrame, st: Styles) -> Iterator[Flowable]:
    """Headings and tables for every row of ``prepare``'d exceptions, generated lazily.

    One table per code (cut into chunks), with a sub-heading row for each ward: a ward with one exception
    then costs one line, not a table of its own.
    """
    sizes = _group_sizes(prepared)
    columns = prepared.select("severity", "code", "ward_code", *_ROW_COLUMNS)
    current: tuple[str, str, str | None] | None = None
    severity_number = 0
    number = 0
    chunk = _Chunk()
    for severity, code, ward, *values in columns.iter_rows():
        if current is None or code != current[1] or severity != current[0]:
            if chunk.rows:
                yield chunk.table()
                chunk = _Chunk()
            # Room for the headings and a few rows, so no heading is left alone at a page foot.
            yield CondPageBreak(110)
            if current is None or severity != current[0]:
                severity_number += 1
                letter = "ABCDE"[severity_number - 1]
                yield _severity_heading(severity, sizes.by_severity[severity], letter, st)
            rows, involved = sizes.by_code[code]
            yield Paragraph(f"{escape(code_label(code))} ({code}) — {format_int(rows)} dòng, "
                            f"số tiền liên quan {format_vnd(involved)}", st.h2)
            yield Paragraph(f"<b>Việc cần làm:</b> {escape(code_action(code))}", st.body)
            yield SectionMark(f"{severity_label(severity)} · {code_label(code)} ({code})")
            yield Spacer(1, 3)
            number = 0
        if current is None or (code, ward) != current[1:] or not chunk.rows:
            # A chunk starting mid-ward repeats the ward row, so every table says which ward it lists.
            chunk.add_ward(_ward_label(code, ward, sizes))
        current = (severity, code, ward)
        number += 1
        chunk.rows.append(_row(number, tuple(values), st))
        if len(chunk.rows) >= CHUNK_ROWS:
            yield chunk.table()
            chunk = _Chunk()
    if chunk.rows:
        yield chunk.table()
    yield SectionMark("")
    if current is None:
        yield Paragraph("Không có ngoại lệ nào trong kỳ.", st.body)
    yield Spacer(1, 6)
