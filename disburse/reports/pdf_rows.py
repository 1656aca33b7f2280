"""A block of listing rows that draws the column header only where a reader needs it.

The listing of one code is cut into blocks of a few dozen rows (see ``pdf_exceptions``) so that no table ever
holds more than a page or two: reportlab rebuilds the remainder of a table at every page split, so one table
of 10,000 rows would cost time quadratic in its rows. A plain table per block would then repeat its header
wherever a block starts, mid-page too. A ``RowBlock`` instead looks at where it lands: at the start of its
code's listing or at the top of a page it draws the header (and the ward row it continues), elsewhere it
continues the table above without one. It splits itself, so every page it runs onto starts with a header.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Final

from reportlab.lib import colors
from reportlab.platypus import Flowable, LongTable, TableStyle
from reportlab.platypus.tables import CellStyle

from disburse.reports.fonts import report_fonts
from disburse.reports.pdf_styles import HEADER_FILL, INK, RULE, WARD_FILL, ZEBRA

# Identifiers are stacked in pairs (beneficiary over national ID, order over payout reference) so that the
# detail keeps a third of the landscape width; most rows take two lines anyway.
HEADERS: Final = ("STT", "Họ và tên", "Mã đối tượng\nSố CCCD", "Mã lệnh chi\nMã GD chi trả",
                  "Số tiền\nlệnh chi", "Số tiền\nđã chi", "Chênh lệch", "Chi tiết")
FIRST_AMOUNT_COL: Final = 4


@dataclass(frozen=True)
class Rows:
    """Table rows with, per row, whether it is a ward sub-heading and the label of the ward it belongs to."""

    cells: list[list[Any]] = field(default_factory=list)
    is_ward: list[bool] = field(default_factory=list)
    ward_label: list[str] = field(default_factory=list)
    offset: int = 0  # index of the first row in the code's whole listing (keeps the zebra stripes in step)

    def add_ward(self, label: str) -> None:
        self.cells.append(ward_cells(label))
        self.is_ward.append(True)
        self.ward_label.append(label)

    def add(self, cells: list[Any]) -> None:
        self.cells.append(cells)
        self.is_ward.append(False)
        self.ward_label.append(self.ward_label[-1] if self.ward_label else "")

    def head(self, stop: int) -> Rows:
        return replace(self, cells=self.cells[:stop], is_ward=self.is_ward[:stop],
                       ward_label=self.ward_label[:stop])

    def tail(self, start: int) -> Rows:
        return replace(self, cells=self.cells[start:], is_ward=self.is_ward[start:],
                       ward_label=self.ward_label[start:], offset=self.offset + start)

    def __len__(self) -> int:
        return len(self.cells)


def ward_cells(label: str) -> list[Any]:
    return [label, *([""] * (len(HEADERS) - 1))]


@dataclass(frozen=True)
class _CellStyles:
    header: list[CellStyle]
    ward: list[CellStyle]
    body: list[CellStyle]


@cache
def _cell_styles() -> _CellStyles:
    """Cell styles shared by every cell of a kind. Table style commands such as FONTNAME would set each
    property on each cell of each table, again for every page's remainder: a third of the listing's time.
    Handing reportlab ready-made styles (never modified: no per-cell commands are applied) costs nothing."""
    fonts = report_fonts()

    def style(name: str, *, bold: bool = False, right: bool = False, **extra: Any) -> CellStyle:
        cell = CellStyle(name)
        cell.fontname = fonts.bold if bold else fonts.regular
        cell.fontsize, cell.leading = 7.5, 9
        cell.leftPadding = cell.rightPadding = 3
        cell.topPadding = cell.bottomPadding = 2
        cell.color, cell.valign = INK, "TOP"
        cell.alignment = "RIGHT" if right else "LEFT"
        for key, value in extra.items():
            setattr(cell, key, value)
        return cell

    amount = [FIRST_AMOUNT_COL <= col < FIRST_AMOUNT_COL + 3 for col in range(len(HEADERS))]
    header = [style("header", bold=True, color=colors.white, valign="MIDDLE",
                    alignment="CENTER" if is_amount else "LEFT") for is_amount in amount]
    ward = [style("ward", bold=True)] * len(HEADERS)
    body = [style("body", right=is_amount) for is_amount in amount]
    return _CellStyles(header, ward, body)


def _table_style(headed: bool, span_rows: list[int], zebra_phase: int) -> TableStyle:
    """Lines, stripes and spans only: commands reportlab keeps per table, not per cell."""
    stripes = [colors.white, ZEBRA] if zebra_phase % 2 == 0 else [ZEBRA, colors.white]
    commands: list[tuple[Any, ...]] = [
        ("ROWBACKGROUNDS", (0, 1 if headed else 0), (-1, -1), stripes),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("BOX", (0, 0), (-1, -1), 0.5, RULE),
    ]
    if headed:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL))
    for index in span_rows:
        commands += [("SPAN", (0, index), (-1, index)), ("BACKGROUND", (0, index), (-1, index), WARD_FILL)]
    return TableStyle(commands)


class RowBlock(Flowable):  # type: ignore[misc]  # reportlab is untyped
    """Listing rows that read as part of one table with a header on every page (see the module doc)."""

    def __init__(self, rows: Rows, widths: tuple[float, ...], *, opens_listing: bool,
                 headed: bool | None = None) -> None:
        super().__init__()
        self._rows = rows
        self._widths = widths
        self._opens_listing = opens_listing
        self._pinned = headed  # the first part of a split is drawn where it was measured: keep its layout
        self._table: LongTable | None = None
        self._headed = False

    def _at_page_top(self) -> bool:
        # reportlab's Frame sets itself on a flowable as `_frame` while laying it out.
        frame = getattr(self, "_frame", None)
        return bool(getattr(frame, "_atTop", False))

    def _prefix(self, headed: bool) -> list[list[Any]]:
        if not headed:
            return []
        prefix: list[list[Any]] = [list(HEADERS)]
        if self._rows.is_ward and not self._rows.is_ward[0]:
            prefix.append(ward_cells(f"{self._rows.ward_label[0]} (tiếp theo)"))  # the ward it continues
        return prefix

    def _layout(self) -> tuple[LongTable, int]:
        """The table for where the block is now, and how many rows of it are not the block's own."""
        headed = self._pinned if self._pinned is not None else self._opens_listing or self._at_page_top()
        prefix = self._prefix(headed)
        if self._table is None or self._headed != headed:
            kinds = _cell_styles()
            cell_styles = [kinds.header] if headed else []
            cell_styles += [kinds.ward] * (len(prefix) - len(cell_styles))
            cell_styles += [kinds.ward if is_ward else kinds.body for is_ward in self._rows.is_ward]
            table = LongTable([*prefix, *self._rows.cells], colWidths=list(self._widths),
                              cellStyles=cell_styles)
            wards = [len(prefix) + i for i, is_ward in enumerate(self._rows.is_ward) if is_ward]
            # Stripes in step with the rows above: the first body row has index `offset` in the listing.
            phase = self._rows.offset + (len(prefix) - 1 if headed else 0)
            table.setStyle(_table_style(headed, [*range(1, len(prefix)), *wards], phase))
            self._table, self._headed = table, headed
        return self._table, len(prefix)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        table, _ = self._layout()
        self.width, self.height = table.wrap(available_width, available_height)
        return self.width, self.height

    def drawOn(self, canvas: Any, x: float, y: float, _sW: float = 0) -> None:
        assert self._table is not None, "drawn before wrap"
        self._table.drawOn(canvas, x, y, _sW)

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        table, prefix = self._layout()
        parts = table.split(available_width, available_height)
        if not parts:
            return []
        taken = len(parts[0]._cellvalues) - prefix
        while taken > 0 and self._rows.is_ward[taken - 1]:
            taken -= 1  # a ward's heading row goes with its first exception, never alone at the page foot
        if taken <= 0:  # only headings would fit: start on the next page instead
            return []
        # The rest is a new block, which heads the next page itself.
        return [RowBlock(self._rows.head(taken), self._widths, opens_listing=self._opens_listing,
                         headed=self._headed),
                RowBlock(self._rows.tail(taken), self._widths, opens_listing=False)]
