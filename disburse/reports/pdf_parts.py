"""Blocks both PDFs share: the letterhead, the title and the signature block."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from disburse.reports.fonts import report_fonts
from disburse.reports.pdf_doc import FRAME_WIDTH, RunInfo
from disburse.reports.pdf_styles import Styles
from disburse.reports.vn import datetime_label, period_label, place_date_line


def summary_int(summary: Mapping[str, object], key: str) -> int:
    """An integer field of a SUMMARY_SCHEMA row (null counts as 0: the core leaves no money unstated)."""
    value = summary.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"summary field {key!r} must be an integer, got {value!r}")
    return value


def _layout(table: Table) -> Table:
    """A borderless layout table; its font is set so that reportlab's default (Helvetica) is never named."""
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONTNAME", (0, 0), (-1, -1), report_fonts().regular)]))
    return table


def letterhead(issuer: str, st: Styles) -> Table:
    """Issuing body on the left, the national motto on the right, as on Vietnamese official documents."""
    left = [Paragraph(escape(issuer.upper()), st.centre_bold)]
    right = [Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", st.centre_bold),
             Paragraph("<u>Độc lập - Tự do - Hạnh phúc</u>", st.centre_bold)]
    return _layout(Table([[left, right]], colWidths=[FRAME_WIDTH * 0.42, FRAME_WIDTH * 0.58]))


def title_block(title: str, subject: str, run: RunInfo, st: Styles) -> list[Flowable]:
    return [
        Spacer(1, 8),
        Paragraph(escape(title), st.title),
        Paragraph(f"{escape(subject)} — kỳ chi trả {period_label(run.period)}", st.subtitle),
        Paragraph(f"Mã lần đối soát: {run.run_id} · Lập lúc: {datetime_label(run.generated_at)}",
                  st.subtitle),
        Spacer(1, 6),
    ]


def signature_block(place: str, moment: datetime, st: Styles) -> Flowable:
    """Place and date, then the three signatories a financial report of a department carries."""
    roles = ("Người lập biểu", "Kế toán trưởng", "Thủ trưởng đơn vị")
    hints = ("(Ký, ghi rõ họ tên)", "(Ký, ghi rõ họ tên)", "(Ký, ghi rõ họ tên, đóng dấu)")
    third = FRAME_WIDTH / 3
    date_row = _layout(Table([["", "", Paragraph(escape(place_date_line(place, moment)), st.centre)]],
                             colWidths=[third] * 3))
    signers = _layout(Table(
        [[Paragraph(role, st.centre_bold) for role in roles], [Paragraph(hint, st.centre) for hint in hints]],
        colWidths=[third] * 3,
    ))
    return KeepTogether([Spacer(1, 14), date_row, signers, Spacer(1, 60)])
