"""The page template every report uses, and a document that pulls its flowables from an iterator.

reportlab's ``build`` consumes a list of flowables; materialising the listing of 100,000 exceptions as
``Paragraph`` and ``Table`` objects up front costs gigabytes. ``StreamingDoc`` keeps only a short
look-ahead in that list and tops it up from a generator as pages are laid out, so memory stays bounded by
a table chunk plus the finished page streams reportlab itself keeps until it writes the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from disburse.reports.fonts import report_fonts
from disburse.reports.pdf_styles import INK, RULE

PAGE_SIZE: Final = landscape(A4)
MARGIN: Final = 12 * mm
FRAME_WIDTH: Final[float] = PAGE_SIZE[0] - 2 * MARGIN

# Flowables held ahead of the one being laid out; the reports emit no keepWithNext chains, so a few suffice.
_LOOKAHEAD: Final = 8


@dataclass(frozen=True)
class RunInfo:
    period: str  # YYYY-MM
    run_id: int
    generated_at: datetime  # printed in the header; pass a fixed value for reproducible output


class SectionMark(Flowable):  # type: ignore[misc]  # reportlab is untyped
    """Invisible marker: pages that begin after it name ``text`` in their footer, so a page in the middle of
    a long listing still says which code it lists."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0.0, 0.0

    def draw(self) -> None:
        pass


class StreamingDoc(BaseDocTemplate):  # type: ignore[misc]  # reportlab is untyped
    """Landscape A4, one frame; a footer with the report name, the current section and the page number."""

    def __init__(self, path: Path, *, title: str, footer: str) -> None:
        super().__init__(
            str(path),
            pagesize=PAGE_SIZE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN + 4 * mm,
            title=title,
            author="disburse",
            subject=footer,
            creator="disburse",
            invariant=True,  # fixed document ID and dates: same inputs, same bytes
            # Otherwise every page names Helvetica, which has no Vietnamese letters, as its starting font.
            initialFontName=report_fonts().regular,
        )
        self._footer = footer
        self._section = ""
        self._source: Iterator[Flowable] = iter(())
        self._pending: list[Flowable] = []
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._draw_footer)])

    def build_from(self, flowables: Iterable[Flowable]) -> None:
        self._source = iter(flowables)
        self._pending = []
        self._top_up(self._pending)
        self.build(self._pending)

    def handle_flowable(self, flowables: list[Flowable]) -> None:
        self._top_up(flowables)
        super().handle_flowable(flowables)
        # Topping up again afterwards keeps build()'s `while len(flowables)` from ending the document early.
        self._top_up(flowables)

    def _top_up(self, flowables: list[Flowable]) -> None:
        # reportlab also calls handle_flowable on its internal list of page-begin actions: leave that alone.
        if flowables is not self._pending:
            return
        while len(flowables) < _LOOKAHEAD:
            item = next(self._source, None)
            if item is None:
                return
            flowables.append(item)

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, SectionMark):
            self._section = flowable.text

    def _draw_footer(self, canvas: Any, doc: Any) -> None:
        fonts = report_fonts()
        canvas.saveState()
        y = MARGIN
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, y + 9, PAGE_SIZE[0] - MARGIN, y + 9)
        canvas.setFillColor(INK)
        canvas.setFont(fonts.regular, 7)
        canvas.drawString(MARGIN, y, self._footer)
        # Right of centre: the report name on the left runs past the middle of a narrow footer font line.
        canvas.drawCentredString(PAGE_SIZE[0] / 2 + 60, y, self._section)
        canvas.drawRightString(PAGE_SIZE[0] - MARGIN, y, f"Trang {doc.page}")
        canvas.restoreState()
