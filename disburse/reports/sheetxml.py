"""The ``<row>`` elements of a worksheet part, built a column at a time by Polars instead of a cell at a time.

xlsxwriter spends about 4 µs in Python on every cell (8 s for 131,716 exception rows of 14 columns, 40 s for a
national month's 650,000). Here each column becomes one Polars string expression: ``<c r="A2" ...>`` wrapped
around the column's text, so the per-cell work runs in Polars' native code, and the rows are produced in
blocks of ``CHUNK_ROWS`` whose UTF-8 bytes go straight to the zip stream (no Python object per cell, and
memory bounded by one block, not by the month).

The cells are exactly those xlsxwriter's ``constant_memory`` mode writes (``test_reports_xlsx`` compares the
two sheet parts byte for byte):

* text as inline strings, ``<c r="A2" t="inlineStr"><is><t>…</t></is></c>``; ``&``, ``<`` and ``>`` escaped
  (quotes need no escape in element text); control characters XML 1.0 forbids and the non-characters
  U+FFFE/U+FFFF as Excel's ``_xHHHH_`` escapes, a literal ``_xHHHH_`` as ``_x005F_xHHHH_`` so it reads back
  as itself; ``xml:space="preserve"`` when the text starts or ends with white space; text over Excel's
  32,767 UTF-16 units cut there;
* numbers (any numeric column) as ``<c r="I2" s="2"><v>2789000</v></c>``; booleans as the text
  ``True``/``False``; other types (dates, categories) as their text, as Polars casts them;
* nulls as no cell, and a row without any cell as no ``<row>``;
* ``s="N"`` on every cell of a column that has a style.

Two deliberate differences: a text shaped like ``<r>…</r>``, which xlsxwriter copies into the part unescaped
(as rich-text markup, so a payout file could inject XML), is escaped like any other text; and NaN or ±inf,
which xlsxwriter refuses with a TypeError, is an empty cell. And a few values are spelled otherwise, none
in the exceptions frame (String and Int64 columns): integers of 10^16 or more keep all their digits and floats
are written in their shortest exact form (``3.0``, ``0.30000000000000004``) where xlsxwriter writes ``%.16G``
(``3``, ``0.3``), the same number to Excel or a closer one; a datetime or duration reads as Polars prints it
(``2026-10-05 09:30:00.000000``) rather than as Python's ``str()``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

import numpy as np
import polars as pl
from xlsxwriter.utility import xl_col_to_name

# ~8 MB of XML a block at 14 columns. Larger blocks gain no speed but memory: Polars holds a block's
# intermediate columns, and a 650k-row sheet peaked 115 MB above the frame at 10,000 rows, 340 MB at 50,000.
CHUNK_ROWS: Final = 10_000
MAX_UNITS: Final = 32_767  # Excel's limit on a cell's text, in UTF-16 code units

_CONTROL: Final = (*range(0x00, 0x09), *range(0x0B, 0x20))  # tab, LF and CR are legal XML 1.0
_LITERALS: Final = ["&", "<", ">", *map(chr, _CONTROL), "\ufffe", "\uffff"]
_ESCAPES: Final = ["&amp;", "&lt;", "&gt;", *(f"_x{code:04X}_" for code in _CONTROL), "_xFFFE_", "_xFFFF_"]
_EXCEL_ESCAPE: Final = r"_x[0-9a-fA-F]{4}_"
_EDGE_SPACE: Final = r"^\s|\s$"
# Anything that makes a text differ from its XML: checked once a block so that the usual column (IDs, codes,
# names) skips the escaping passes.
_SPECIAL: Final = rf"[&<>\x00-\x08\x0B-\x1F\x{{FFFE}}\x{{FFFF}}]|{_EXCEL_ESCAPE}|{_EDGE_SPACE}"
_PRESERVE: Final = ' xml:space="preserve"'
# Per cell, the most markup around a value: <c r="XFD1048576" s="65535" t="inlineStr"><is><t
# xml:space="preserve">…</t></is></c> is 83 bytes; per row, <row r="1048576"></row> is 23.
_CELL_MARKUP: Final = 96
_ROW_MARKUP: Final = 32
_ESCAPE_GROWTH: Final = 7  # one control byte becomes _xHHHH_


def _cell_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """The column as the text of its cells, null where the cell is left empty."""
    column = pl.col(name)
    if dtype.is_float():
        return pl.when(column.is_finite()).then(column.cast(pl.String))
    if dtype == pl.Boolean:
        # What the cell-by-cell writer wrote, str(True); Polars' own cast says "true".
        return pl.when(column).then(pl.lit("True")).when(column.not_()).then(pl.lit("False"))
    return column.cast(pl.String)


def _present(name: str, dtype: pl.DataType) -> pl.Expr:
    column = pl.col(name)
    return column.is_finite() if dtype.is_float() else column.is_not_null()


def last_row(frame: pl.DataFrame, *, first_row: int) -> int:
    """The sheet row (1-based) of the frame's last row holding a cell; ``first_row - 1`` if none does."""
    if frame.width == 0 or frame.height == 0:
        return first_row - 1
    filled = frame.select(
        pl.any_horizontal(_present(name, dtype) for name, dtype in frame.schema.items()).fill_null(False)
    ).to_series()
    rows = filled.arg_true()
    return first_row - 1 if rows.is_empty() else first_row + int(rows[-1])


