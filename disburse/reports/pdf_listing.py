"""The exception listing's table: prepared column-wise in Polars, drawn page by page as PDF operators.

A province lists up to 200,000 exceptions (about 10,000 pages). Platypus ``Table``s took 30-40 s for
100,000: per cell they build styles, measure and draw through ``drawString``. Here every step is done for a
whole column at once, and what is left per page is joining its rows' operator strings:

- ``listing_data`` computes every cell's text for the whole listing in Polars (amounts, row numbers, ward
  headings, Vietnamese details), word-wraps the cells wider than their column (``Metrics.wrap_column``,
  vectorised) and derives each row's height; the page breaks then follow from one cumulative sum.
- ``CodeListing`` is one flowable per code. Platypus places it like any other and asks it to split where a
  page ends: the split point is a binary search in the cumulative heights.
- Drawing turns a block of rows at a time into one string of PDF operators per row, in Polars
  (``_Drawing.rows``): the cells' text encoded for the embedded font by one ``replace_many`` per column
  (``FontEncoder.encode_column``), a wrapped cell's further lines as ``T*`` (next line), the row's stripe,
  rule, amounts (right-aligned per distinct amount) and its move to the next row looked up per distinct
  value, all joined by ``concat_str``. A page is its header and its rows' strings.

The page looks as the table did: a header on every page, a sub-heading row per ward (repeated as
"(tiếp theo)" where a ward continues on a new page, never left alone at a page foot), zebra stripes, rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import polars as pl
from reportlab.lib import colors
from reportlab.platypus import Flowable

from disburse.reports.fonts import report_fonts
from disburse.reports.pdf_details import details_vi
from disburse.reports.pdf_doc import FRAME_WIDTH
from disburse.reports.pdf_styles import HEADER_FILL, INK, RULE, WARD_FILL, ZEBRA
from disburse.reports.pdf_text import FontEncoder, Metrics, num, rgb
from disburse.reports.vn import format_distinct, format_int, format_vnd, ward_name

# Identifiers are stacked in pairs (beneficiary over national ID, order over payout reference) so that the
# detail keeps a third of the landscape width; most rows take two lines anyway.
HEADERS: Final = ("STT", "Họ và tên", "Mã đối tượng\nSố CCCD", "Mã lệnh chi\nMã GD chi trả",
                  "Số tiền\nlệnh chi", "Số tiền\nđã chi", "Chênh lệch", "Chi tiết")
# STT, name, beneficiary_id/national_id, order_id/payout_id, 3 amounts; the detail takes the rest. Sized for
# the identifiers seen in the dialects (payout references run to 20 characters); longer ones wrap.
_FIXED_WIDTHS: Final = (22.0, 100.0, 82.0, 106.0, 70.0, 70.0, 70.0)
WIDTHS: Final = (*_FIXED_WIDTHS, FRAME_WIDTH - sum(_FIXED_WIDTHS))
_LEFT: Final = tuple(float(x) for x in np.cumsum((0.0, *WIDTHS[:-1])))
_FIRST_AMOUNT: Final = 4

FONT_SIZE: Final = 7.5
LEADING: Final = 9.0
_PAD_X: Final = 3.0
_PAD_Y: Final = 2.0
HEADER_HEIGHT: Final = 2 * LEADING + 2 * _PAD_Y
WARD_HEIGHT: Final = LEADING + 2 * _PAD_Y
_FUZZ: Final = 1e-6  # platypus's own tolerance when it compares heights
# Rows are turned into operator strings this many at a time: a few Polars calls per block rather than per
# page, while memory holds one block's strings (about 5 MB), not the whole listing's.
_BLOCK_ROWS: Final = 8192

# The cells that wrap: (listing column, text column width); amounts and row numbers are one line.
_WRAPPED: Final = (("name", WIDTHS[1]), ("beneficiary", WIDTHS[2]), ("national_id", WIDTHS[2]),
                   ("order", WIDTHS[3]), ("payout", WIDTHS[3]), ("detail", WIDTHS[7]))
# The columns a page draws (``_Drawing.rows``); ``number`` is an integer, the rest text but ``lines``.
_ROW_COLUMNS: Final = ("opens_ward", "ward_label", "number", "name", "beneficiary", "national_id", "order",
                       "payout", "ordered", "paid", "difference", "detail", "lines")
_TEXT_COLUMNS: Final = ("name", "beneficiary", "national_id", "order", "payout", "detail")
# Between two lines of one cell: end the string, go to the next line (``TL`` is the leading), start another.
_NEXT_LINE: Final = ") Tj T* ("


@dataclass(frozen=True)
class Group:
    """The rows of one (severity, code) run of the sorted exceptions: ``rows[start:stop]`` of the listing."""

    severity: str
    code: str
    start: int
    stop: int


@dataclass
class ListingData:
    """Every listing row's cell text (``frame``), whether it opens a ward, and where each row ends."""

    frame: pl.DataFrame
    ends: np.ndarray[Any, np.dtype[np.float64]]  # ends[i] = height of rows [0, i); ends[0] = 0
    opens_ward: list[bool]
    groups: list[Group]
    _drawing: _Drawing | None = field(default=None, repr=False)
    _block: tuple[int, list[str]] = field(default=(-1, []), repr=False)

    def operators(self, start: int, stop: int, drawing: _Drawing) -> list[str]:
        """The operators of rows [start, stop), a string per row; pages are drawn in order, so blocks are
        too."""
        found: list[str] = []
        while start < stop:
            first, block = self._block
            if not first <= start < first + len(block):
                first = start - start % _BLOCK_ROWS
                self._block = first, block = first, drawing.rows(self.frame.slice(first, _BLOCK_ROWS))
            found += block[start - first: stop - first]
            start = first + len(block)
        return found

    def ward_label(self, row: int) -> str:
        label: str = self.frame["ward_label"][row]
        return label

    def height(self, start: int, stop: int) -> float:
        """Height of rows [start, stop) drawn as one page's part: header, continued ward, rows."""
        continued = 0.0 if self.opens_ward[start] else WARD_HEIGHT
        return HEADER_HEIGHT + continued + float(self.ends[stop] - self.ends[start])

    def fitting(self, start: int, stop: int, room: float) -> int:
        """The end of the longest run of rows from ``start`` that fits ``room`` (``start`` if none)."""
        rows_room = room - HEADER_HEIGHT - (0.0 if self.opens_ward[start] else WARD_HEIGHT)
        end = int(np.searchsorted(self.ends, self.ends[start] + rows_room + _FUZZ, side="right")) - 1
        return max(start, min(end, stop))

    def drawing(self, doc: Any) -> _Drawing:
        # Glyph codes belong to the PDF document being written: built on the first page drawn, and the
        # operator strings made for another document are dropped.
        if self._drawing is None or self._drawing.doc is not doc:
            self._drawing = _Drawing(doc)
            self._block = (-1, [])
        return self._drawing


