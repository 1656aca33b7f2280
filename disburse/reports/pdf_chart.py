"""Bar charts drawn with reportlab.graphics (vector, embedded fonts, no image files)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from disburse.reports.fonts import report_fonts
from disburse.reports.pdf_styles import HEADER_FILL, INK, SEVERITY_COLOUR
from disburse.reports.vn import format_int, severity_label
from disburse.schema import Severity

# (divisor, unit name): the axis shows amounts in the largest unit that keeps the biggest bar above 1.
_UNITS: Final[tuple[tuple[int, str], ...]] = (
    (1_000_000_000, "tỷ đồng"),
    (1_000_000, "triệu đồng"),
    (1_000, "nghìn đồng"),
    (1, "đồng"),
)


def _drawing(width: float, height: float) -> Drawing:
    drawing = Drawing(width, height)
    # The renderer starts every drawing in Helvetica unless told otherwise; keep the PDF to embedded fonts.
    drawing.initialFontName = report_fonts().regular
    return drawing


def _unit_for(largest: int) -> tuple[int, str]:
    for divisor, name in _UNITS:
        if largest >= divisor:
            return divisor, name
    return _UNITS[-1]


def _tick_label(value: float) -> str:
    # Axis ticks are drawing coordinates, not money: rounding them for display loses nothing.
    return format_int(round(value)) if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


def _legend(severities: Sequence[str], *, x: float, y: float) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName = report_fonts().regular
    legend.fontSize = 8
    legend.alignment = "right"
    legend.columnMaximum = max(1, len(severities))  # one column, critical on top
    legend.colorNamePairs = [(SEVERITY_COLOUR[s], severity_label(s)) for s in severities]
    return legend


def amount_bars(items: Sequence[tuple[str, int, str]], *, width: float, title: str) -> Drawing:
    """Horizontal bars, one per (label, VND amount, severity), largest first as given, coloured by
    severity with a legend."""
    fonts = report_fonts()
    bar_pitch = 15
    height = max(60, 40 + bar_pitch * len(items))
    drawing = _drawing(width, height)
    largest = max((amount for _, amount, _ in items), default=0)
    divisor, unit = _unit_for(largest)

    chart = HorizontalBarChart()
    chart.x = 190
    chart.y = 18
    chart.width = width - chart.x - 110
    chart.height = height - 40
    # reportlab draws the first category at the bottom; reverse so the largest bar is on top.
    rows = list(reversed(items))
    # Scaled only to draw bars; the exact amounts are printed in the table beside the chart.
    chart.data = [[amount / divisor for _, amount, _ in rows]] if rows else [[0]]
    chart.categoryAxis.categoryNames = [label for label, _, _ in rows] or [""]
    chart.categoryAxis.labels.fontName = fonts.regular
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = fonts.regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = _tick_label
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#d7dde3")
    chart.bars[0].fillColor = HEADER_FILL
    chart.bars[0].strokeColor = None
    for index, (_, _, severity) in enumerate(rows):
        chart.bars[(0, index)].fillColor = SEVERITY_COLOUR.get(severity, HEADER_FILL)
    chart.barWidth = 9
    drawing.add(chart)
    present = {severity for _, _, severity in items}
    drawing.add(_legend([s for s in Severity if s in present], x=chart.x + chart.width + 20,
                        y=chart.y + chart.height))
    caption = f"{title} — đơn vị: {unit}" if title else f"Đơn vị: {unit}"
    drawing.add(String(0, height - 10, caption, fontName=fonts.bold, fontSize=8.5,
                       fillColor=INK))
    return drawing


def severity_stacks(provinces: Sequence[str], counts: dict[str, list[int]], *, width: float,
                    title: str) -> Drawing:
    """Stacked vertical bars: exceptions per province, one colour per severity."""
    fonts = report_fonts()
    height = 190
    drawing = _drawing(width, height)
    order = [s for s in Severity if s in counts]
    chart = VerticalBarChart()
    chart.x = 50
    chart.y = 30
    chart.width = width - 230
    chart.height = height - 55
    chart.data = [counts[s] for s in order] or [[0] * max(1, len(provinces))]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.categoryNames = list(provinces) or [""]
    chart.categoryAxis.labels.fontName = fonts.regular
    chart.categoryAxis.labels.fontSize = 7.5
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = fonts.regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = _tick_label
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#d7dde3")
    for index, severity in enumerate(order):
        chart.bars[index].fillColor = SEVERITY_COLOUR[severity]
        chart.bars[index].strokeColor = None
    drawing.add(chart)

    drawing.add(_legend(order, x=chart.x + chart.width + 20, y=chart.y + chart.height))
    drawing.add(String(0, height - 10, title, fontName=fonts.bold, fontSize=8.5, fillColor=INK))
    return drawing
