"""The exceptions workbook as ``xlsx.write_exceptions_xlsx`` wrote it before rows were spliced in: one
xlsxwriter call per cell (constant_memory mode). Not used by the reports: it is the reference the tests
compare the spliced workbook with part by part, and the baseline the report benchmarks time it against (44 s
for a national month's 650k exceptions)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from disburse.reports.xlsx import AMOUNT_COLUMNS, AMOUNT_FORMAT, SHEET, _widths


def write_cell_by_cell(path: Path, exceptions: pl.DataFrame, *, created: datetime | None = None) -> None:
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
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
        # Row by row on purpose: this is the slow writer being measured against.
        for row_index, values in enumerate(exceptions.iter_rows(), start=1):
            for col, value in enumerate(values):
                if value is None:
                    continue
                if numeric[col]:
                    sheet.write_number(row_index, col, value)
                else:
                    sheet.write_string(row_index, col, str(value))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(exceptions.height, 1), max(exceptions.width - 1, 0))
    finally:
        workbook.close()