def _dash(column: str) -> pl.Expr:
    """An identifier, or an em dash where there is none (as the table showed it)."""
    value = pl.col(column)
    return pl.when(value.is_null() | (value == "")).then(pl.lit("—")).otherwise(value)


def _ward_names(codes: pl.Series) -> pl.Series:
    # A listing names a few hundred wards: look each distinct code up once.
    names = {code: ward_name(code) for code in codes.drop_nulls().unique().to_list()}
    return codes.replace_strict(names, default=ward_name(None), return_dtype=pl.String)


def _cells(prepared: pl.DataFrame) -> pl.DataFrame:
    """Every cell's text as the table shows it, with the row's group, number and ward heading."""
    group = pl.struct("severity", "code").rle_id()
    ward_run = pl.struct(group, "ward_code").rle_id()
    ward = pl.col("ward_code")
    frame = prepared.select(
        "severity",
        "code",
        group.alias("group"),
        # Numbered within the code's listing; stripes follow the numbers.
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(group).alias("number"),
        (ward_run != ward_run.shift(1, fill_value=-1)).alias("opens_ward"),
        pl.len().over(ward_run).alias("ward_rows"),
        pl.concat_str(
            ward.map_batches(_ward_names, return_dtype=pl.String),
            pl.when(ward.is_null() | (ward == "")).then(pl.lit("")).otherwise(pl.format(" (mã {})", ward)),
        ).alias("ward_heading"),
        pl.col("full_name").fill_null("").alias("name"),
        _dash("beneficiary_id").alias("beneficiary"),
        _dash("national_id").alias("national_id"),
        _dash("order_id").alias("order"),
        _dash("payout_id").alias("payout"),
        "ordered_vnd",
        "paid_vnd",
        "difference_vnd",
        "detail",
    )
    return frame.with_columns(
        pl.concat_str("ward_heading", pl.lit(" — "), format_distinct(frame["ward_rows"], format_int, null=""),
                      pl.lit(" dòng")).alias("ward_label"),
        *(format_distinct(frame[f"{name}_vnd"], format_vnd, null=format_vnd(None)).alias(name)
          for name in ("ordered", "paid", "difference")),
        details_vi(frame["detail"]).fill_null("").alias("detail"),
    )


