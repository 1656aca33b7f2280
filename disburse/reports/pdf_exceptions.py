"""The exception listing: grouped by severity (critical first), code and ward, as a stream of flowables.

The headings of each code are platypus paragraphs; its rows are one ``pdf_listing.CodeListing`` that is
laid out page by page (see that module), so a listing of 100,000 rows paginates in linear time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

import polars as pl
from reportlab.platypus import CondPageBreak, Flowable, Paragraph, Spacer

from disburse.reports.pdf_doc import SectionMark
from disburse.reports.pdf_listing import CodeListing, listing_data
from disburse.reports.pdf_styles import SEVERITY_COLOUR, Styles
from disburse.reports.vn import code_action, code_label, format_int, format_vnd, severity_label
from disburse.schema import SEVERITY, SEVERITY_RANK, Code, Severity


def prepare(exceptions: pl.DataFrame) -> pl.DataFrame:
    """Sorted for the listing, with a severity rank and the optional ``full_name``/``ward_code`` present."""
    frame = exceptions
    for optional in ("full_name", "ward_code"):
        if optional not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(optional))
    # A row without a severity takes its code's; an unknown code without one is listed last, as info.
    severity = pl.coalesce(pl.col("severity"), pl.col("code").replace_strict(SEVERITY, default=None),
                           pl.lit(Severity.INFO.value))
    return frame.with_columns(
        severity.alias("severity"),
        severity.replace_strict(SEVERITY_RANK, default=len(SEVERITY_RANK), return_dtype=pl.Int64)
        .alias("_rank"),
    ).sort(["_rank", "code", "ward_code", "order_id", "payout_id"], nulls_last=True)


def _involved() -> pl.Expr:
    """Money a row is about: the larger of what was ordered and what was paid (0 when neither is known).

    Except a file's control-total row, whose amounts are the file's whole totals: there it is the gap.
    """
    larger = pl.max_horizontal(pl.col("ordered_vnd").fill_null(0), pl.col("paid_vnd").fill_null(0))
    gap = pl.col("difference_vnd").fill_null(0).abs()
    return pl.when(pl.col("code") == Code.CONTROL_TOTAL_MISMATCH.value).then(gap).otherwise(larger)


def code_totals(prepared: pl.DataFrame) -> pl.DataFrame:
    """One row per code: severity, rank, rows, involved VND and net difference VND (integers)."""
    return (
        prepared.group_by("code")
        .agg(
            pl.col("severity").first(),
            pl.col("_rank").first(),
            pl.len().cast(pl.Int64).alias("rows"),
            _involved().sum().cast(pl.Int64).alias("involved_vnd"),
            pl.col("difference_vnd").fill_null(0).sum().cast(pl.Int64).alias("difference_vnd"),
        )
        .sort(["_rank", "code"])
    )


@dataclass(frozen=True)
class _GroupSizes:
    by_severity: dict[str, int]
    by_code: dict[str, tuple[int, int]]  # rows, involved VND


def _group_sizes(prepared: pl.DataFrame) -> _GroupSizes:
    totals = code_totals(prepared)
    by_code = {row["code"]: (row["rows"], row["involved_vnd"]) for row in totals.iter_rows(named=True)}
    by_severity: dict[str, int] = {}
    for row in totals.iter_rows(named=True):
        by_severity[row["severity"]] = by_severity.get(row["severity"], 0) + row["rows"]
    return _GroupSizes(by_severity, by_code)


def _severity_heading(severity: str, rows: int, letter: str, st: Styles) -> Paragraph:
    colour = SEVERITY_COLOUR.get(severity)
    hex_colour = colour.hexval()[2:] if colour is not None else "1b1f24"
    return Paragraph(f'{letter}. Mức độ: <font color="#{hex_colour}">{severity_label(severity)}</font>'
                     f" — {format_int(rows)} dòng", st.h1)


def listing(prepared: pl.DataFrame, st: Styles) -> Iterator[Flowable]:
    """Headings and a table for every code of ``prepare``'d exceptions, generated lazily.

    One table per code, with a sub-heading row for each ward: a ward with one exception then costs one
    line, not a table of its own.
    """
    sizes = _group_sizes(prepared)
    data = listing_data(prepared)
    severity_number = 0
    previous_severity: str | None = None
    for group in data.groups:
        # Room for the headings and a few rows, so no heading is left alone at a page foot.
        yield CondPageBreak(110)
        if group.severity != previous_severity:
            severity_number += 1
            yield _severity_heading(group.severity, sizes.by_severity[group.severity],
                                    chr(ord("A") + severity_number - 1), st)
            previous_severity = group.severity
        rows, involved = sizes.by_code[group.code]
        yield Paragraph(f"{escape(code_label(group.code))} ({escape(group.code)}) — {format_int(rows)} dòng, "
                        f"số tiền liên quan {format_vnd(involved)}", st.h2)
        yield Paragraph(f"<b>Việc cần làm:</b> {escape(code_action(group.code))}", st.body)
        yield SectionMark(f"{severity_label(group.severity)} · {code_label(group.code)} ({group.code})")
        yield Spacer(1, 3)
        yield CodeListing(data, group.start, group.stop)
    yield SectionMark("")
    if not data.groups:
        yield Paragraph("Không có ngoại lệ nào trong kỳ.", st.body)
    yield Spacer(1, 6)
