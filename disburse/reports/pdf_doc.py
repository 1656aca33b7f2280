"""The page template every report uses, and a document that pulls its flowables from an iterator.

reportlab's ``build`` consumes a list of flowables. ``StreamingDoc`` keeps only a short look-ahead in that
list and tops it up from a generator as pages are laid out, so a report's flowables are made as the pages
reach them (the exception listing's rows stay Polars columns until their page is drawn, see
``pdf_listing``), and memory holds little more than the finished page streams reportlab keeps until it
writes the file.

Page streams are written Flate-compressed without reportlab's default ASCII85 wrapping (see ``build_from``),
and the footer is written as PDF operators: both are per-page costs, and the listing runs to thousands of
pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from reportlab import rl_config
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from disburse.reports.fonts import report_fonts
from disburse.reports.pdf_styles import INK, RULE
from disburse.reports.pdf_text import FontEncoder, Metrics, num, rgb

PAGE_SIZE: Final = landscape(A4)
MARGIN: Final = 12 * mm
FRAME_WIDTH: Final[float] = PAGE_SIZE[0] - 2 * MARGIN

_FOOTER_SIZE: Final = 7.0

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
        self._footer_ops: _FooterOps | None = None
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._draw_footer)])

    def build_from(self, flowables: Iterable[Flowable]) -> None:
        self._source = iter(flowables)
        self._pending = []
        self._top_up(self._pending)
        with _binary_streams():
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
        if self._footer_ops is None or self._footer_ops.doc is not canvas._doc:
            self._footer_ops = _FooterOps(canvas._doc, self._footer)
        canvas.addLiteral(self._footer_ops.page(self._section, doc.page))


@contextmanager
def _binary_streams() -> Iterator[None]:
    """Page streams Flate-compressed only, not also ASCII85-encoded (reportlab's global default).

    ASCII85 makes streams a quarter larger, to keep a file 7-bit clean for mail gateways that no longer
    exist, and without reportlab's optional C accelerator it is encoded in Python: it took 40 % of a long
    report's time. The setting is global, so it is set only while our document is built and written.
    """
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved


class _FooterOps:
    """The footer of every page as PDF operators: a rule, the report name, the section, the page number.

    Drawn with ``drawString`` it cost a third of a millisecond a page; the report name is encoded once and
    each section once, only the page number changes.
    """

    def __init__(self, doc: Any, footer: str) -> None:
        fonts = report_fonts()
        self.doc = doc
        self._text = FontEncoder(fonts.regular, _FOOTER_SIZE, doc)
        self._metrics = Metrics(fonts.regular, _FOOTER_SIZE)
        y, right = num(MARGIN), PAGE_SIZE[0] - MARGIN
        rule = num(MARGIN + 9)
        self._start = (f"q {rgb(RULE)} RG 0.5 w {num(MARGIN)} {rule} m {num(right)} {rule} l S {rgb(INK)} rg "
                       f"BT {self._text.select} 1 0 0 1 {num(MARGIN)} {y} Tm {self._text.show(footer)}")
        self._y, self._right = y, right
        self._sections: dict[str, str] = {}

    def page(self, section: str, number: int) -> str:
        centred = self._sections.get(section)
        if centred is None:
            # Right of centre: the report name on the left runs past the middle of a narrow footer font line.
            x = PAGE_SIZE[0] / 2 + 60 - self._metrics.width(section) / 2
            centred = self._sections[section] = f"1 0 0 1 {num(x)} {self._y} Tm {self._text.show(section)}"
        label = f"Trang {number}"
        x = num(self._right - self._metrics.width(label))
        return f"{self._start} {centred} 1 0 0 1 {x} {self._y} Tm {self._text.show(label)} ET Q"