def listing_data(prepared: pl.DataFrame) -> ListingData:
    """The listing of ``prepare``'d exceptions (sorted by severity, code, ward), ready to paginate."""
    metrics = Metrics(report_fonts().regular, FONT_SIZE)
    frame = _cells(prepared)
    frame = frame.with_columns(metrics.wrap_column(frame[name], room - 2 * _PAD_X).alias(name)
                               for name, room in _WRAPPED)

    def lines(name: str) -> pl.Expr:
        return pl.col(name).str.count_matches("\n", literal=True) + 1

    frame = frame.with_columns(
        pl.max_horizontal(lines("name"), lines("beneficiary") + lines("national_id"),
                          lines("order") + lines("payout"), lines("detail")).cast(pl.Int64).alias("lines"),
    )
    heights = (frame["lines"].cast(pl.Float64) * LEADING + 2 * _PAD_Y
               + frame["opens_ward"].cast(pl.Float64) * WARD_HEIGHT)
    ends = np.concatenate(([0.0], np.cumsum(heights.to_numpy())))
    runs = (frame.with_row_index("row").group_by("group", maintain_order=True)
            .agg(pl.col("severity").first(), pl.col("code").first(), pl.col("row").min().alias("start"),
                 (pl.col("row").max() + 1).alias("stop")))
    groups = [Group(*values) for values in runs.select("severity", "code", "start", "stop").iter_rows()]
    return ListingData(frame.select(_ROW_COLUMNS), ends, frame["opens_ward"].to_list(), groups)


