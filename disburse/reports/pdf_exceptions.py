"""The exception listing: grouped by severity (critical first), code and ward, as a stream of flowables.

Each code's rows are cut into blocks of ``CHUNK_ROWS`` rows that are only built when the document reaches
them (see ``pdf_doc.StreamingDoc``) and that read as one table with a header on every page (see
``pdf_rows.RowBlock``), so a listing of 100,000 rows paginates in bounded memory and in linear time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final
from xml.sax.saxutils import escape

import polars as pl
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import CondPageBreak, Flowable, Paragraph, Spacer

from disburse.reports.pdf_details import detail_vi
from disburse.reports.pdf_doc import FRAME_WIDTH, SectionMark
from disburse.reports.pdf_rows import HEADERS, RowBlock, Rows
from disburse.reports.pdf_styles import SEVERITY_COLOUR, Styles
from disburse.reports.vn import (
    code_action,
    code_label,
    format_int,
    format_vnd,
    severity_label,
    ward_name,
)
from disburse.schema import SEVERITY, SEVERITY_RANK, Code, Severity

# Rows per block, about two pages: reportlab rebuilds the remainder of a table at every page split, so larger
# blocks cost more per page; smaller ones only add flowables.
CHUNK_ROWS: Final = 60

# STT, name, beneficiary_id/national_id, order_id/payout_id, 3 amounts; the detail takes the rest. Sized for
# the identifiers seen in the dialects (payout references run to 20 characters); longer ones wrap.
_FIXED_WIDTHS: Final = (22.0, 100.0, 82.0, 106.0, 70.0, 70.0, 70.0)
_WIDTHS: Final = (*_FIXED_WIDTHS, FRAME_WIDTH - sum(_FIXED_WIDTHS))

_ROW_COLUMNS: Final = ("full_name", "beneficiary_id", "national_id", "order_id", "payout_id",
                       "ordered_vnd", "paid_vnd", "difference_vnd", "detail")


def prepare(exceptions: pl.DataFrame) -> pl.DataFrame:
    """Sorted for the listing, with a severity rank and the optional ``full_name``/``ward_code`` present."""
    frame = exceptions
    for optional in ("full_name", "ward_code"):
        if optional not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(optional))
    # A row without a severity takes its code's; an unknown code without one is listed last, as info.
    severity = pl.coalesce(pl.col("severity"), pl.col("code").replace_strict(SEVERITY, default=None),
                           pl.lit(Severity.INFO.value))
    return frame.with_columns(
        severity.alias("severity"),
        severity.replace_strict(SEVERITY_RANK, default=len(SEVERITY_RANK), return_dtype=pl.Int64)
        .alias("_rank"),
    ).sort(["_rank", "code", "ward_code", "order_id", "payout_id"], nulls_last=True)


def _involved() -> pl.Expr:
    """Money a row is about: the larger of what was ordered and what was paid (0 when neither is known).

    Except a file's control-total row, whose amounts are the file's whole totals: there it is the gap.
    """
    larger = pl.max_horizontal(pl.col("ordered_vnd").fill_null(0), pl.col("paid_vnd").fill_null(0))
    gap = pl.col("difference_vnd").fill_null(0).abs()
    return pl.when(pl.col("code") == Code.CONTROL_TOTAL_MISMATCH.value).then(gap).otherwise(larger)


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


_DETAIL_COL: Final = len(HEADERS) - 1
_CELL_PADDING: Final = 6.0  # left + right padding of a listing cell (pdf_rows)
_MAX_LINES: Final = 24


def _cell(text: str | None, width: float, st: Styles) -> str:
    """Text wrapped to the column as lines (reportlab's ``simpleSplit``, the word wrap a Paragraph uses).

    A table cell holding lines is drawn as they are; a Paragraph per cell would parse markup and re-measure
    its words at every page split, which cost a quarter of the listing's time. Details are plain text.
    """
    if not text:
        return ""
    size, room = st.cell.fontSize, width - _CELL_PADDING
    if stringWidth(text, st.cell.fontName, size) <= room:
        return text
    lines = simpleSplit(text, st.cell.fontName, size, room)
    lines = [piece for line in lines for piece in _break_long(line, st.cell.fontName, size, room)]
    if len(lines) > _MAX_LINES:  # a table row cannot continue on the next page: keep every row page-sized
        lines = [*lines[: _MAX_LINES - 1], "… (xem đầy đủ trong exceptions.csv)"]
    return "\n".join(lines)


def _break_long(line: str, font: str, size: float, room: float) -> list[str]:
    """A line still wider than the column is one long word (a file name, a reference): cut it by letters."""
    pieces: list[str] = []
    while stringWidth(line, font, size) > room and len(line) > 1:
        cut = len(line) - 1
        while cut > 1 and stringWidth(line[:cut], font, size) > room:
            cut -= 1
        pieces.append(line[:cut])
        line = line[cut:]
    return [*pieces, line]


def _row(number: int, values: tuple[Any, ...], st: Styles) -> list[Any]:
    name, beneficiary, national_id, order_id, payout_id, ordered, paid, difference, detail = values
    ids = "\n".join(_cell(text or "—", _WIDTHS[2], st) for text in (beneficiary, national_id))
    refs = "\n".join(_cell(text or "—", _WIDTHS[3], st) for text in (order_id, payout_id))
    return [str(number), _cell(name, _WIDTHS[1], st), ids, refs, format_vnd(ordered), format_vnd(paid),
            format_vnd(difference), _cell(detail_vi(detail), _WIDTHS[_DETAIL_COL], st)]


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

    One table per code (cut into ``RowBlock``s), with a sub-heading row for each ward: a ward with one
    exception then costs one line, not a table of its own.
    """
    sizes = _group_sizes(prepared)
    columns = prepared.select("severity", "code", "ward_code", *_ROW_COLUMNS)
    current: tuple[str, str, str | None] | None = None
    severity_number = 0
    number = 0
    block = Rows()
    opens_listing = True
    for severity, code, ward, *values in columns.iter_rows():
        if current is None or code != current[1] or severity != current[0]:
            if len(block):
                yield RowBlock(block, _WIDTHS, opens_listing=opens_listing)
            # Room for the headings and a few rows, so no heading is left alone at a page foot.
            yield CondPageBreak(110)
            if current is None or severity != current[0]:
                severity_number += 1
                letter = "ABCDE"[severity_number - 1]
                yield _severity_heading(severity, sizes.by_severity[severity], letter, st)
            rows, involved = sizes.by_code[code]
            yield Paragraph(f"{escape(code_label(code))} ({escape(code)}) — {format_int(rows)} dòng, "
                            f"số tiền liên quan {format_vnd(involved)}", st.h2)
            yield Paragraph(f"<b>Việc cần làm:</b> {escape(code_action(code))}", st.body)
            yield SectionMark(f"{severity_label(severity)} · {code_label(code)} ({code})")
            yield Spacer(1, 3)
            block, opens_listing, number = Rows(), True, 0
        if current is None or (code, ward) != current[1:]:
            block.add_ward(_ward_label(code, ward, sizes))
        current = (severity, code, ward)
        number += 1
        block.add(_row(number, tuple(values), st))
        if len(block) >= CHUNK_ROWS:
            yield RowBlock(block, _WIDTHS, opens_listing=opens_listing)
            block, opens_listing = Rows(offset=block.offset + len(block)), False
    if len(block):
        yield RowBlock(block, _WIDTHS, opens_listing=opens_listing)
    yield SectionMark("")
    if current is None:
        yield Paragraph("Không có ngoại lệ nào trong kỳ.", st.body)
    yield Spacer(1, 6)
