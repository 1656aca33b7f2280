"""The page template every report uses, and a document that pulls its flowables from an iterator.

reportlab's ``build`` consumes a list of flowables. ``StreamingDoc`` keeps only a short look-ahead in that
list and tops it up from a generator as pages are laid out, so a report's flowables are made as the pages
reach them (the exception listing's rows stay Polars columns until their page is drawn, see
``pdf_listing``), and memory holds little more than the finished page streams reportlab keeps until it
writes the file.

Per-page costs matter: a province's listing runs to 10,000 pages. Streams are written Flate-compressed at a
fast level, without reportlab's default ASCII85 wrapping (``_Flate``); the pages share one resource
dictionary (``_Canvas``); the footer is written as PDF operators (``_FooterOps``).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas
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
# zlib level of every stream (see ``_Flate``).
COMPRESSION: Final = 3


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
            pageCompression=0,  # reportlab's own Flate filter off: ``beforeDocument`` sets ours
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
        self.build(self._pending, canvasmaker=_Canvas)

    def beforeDocument(self) -> None:
        # Every stream that names no filter of its own (the pages, the embedded fonts and their Unicode
        # maps, once reportlab's page compression is off) gets the document's default filters.
        self.canv._doc.defaultStreamFilters = [_Flate(COMPRESSION)]

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


class _Canvas(Canvas):  # type: ignore[misc]  # reportlab is untyped
    """reportlab's canvas, with what every plain page's dictionary repeats written once.

    reportlab formats each page's dictionary in Python when the file is saved, a new resource dictionary and
    media box for every page: a third of a long report's saving time. Pages that use nothing but fonts (no
    images, forms, transparency, colour spaces or shadings: every page here) share one resource dictionary,
    an indirect object, and their media box is formatted once.
    """

    _shared: dict[object, Any] | None = None

    def showPage(self) -> None:
        super().showPage()
        page = self._doc.Pages.pages[-1]
        if (page.Rotate or page.XObjects or page.ExtGState or page._colorsUsed or page._shadingUsed
                or page.Resources or page.MediaBox):
            return  # reportlab builds this page's own, as usual
        shared = self._shared = self._shared or {}
        # As PDFPage.check_format builds them; reportlab marks every page as maybe having images.
        images = bool(page.hasImages)
        resources = shared.get(images)
        if resources is None:
            dictionary = pdfdoc.PDFResourceDictionary()
            dictionary.basicFonts()
            if images:
                dictionary.allProcs()
            else:
                dictionary.basicProcs()
            name = f"disburse.pageResources{int(images)}"
            resources = shared[images] = self._doc.Reference(dictionary, name)
        size = (page.pagewidth, page.pageheight)
        box = shared.get(size)
        if box is None:
            box = shared[size] = pdfdoc.format(pdfdoc.PDFArray([0, 0, *size]), self._doc)
        page.Resources, page.MediaBox = resources, box  # bytes are written as they are


class _Flate:
    """Flate compression, as reportlab's own stream filter, at a chosen zlib level, and without the ASCII85
    wrapping reportlab adds by default.

    reportlab compresses at zlib's default level (6). A long report is thousands of page streams of
    repetitive operators, ~12 KB each, and zlib took a sixth of its time. Measured on the listing's pages:
    level 6 89 µs and 1.90 KB a page, level 3 58 µs and 2.12 KB, level 1 54 µs and 2.24 KB; level 3 has
    nearly all of the speed for half of the size that level 1 adds. ASCII85 would make streams a quarter
    larger again, to keep a file 7-bit clean for mail gateways that no longer exist, and without reportlab's
    optional C accelerator it is encoded in Python.
    """

    pdfname = "FlateDecode"

    def __init__(self, level: int) -> None:
        self.level = level

    def encode(self, text: str | bytes) -> bytes:
        return zlib.compress(text.encode("utf8") if isinstance(text, str) else text, self.level)

    def decode(self, encoded: bytes) -> bytes:
        return zlib.decompress(encoded)


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
