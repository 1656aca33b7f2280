"""The exceptions as an Excel workbook, for finance officers who filter and annotate them by hand.

Written row by row with xlsxwriter in ``constant_memory`` mode: each row goes to disk as it is written, so
100,000 exceptions cost a few megabytes instead of the few hundred an in-memory workbook (and so Polars'
``write_excel``) holds. That mode cannot autofit or add an Excel table, so widths are computed from the
frame and the filter is a plain autofilter over the written range.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Final

import polars as pl
import xlsxwriter

SHEET: Final = "Ngoại lệ"
AMOUNT_FORMAT: Final = "#,##0"
AMOUNT_COLUMNS: Final = ("ordered_vnd", "paid_vnd", "difference_vnd")
_MIN_WIDTH: Final = 8
_MAX_WIDTH: Final = 60


def _widths(frame: pl.DataFrame) -> list[int]:
    """Column widths in characters: the longest value or header, within bounds (what autofit would do)."""
    longest = frame.select(pl.col(name).cast(pl.String).str.len_chars().max() for name in frame.columns)
    row = longest.row(0) if frame.height else (0,) * frame.width
    return [min(_MAX_WIDTH, max(_MIN_WIDTH, len(name), (length or 0) + 2))
            for name, length in zip(frame.columns, row, strict=True)]


def write_exceptions_xlsx(path: Path, exceptions: pl.DataFrame, *, created: datetime | None = None) -> None:
    """One sheet with the frame's columns as they are: amounts as integer number cells formatted ``#,##0``,
    text as text (national IDs keep their leading zeros), header row frozen, autofilter on every column.
    ``created`` fixes the workbook's creation date, which is otherwise now, for byte-identical files."""
    workbook = xlsxwriter.Workbook(
        # A name such as `=HYPERLINK(...)` from a payout file stays text: never a live formula or link.
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    if created is not None:
        workbook.set_properties({"created": created.replace(tzinfo=None)})
    try:
        sheet = workbook.add_worksheet(SHEET)
        header = workbook.add_format({"bold": True, "bg_color": "#1F3A5F", "font_color": "#FFFFFF"})
        amount = workbook.add_format({"num_format": AMOUNT_FORMAT})
        numeric = [dtype.is_numeric() for dtype in exceptions.dtypes]
        for col, (name, width) in enumerate(zip(exceptions.columns, _widths(exceptions), strict=True)):
            sheet.set_column(col, col, width, amount if name in AMOUNT_COLUMNS else None)
            sheet.write_string(0, col, name, header)
        for row_index, values in enumerate(exceptions.iter_rows(), start=1):
            for col, value in enumerate(values):
                if value is None:
                    continue  # an empty cell reads back as null
                if numeric[col]:
                    # Integers are written as numbers, so Excel sums them exactly (VND is whole).
                    sheet.write_number(row_index, col, value)
                else:
                    sheet.write_string(row_index, col, str(value))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(exceptions.height, 1), max(exceptions.width - 1, 0))
    finally:
        workbook.close()