class _Drawing:
    """Operator strings that do not depend on a row, and the encoders, for one PDF document."""

    def __init__(self, doc: Any) -> None:
        fonts = report_fonts()
        self.doc = doc
        self.regular = FontEncoder(fonts.regular, FONT_SIZE, doc)
        self.bold = FontEncoder(fonts.bold, FONT_SIZE, doc)
        self.metrics = Metrics(fonts.regular, FONT_SIZE)
        bold_metrics = Metrics(fonts.bold, FONT_SIZE)
        self.width = num(FRAME_WIDTH)
        # Baseline of each line of a top-aligned cell, below the row's top.
        self.baselines = [num(-(_PAD_Y + FONT_SIZE + LEADING * line)) for line in range(64)]
        self.left = [num(x + _PAD_X) for x in _LEFT]
        self.ink = f"{rgb(INK)} rg"
        self._amounts: dict[tuple[int, str], str] = {}
        self.header = self._header(bold_metrics)
        self.rule = f"{rgb(RULE)} RG 0.25 w"
        self.box = f"{rgb(RULE)} RG 0.5 w"
        # Before the first row of a page (after the header or a continued ward's heading): the rows' font,
        # ink and leading (for ``T*``).
        self.rows_start = f"{self.regular.select}\n{self.ink}\n{num(LEADING)} TL"
        height = num(WARD_HEIGHT)
        self._ward_start = (f"{rgb(WARD_FILL)} rg 0 -{height} {self.width} {height} re f\n"
                            f"0 -{height} m {self.width} -{height} l S\nBT {self.bold.select} {self.ink} "
                            f"1 0 0 1 {self.left[0]} {self.baselines[0]} Tm ")
        self._ward_end = f" ET\n1 0 0 1 0 -{height} cm"

    def _row_start(self, lines: int, striped: bool) -> str:
        """A row's stripe (every other exception, starting with the second), rule below, the text object's
        start and its row number's position; the ink is set again after a stripe's fill."""
        height = num(lines * LEADING + 2 * _PAD_Y)
        rule = f"0 -{height} m {self.width} -{height} l S"
        number = f"1 0 0 1 {self.left[0]} {self.baselines[0]} Tm ("
        if striped:
            return f"{rgb(ZEBRA)} rg 0 -{height} {self.width} {height} re f\n{rule}\nBT {self.ink}\n{number}"
        return f"{rule}\nBT\n{number}"

    def rows(self, block: pl.DataFrame) -> list[str]:
        """The operators of listing rows (``_ROW_COLUMNS``), a string per row, each row drawn below the
        previous one. The regular font stays selected between rows (a ward row selects the bold one and
        then the regular one again); a cell's lines after the first follow with ``T*``."""
        if block.is_empty():
            return []
        left, first = self.left, self.baselines[0]
        texts = {name: self.regular.encode_column(block[name], _NEXT_LINE) for name in _TEXT_COLUMNS}
        striped = (block["number"] % 2 == 0).cast(pl.Int64)
        kinds = (block["lines"] * 2 + striped).unique().to_list()
        starts = {kind: self._row_start(kind // 2, bool(kind % 2)) for kind in kinds}
        moves = {lines: f"1 0 0 1 0 -{num(lines * LEADING + 2 * _PAD_Y)} cm"
                 for lines in block["lines"].unique().to_list()}
        # Ward headings and amounts are encoded once per distinct value, in the order the page shows them:
        # the order glyphs get their codes in, which must not depend on a hash (``maintain_order``).
        opening = block.filter(pl.col("opens_ward"))["ward_label"]
        wards = {label: f"{self.ward(label)}\n{self.regular.select}\n"
                 for label in opening.unique(maintain_order=True).to_list()}
        amounts = [{text: self.amount(column, text)
                    for text in block[name].unique(maintain_order=True).to_list()}
                   for column, name in enumerate(("ordered", "paid", "difference"), start=_FIRST_AMOUNT)]

        def at(column: int) -> pl.Expr:
            return pl.lit(f") Tj\n1 0 0 1 {left[column]} {first} Tm (")

        frame = block.select("opens_ward", "ward_label", "number", "lines", "ordered", "paid", "difference",
                             striped.alias("striped")).with_columns(**texts)
        ops = frame.select(pl.concat_str(
            pl.when("opens_ward").then(pl.col("ward_label").replace_strict(wards, default=""))
            .otherwise(pl.lit("")),
            (pl.col("lines") * 2 + pl.col("striped")).replace_strict(starts, return_dtype=pl.String),
            pl.col("number").cast(pl.String),
            at(1), "name",
            at(2), "beneficiary", pl.lit(_NEXT_LINE), "national_id",
            at(3), "order", pl.lit(_NEXT_LINE), "payout",
            at(7), "detail", pl.lit(") Tj\n"),
            pl.col("ordered").replace_strict(amounts[0]), pl.lit("\n"),
            pl.col("paid").replace_strict(amounts[1]), pl.lit("\n"),
            pl.col("difference").replace_strict(amounts[2]), pl.lit("\nET\n"),
            pl.col("lines").replace_strict(moves, return_dtype=pl.String),
        ).alias("ops"))
        found: list[str] = ops["ops"].to_list()
        return found

    def amount(self, column: int, text: str) -> str:
        """A right-aligned amount: its position and string, kept per distinct value (amounts recur)."""
        key = (column, text)
        shown = self._amounts.get(key)
        if shown is None:
            right = _LEFT[column] + WIDTHS[column] - _PAD_X
            x = num(right - self.metrics.width(text))
            shown = self._amounts[key] = f"1 0 0 1 {x} {self.baselines[0]} Tm {self.regular.show(text)}"
        return shown

    def ward(self, label: str) -> str:
        """A ward's sub-heading row (a few hundred a listing), spanning the table, in bold."""
        return f"{self._ward_start}{self.bold.show(label)}{self._ward_end}"

    def _header(self, metrics: Metrics) -> str:
        height = num(HEADER_HEIGHT)
        ops = [f"{rgb(HEADER_FILL)} rg 0 -{height} {self.width} {height} re f",
               f"0 -{height} m {self.width} -{height} l S",
               f"BT {self.bold.select} {rgb(colors.white)} rg"]
        for column, label in enumerate(HEADERS):
            lines = label.split("\n")
            # Vertically centred, as the table's header row was; amount headings centred horizontally.
            top = (HEADER_HEIGHT - len(lines) * LEADING) / 2
            for index, line in enumerate(lines):
                if _FIRST_AMOUNT <= column < _FIRST_AMOUNT + 3:
                    x = _LEFT[column] + (WIDTHS[column] - metrics.width(line)) / 2
                else:
                    x = _LEFT[column] + _PAD_X
                y = -(top + FONT_SIZE + LEADING * index)
                ops.append(f"1 0 0 1 {num(x)} {num(y)} Tm {self.bold.show(line)}")
        ops += ["ET", f"1 0 0 1 0 -{height} cm"]
        return "\n".join(ops)


class CodeListing(Flowable):  # type: ignore[misc]  # reportlab is untyped
    """Rows ``[start, stop)`` of one code's listing; splits itself at page ends (see the module doc)."""

    def __init__(self, data: ListingData, start: int, stop: int) -> None:
        super().__init__()
        self._data, self._start, self._stop = data, start, stop
        self.width = FRAME_WIDTH
        self.height = data.height(start, stop)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        end = self._data.fitting(self._start, self._stop, available_height)
        if end <= self._start:  # not even one row fits under the header: start on the next page
            return []
        if end >= self._stop:
            return [self]
        return [CodeListing(self._data, self._start, end), CodeListing(self._data, end, self._stop)]

    def draw(self) -> None:
        data, start, stop = self._data, self._start, self._stop
        drawing = data.drawing(self.canv._doc)
        ops = ["q", f"1 0 0 1 0 {num(self.height)} cm", drawing.rule, drawing.header]
        if not data.opens_ward[start]:  # the ward this page continues
            ops.append(drawing.ward(f"{data.ward_label(start)} (tiếp theo)"))
        ops.append(drawing.rows_start)
        ops += data.operators(start, stop, drawing)
        ops += ["Q", f"{drawing.box} 0 0 {drawing.width} {num(self.height)} re S"]
        self.canv.addLiteral("\n".join(ops))
