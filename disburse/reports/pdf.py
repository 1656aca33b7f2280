"""PDF reports in Vietnamese: one per province with discrepancies, and a national summary.

Both are reproducible: reportlab runs with ``invariant=True`` and the only clock is ``RunInfo.generated_at``,
so the same inputs give byte-identical files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from disburse.profile import ProvinceProfile
from disburse.reports.pdf_doc import RunInfo, StreamingDoc
from disburse.reports.pdf_exceptions import prepare
from disburse.reports.pdf_national import national_flowables
from disburse.reports.pdf_province import province_flowables
from disburse.reports.pdf_styles import styles
from disburse.reports.vn import period_label

__all__ = ["RunInfo", "render_national_pdf", "render_province_pdf"]


def render_province_pdf(path: Path, *, profile: ProvinceProfile, run: RunInfo, summary: Mapping[str, object],
                        exceptions: pl.DataFrame) -> None:
    """Write the province report.

    ``summary`` is the province's SUMMARY_SCHEMA row as a dict; ``exceptions`` holds EXCEPTION_SCHEMA columns
    plus ``full_name`` and ``ward_code`` (both nullable). Rows of other provinces are left out.
    """
    own = exceptions.filter(pl.col("province_code").is_null()
                            | (pl.col("province_code") == profile.province_code))
    doc = StreamingDoc(
        path,
        title=f"Báo cáo đối soát chi trả {profile.province_name} {period_label(run.period)}",
        footer=f"Báo cáo đối soát chi trả — {profile.province_name} — {period_label(run.period)} — "
               f"lần đối soát {run.run_id}",
    )
    doc.build_from(province_flowables(profile=profile, run=run, summary=summary, prepared=prepare(own),
                                      st=styles()))


def render_national_pdf(path: Path, *, run: RunInfo, summary: pl.DataFrame, exceptions: pl.DataFrame) -> None:
    """Write the national summary from every province's SUMMARY_SCHEMA row and all exceptions."""
    doc = StreamingDoc(
        path,
        title=f"Báo cáo tổng hợp đối soát chi trả {period_label(run.period)}",
        footer=f"Báo cáo tổng hợp đối soát chi trả — {period_label(run.period)} — lần đối soát {run.run_id}",
    )
    doc.build_from(national_flowables(run=run, summary=summary, prepared=prepare(exceptions), st=styles()))
