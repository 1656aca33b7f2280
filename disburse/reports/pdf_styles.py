"""Paragraph and table styles shared by the province and national PDFs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import TableStyle

from disburse.reports.fonts import report_fonts
from disburse.schema import Severity

INK: Final = colors.HexColor("#1b1f24")
HEADER_FILL: Final = colors.HexColor("#1f3a5f")
ZEBRA: Final = colors.HexColor("#f2f5f9")
RULE: Final = colors.HexColor("#b8c2cc")
TOTAL_FILL: Final = colors.HexColor("#dde5ee")
WARD_FILL: Final = colors.HexColor("#e6ebf1")

SEVERITY_COLOUR: Final[dict[str, colors.Color]] = {
    Severity.CRITICAL: colors.HexColor("#b3261e"),
    Severity.HIGH: colors.HexColor("#d9822b"),
    Severity.WARNING: colors.HexColor("#b8960c"),
    Severity.INFO: colors.HexColor("#5f6b7a"),
}


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    centre: ParagraphStyle
    centre_bold: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_right: ParagraphStyle


# No style sets keepWithNext: reportlab turns a heading plus a long table into a KeepTogether that jumps to a
# new page whenever the table is taller than the space left. Callers put a CondPageBreak before headings.
@cache
def styles() -> Styles:
    fonts = report_fonts()

    def style(name: str, size: float, *, bold: bool = False, **extra: Any) -> ParagraphStyle:
        extra.setdefault("leading", round(size * 1.3, 1))
        return ParagraphStyle(name, fontName=fonts.bold if bold else fonts.regular, fontSize=size,
                              textColor=INK, **extra)

    return Styles(
        title=style("title", 15, bold=True, alignment=TA_CENTER, spaceAfter=4),
        subtitle=style("subtitle", 10, alignment=TA_CENTER, spaceAfter=2),
        h1=style("h1", 12, bold=True, spaceBefore=10, spaceAfter=4),
        h2=style("h2", 10, bold=True, spaceBefore=8, spaceAfter=2),
        h3=style("h3", 8.5, bold=True, spaceBefore=5, spaceAfter=2),
        body=style("body", 9, alignment=TA_LEFT),
        small=style("small", 7.5),
        centre=style("centre", 9, alignment=TA_CENTER),
        centre_bold=style("centre_bold", 9, bold=True, alignment=TA_CENTER),
        cell=style("cell", 7.5, leading=9),
        cell_bold=style("cell_bold", 7.5, bold=True, leading=9),
        cell_right=style("cell_right", 7.5, alignment=TA_RIGHT, leading=9),
    )


def grid_style(*, right_from_col: int, total_row: bool = False, font_size: float = 7.5) -> TableStyle:
    """A summary table: dark header row, zebra body, amounts right-aligned from ``right_from_col`` on.

    Row backgrounds are given with ROWBACKGROUNDS (not per-row commands) so they survive table splits and
    the command list stays constant-size whatever the number of rows. (The exception listing styles its
    rows directly as PDF operators instead, see ``pdf_listing``.)
    """
    fonts = report_fonts()
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), fonts.regular),
        ("FONTSIZE", (0, 0), (-1, -1), font_size),
        ("LEADING", (0, 0), (-1, -1), font_size + 1.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (right_from_col, 1), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("BOX", (0, 0), (-1, -1), 0.5, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("FONTNAME", (0, 0), (-1, 0), fonts.bold),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("ALIGN", (right_from_col, 0), (-1, 0), "CENTER"),
    ]
    if total_row:
        commands += [
            ("FONTNAME", (0, -1), (-1, -1), fonts.bold),
            ("BACKGROUND", (0, -1), (-1, -1), TOTAL_FILL),
            ("LINEABOVE", (0, -1), (-1, -1), 0.75, INK),
        ]
    return TableStyle(commands)
