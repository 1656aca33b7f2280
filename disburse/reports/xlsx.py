"""The exceptions as an Excel workbook, for finance officers who filter and annotate them by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

SHEET: Final = "Ngoại lệ"
AMOUNT_FORMAT: Final = "#,##0"
AMOUNT_COLUMNS: Final = ("ordered_vnd", "paid_vnd", "difference_vnd")


def write_exceptions_xlsx(path: Path, exceptions: pl.DataFrame) -> None:
    """One sheet, the frame's columns as they are: amounts as integer number cells formatted ``#,##0``,
    header row frozen, an autofilter on every column (an Excel table), columns sized to their content."""
    amounts = [name for name in AMOUNT_COLUMNS if name in exceptions.columns]
    # Integers stay Int64: xlsxwriter writes them as number cells, so Excel sums them exactly (VND is whole).
    frame = exceptions.with_columns(pl.col(amounts).cast(pl.Int64))
    frame.write_excel(
        workbook=path,
        worksheet=SHEET,
        column_formats=dict.fromkeys(amounts, AMOUNT_FORMAT),
        header_format={"bold": True, "bg_color": "#1F3A5F", "font_color": "#FFFFFF"},
        autofilter=True,
        freeze_panes="A2",
        autofit=True,
        table_style="Table Style Light 9",
        include_header=True,
    )