def size_bound(frame: pl.DataFrame) -> int:
    """An upper bound of the bytes ``sheet_rows`` yields for ``frame``, to decide on ZIP64 upfront."""
    if frame.width == 0 or frame.height == 0:
        return 0
    text = frame.select(_cell_text(name, dtype).str.len_bytes().sum() for name, dtype in frame.schema.items())
    value_bytes = sum(int(total or 0) for total in text.row(0))
    return _ESCAPE_GROWTH * value_bytes + frame.height * (_ROW_MARKUP + _CELL_MARKUP * frame.width)


def _truncate(text: str) -> str:
    """Cut to ``MAX_UNITS`` UTF-16 units without splitting a character, as xlsxwriter's write_string does."""
    # A pair cut in half decodes to nothing under "ignore": the whole character is dropped.
    return text.encode("utf-16-le")[: 2 * MAX_UNITS].decode("utf-16-le", "ignore")


def _fit_long_texts(values: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    """Texts over Excel's limit, cut. UTF-16 units never outnumber UTF-8 bytes, so only texts of more than
    ``MAX_UNITS`` bytes can be over it: the check is the bytes, and only those few texts go through Python."""
    for name in names:
        column = values[name]
        long = column.str.len_bytes() > MAX_UNITS
        if long.any():
            cut = pl.Series(name, [_truncate(text) for text in column.filter(long).to_list()], pl.String)
            values = values.with_columns(column.scatter(long.arg_true(), cut))
    return values


def _cell(name: str, letter: str, style: int | None, *, text: bool, special: bool) -> pl.Expr:
    """One cell a row, null where the value is null (``concat_str`` propagates it)."""
    start = [pl.lit(f'<c r="{letter}'), pl.col("_r")]
    style_attr = "" if style is None else f' s="{style}"'
    if not text:
        return pl.concat_str([*start, pl.lit(f'"{style_attr}><v>'), pl.col(name), pl.lit("</v></c>")])
    if not special:
        return pl.concat_str(
            [*start, pl.lit(f'"{style_attr} t="inlineStr"><is><t>'), pl.col(name), pl.lit("</t></is></c>")]
        )
    # xlsxwriter's order: escape literal _xHHHH_ first so the control escapes that follow stay escapes, then
    # decide on xml:space from the escaped text (an escaped control character is no longer white space).
    escaped = (
        pl.col(name).str.replace_all(_EXCEL_ESCAPE, "_x005F$0").str.replace_many(_LITERALS, _ESCAPES)
    )
    preserve = pl.when(escaped.str.contains(_EDGE_SPACE)).then(pl.lit(_PRESERVE)).otherwise(pl.lit(""))
    return pl.concat_str(
        [*start, pl.lit(f'"{style_attr} t="inlineStr"><is><t'), preserve, pl.lit(">"), escaped,
         pl.lit("</t></is></c>")]
    )


def _utf8(rows: pl.Series) -> memoryview:
    """The rows' text, concatenated, as UTF-8 bytes: Arrow's string data buffer is exactly that, so no join
    and no copy into a Python str."""
    array = rows.to_arrow(compat_level=pl.CompatLevel.oldest())  # large_string: offsets + one data buffer
    if hasattr(array, "combine_chunks"):
        array = array.combine_chunks()
    _, offsets, data = array.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)
    start, end = int(bounds[array.offset]), int(bounds[array.offset + len(array)])
    return memoryview(data)[start:end] if end > start else memoryview(b"")


def sheet_rows(
    frame: pl.DataFrame, *, styles: Sequence[int | None], first_row: int, chunk_rows: int | None = None
) -> Iterator[memoryview]:
    """The frame's rows as ``<row>`` elements, a block of ``chunk_rows`` (default ``CHUNK_ROWS``) rows at a
    time, as UTF-8 bytes.

    ``first_row`` is the sheet row (1-based) of the frame's first row; ``styles`` the xf index of each column
    (None: no ``s`` attribute).
    """
    if frame.width == 0:
        return
    schema = frame.schema
    names = [f"c{index}" for index in range(frame.width)]  # positional: no clash with the row number's name
    numeric = [dtype.is_numeric() for dtype in schema.values()]
    text_names = [name for name, is_number in zip(names, numeric, strict=True) if not is_number]
    letters = [xl_col_to_name(index) for index in range(frame.width)]
    values_of = [_cell_text(column, dtype).alias(name)
                 for name, (column, dtype) in zip(names, schema.items(), strict=True)]
    step = chunk_rows or CHUNK_ROWS
    for offset in range(0, frame.height, step):
        values = _fit_long_texts(frame.slice(offset, step).select(values_of), text_names)
        checks = values.select(pl.col(name).str.contains(_SPECIAL).any() for name in text_names).row(0)
        special = dict(zip(text_names, checks, strict=True))
        cells = [
            _cell(name, letter, style, text=not is_number, special=bool(special.get(name)))
            for name, letter, style, is_number in zip(names, letters, styles, numeric, strict=True)
        ]
        filled = pl.any_horizontal(pl.col(names).is_not_null())
        opening = pl.when(filled).then(pl.concat_str([pl.lit('<row r="'), pl.col("_r"), pl.lit('">')]))
        closing = pl.when(filled).then(pl.lit("</row>"))
        number = pl.int_range(first_row + offset, first_row + offset + pl.len()).cast(pl.String).alias("_r")
        rows = pl.concat_str([opening, *cells, closing], ignore_nulls=True)
        yield _utf8(values.with_columns(number).select(rows).to_series())
