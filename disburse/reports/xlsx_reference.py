"""The exceptions workbook as ``xlsx.write_exceptions_xlsx`` wrote it before rows were spliced in: one
xlsxwriter call per cell (constant_memory mode), with the export's own workbook options and header. Not used
by the reports: it is the reference the tests compare the spliced workbook with part by part, and the
baseline the report benchmarks time it against (44 s for a national month's 650k exceptions)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from disburse.reports.xlsx import add_header, open_workbook


def write_cell_by_cell(path: Path, exceptions: pl.DataFrame, *, created: datetime | None = None) -> None:
    workbook = open_workbook(str(path), created)
    try:
        sheet, _ = add_header(workbook, exceptions)
        numeric = [dtype.is_numeric() for dtype in exceptions.dtypes]
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
