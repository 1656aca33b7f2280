"""Be Vietnam Pro for the PDFs, from the ``fontpkg-be-vietnam-pro`` wheel.

The 14 standard PDF fonts have no Vietnamese letters, and a system font would make the output depend on the
machine, so the reports embed this packaged TrueType font (subset) and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

_PACKAGE = "fontpkg_be_vietnam_pro"


@dataclass(frozen=True)
class ReportFonts:
    regular: str
    bold: str


def font_path(style: str) -> str:
    """Filesystem path of ``BeVietnamPro-<style>.ttf`` inside the installed font package."""
    resource = resources.files(_PACKAGE) / "files" / f"BeVietnamPro-{style}.ttf"
    # reportlab reads fonts by path; wheels are installed unzipped, so the resource is a real file.
    with resources.as_file(resource) as path:
        return str(path)


@cache
def report_fonts() -> ReportFonts:
    """Register Regular and Bold once per process (reportlab's registry is global) and return their names."""
    fonts = ReportFonts(regular="BeVietnamPro", bold="BeVietnamPro-Bold")
    pdfmetrics.registerFont(TTFont(fonts.regular, font_path("Regular")))
    pdfmetrics.registerFont(TTFont(fonts.bold, font_path("Bold")))
    # So that <b> inside a Paragraph picks the bold face instead of a missing synthetic one.
    pdfmetrics.registerFontFamily(fonts.regular, normal=fonts.regular, bold=fonts.bold,
                                  italic=fonts.regular, boldItalic=fonts.bold)
    return fonts
