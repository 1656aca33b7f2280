"""The exception listing's table: prepared column-wise in Polars, drawn page by page as PDF operators.

A province lists up to 100,000 exceptions (about 4,800 pages). Platypus ``Table``s took 30-40 s for that:
per cell they build styles, measure and draw through ``drawString``. Here the work per row is the least the
page needs:

- ``listing_data`` computes every cell's text for the whole listing at once in Polars (amounts, row numbers,
  ward headings, Vietnamese details once per distinct detail), measures which cells may be wider than their
  column from an upper bound taken over distinct digit-normalised values, word-wraps only those in Python,
  and derives each row's height; the page breaks then follow from one cumulative sum.
- ``CodeListing`` is one flowable per code. Platypus places it like any other and asks it to split where a
  page ends: the split point is a binary search in the cumulative heights. Drawing a page slices its rows
  out of the frame and writes one string of PDF operators (``canvas.addLiteral``): a translation per row,
  its stripe and rule, and its text through ``pdf_text.FontEncoder``.

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
# Rows are turned into Python tuples this many at a time: one Polars call per block rather than per page,
# while memory holds one block, not the 100,000 rows of a listing as Python objects.
_BLOCK_ROWS: Final = 2048

# The cells that wrap: (listing column, text column width); amounts and row numbers are one line.
_WRAPPED: Final = (("name", WIDTHS[1]), ("beneficiary", WIDTHS[2]), ("national_id", WIDTHS[2]),
                   ("order", WIDTHS[3]), ("payout", WIDTHS[3]), ("detail", WIDTHS[7]))
# The columns a page draws, in the order ``_row_operators`` unpacks them.
_ROW_COLUMNS: Final = ("opens_ward", "ward_label", "number", "name", "beneficiary", "national_id", "order",
                       "payout", "ordered", "paid", "difference", "detail", "lines", "single")


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
    _block: tuple[int, list[tuple[Any, ...]]] = field(default=(-1, []), repr=False)

    def rows(self, start: int, stop: int) -> list[tuple[Any, ...]]:
        """Rows [start, stop) as tuples of ``_ROW_COLUMNS``; pages are drawn in order, so blocks are too."""
        found: list[tuple[Any, ...]] = []
        while start < stop:
            first, block = self._block
            if not first <= start < first + len(block):
                first = start - start % _BLOCK_ROWS
                self._block = first, block = first, self.frame.slice(first, _BLOCK_ROWS).rows()
            found += block[start - first: stop - first]
            start = first + len(block)
        return found

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
        # Glyph codes belong to the PDF document being written: built on the first page drawn.
        if self._drawing is None or self._drawing.doc is not doc:
            self._drawing = _Drawing(doc)
        return self._drawing


def _dash(column: str) -> pl.Expr:
    """An identifier, or an em dash where there is none (as the table showed it)."""
    value = pl.col(column)
    return pl.when(value.is_null() | (value == "")).then(pl.lit("—")).otherwise(value)


def _ward_names(codes: pl.Series) -> pl.Series:
    # A listing names a few hundred wards: look each distinct code up once.
    names = {code: ward_name(code) for code in codes.drop_nulls().unique().to_list()}
    return codes.replace_strict(names, default=ward_name(None), return_dtype=pl.String)


def _wrapped(column: pl.Series, room: float, metrics: Metrics, widest_digit: str) -> pl.Series:
    """The column with every cell wider than ``room`` word-wrapped into lines joined by newlines.

    Most cells fit. Replacing each digit by the widest digit gives an upper bound of a cell's width that
    takes few distinct values (identifiers differ only in digits), so only distinct bounds are measured and
    only cells whose bound exceeds the column (or that hold a line break) are wrapped, one by one.
    """
    shapes = column.str.replace_many(dict.fromkeys("0123456789", widest_digit))
    distinct = shapes.unique().to_list()
    bounds = shapes.replace_strict({shape: metrics.width(shape) for shape in distinct},
                                   return_dtype=pl.Float64)
    suspect = (bounds > room) | column.str.contains("\n", literal=True)
    where = suspect.arg_true()
    if where.is_empty():
        return column
    lines = ["\n".join(metrics.wrap(text, room)) for text in column.gather(where).to_list()]
    return column.scatter(where, pl.Series(lines, dtype=pl.String))


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
        pl.int_range(1, pl.len() + 1).over(group).cast(pl.String).alias("number"),
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
    widest = metrics.widest_digit()
    frame = frame.with_columns(_wrapped(frame[name], room - 2 * _PAD_X, metrics, widest).alias(name)
                               for name, room in _WRAPPED)

    def lines(name: str) -> pl.Expr:
        return pl.col(name).str.count_matches("\n", literal=True) + 1

    stacked = ("name", "beneficiary", "national_id", "order", "payout")
    frame = frame.with_columns(
        pl.max_horizontal(lines("name"), lines("beneficiary") + lines("national_id"),
                          lines("order") + lines("payout"), lines("detail")).cast(pl.Int64).alias("lines"),
        # Every cell but the detail on one line: the common case, which the drawing loop takes quickly.
        ~pl.any_horizontal(pl.col(name).str.contains("\n", literal=True) for name in stacked).alias("single"),
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
        self._rows: dict[int, tuple[str, str, str]] = {}
        self._amounts: dict[tuple[int, str], str] = {}
        self.header = self._header(bold_metrics)
        self.rule = f"{rgb(RULE)} RG 0.25 w"
        self.box = f"{rgb(RULE)} RG 0.5 w"
        height = num(WARD_HEIGHT)
        self._ward_start = (f"{rgb(WARD_FILL)} rg 0 -{height} {self.width} {height} re f\n"
                            f"0 -{height} m {self.width} -{height} l S\nBT {self.bold.select} {self.ink} "
                            f"1 0 0 1 {self.left[0]} {self.baselines[0]} Tm ")
        self._ward_end = f" ET\n1 0 0 1 0 -{height} cm"

    def row_frame(self, lines: int) -> tuple[str, str, str]:
        """(stripe, rule below, move to the next row) for a row of ``lines`` lines."""
        frame = self._rows.get(lines)
        if frame is None:
            height = num(lines * LEADING + 2 * _PAD_Y)
            frame = self._rows[lines] = (
                f"{rgb(ZEBRA)} rg 0 -{height} {self.width} {height} re f",
                f"0 -{height} m {self.width} -{height} l S",
                f"1 0 0 1 0 -{height} cm",
            )
        return frame

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
        rows = data.rows(start, stop)
        ops = ["q", f"1 0 0 1 0 {num(self.height)} cm", drawing.rule, drawing.header]
        if not rows[0][0]:
            ops.append(drawing.ward(f"{rows[0][1]} (tiếp theo)"))  # the ward this page continues
        ops += _row_operators(rows, drawing)
        ops += ["Q", f"{drawing.box} 0 0 {drawing.width} {num(self.height)} re S"]
        self.canv.addLiteral("\n".join(ops))


def _row_operators(rows: list[tuple[Any, ...]], drawing: _Drawing) -> list[str]:
    """The operators of listing rows, each drawn below the previous one. Every row goes through this loop, so
    it only builds strings; the per-value work (glyph codes, amount widths, row frames) is cached in
    ``drawing``. The regular font stays selected between rows (a ward row selects the bold one), and the
    ink colour is set again only after a fill (the header's white text, a stripe, a ward row's own ink)."""
    ops: list[str] = [drawing.regular.select, drawing.ink]
    show = drawing.regular.show
    left, baselines, ink = drawing.left, drawing.baselines, drawing.ink
    x_name, x_ids, x_refs, x_detail = left[1], left[2], left[3], left[7]
    first, second = baselines[0], baselines[1]
    at_number = f"1 0 0 1 {left[0]} {first} Tm ("
    amount = drawing.amount

    def place(x: str, *texts: str) -> str:
        # Stacked cells (beneficiary over national ID) continue on the line after their partner's last.
        cell_lines = [line for text in texts for line in text.split("\n")]
        return "\n".join(f"1 0 0 1 {x} {baselines[index]} Tm {show(line)}"
                         for index, line in enumerate(cell_lines))

    for (opens_ward, ward_label, number, name, beneficiary, national_id, order, payout, ordered, paid,
         difference, detail, lines, single) in rows:
        if opens_ward:
            ops += [drawing.ward(ward_label), drawing.regular.select]
        stripe, rule, move = drawing.row_frame(lines)
        if number[-1] in "02468":  # every other exception shaded, starting with the second
            ops += [stripe, rule, f"BT {ink}"]
        else:
            ops += [rule, "BT"]
        if single:  # no cell but the detail wraps: most rows
            cells = (f"{at_number}{number}) Tj\n1 0 0 1 {x_name} {first} Tm {show(name)}\n"
                     f"1 0 0 1 {x_ids} {first} Tm {show(beneficiary)}\n"
                     f"1 0 0 1 {x_ids} {second} Tm {show(national_id)}\n"
                     f"1 0 0 1 {x_refs} {first} Tm {show(order)}\n"
                     f"1 0 0 1 {x_refs} {second} Tm {show(payout)}")
        else:
            cells = "\n".join((f"{at_number}{number}) Tj", place(x_name, name),
                               place(x_ids, beneficiary, national_id), place(x_refs, order, payout)))
        detail_ops = (place(x_detail, detail) if "\n" in detail
                      else f"1 0 0 1 {x_detail} {first} Tm {show(detail)}")
        ops += [cells, detail_ops, amount(4, ordered), amount(5, paid), amount(6, difference), "ET", move]
    return ops
