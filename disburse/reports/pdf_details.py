"""Vietnamese wording for the ``detail`` text of exceptions, in the PDFs.

The reconcile core writes details in English with raw numbers and ISO dates (they go to exceptions.csv as
data). The PDF is read by a provincial finance office, so the known forms are rewritten here in Vietnamese
with amounts as ``1.500.000 ₫`` and dates as ``20/09/2026``. A detail of an unknown form is shown as it is:
a wording change in the core degrades a line to English, never drops it.

Each form is a pattern and a template: literal text and captured groups, each group shown as it is or
through a function of the captured text alone (an amount, a date, a ward). ``detail_vi`` renders one detail
with Python's ``re``. A report rewrites up to 200,000 details, most of them distinct (they carry amounts and
identifiers), so ``details_vi`` renders a column with Polars instead: per form, one anchored match over the
details no earlier form took, the groups of the matching rows extracted at once, and each group's function
called once per distinct captured value (amounts, dates and wards recur; identifiers and names are shown as
they are). The two agree exactly (``tests/test_reports_details.py``): the patterns keep to the syntax both
regex engines read alike, and where they differ (Python's ``\\S`` also excludes the separators U+001C-1F)
the Polars pattern says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import polars as pl

from disburse.reports.vn import format_vnd, ward_name

_UNPAID_REASON: Final = {
    "UNPAID_ABSENT": "vắng mặt",
    "UNPAID_MOVED": "chuyển đi",
    "UNPAID_DECEASED": "đã chết",
    "UNPAID_REFUSED": "từ chối nhận",
}


def _vnd(text: str) -> str:
    return format_vnd(int(text)) if text.lstrip("-").isdigit() else text


def _date(text: str) -> str:
    """``2026-09-20`` → ``20/09/2026``; a period ``2026-10`` → ``10/2026``; anything else unchanged."""
    parts = text.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{parts[2]}/{parts[1]}/{parts[0]}"
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return f"{parts[1]}/{parts[0]}"
    return text


_NONE: Final = "(none)"
_NONE_VI: Final = "không có"


def _none(text: str) -> str:
    return _NONE_VI if text == _NONE else text


def _ward(code: str) -> str:
    return f"{ward_name(code)} ({code})"


def _reason(code: str) -> str:
    return _UNPAID_REASON.get(code, code)


@dataclass(frozen=True)
class _Group:
    """Captured group ``index`` (1-based), shown through ``show`` (as captured when None)."""

    index: int
    show: Callable[[str], str] | None = None


def _g(index: int, show: Callable[[str], str] | None = None) -> _Group:
    return _Group(index, show)


_Part = str | _Group

# (pattern, template); a pattern matches a whole detail.
_FORMS: Final[tuple[tuple[str, tuple[_Part, ...]], ...]] = (
    (r"line paid (-?\d+) VND for orders totalling (-?\d+) VND",
     ("Đã chi ", _g(1, _vnd), ", tổng lệnh chi ", _g(2, _vnd))),
    (r"deceased (\S+), paid (\S+) for period (\S+)",
     ("Chết ngày ", _g(1, _date), ", vẫn chi ngày ", _g(2, _date), " cho kỳ ", _g(3, _date))),
    (r"paid to proxy (.+); authorised proxy: (.+)",
     ("Chi cho người nhận thay CCCD ", _g(1, _none), "; người được ủy quyền: ", _g(2, _none))),
    (r"paid (\S+) to proxy whose authorisation ended (\S+)",
     ("Chi ngày ", _g(1, _date), " cho người nhận thay, giấy ủy quyền hết hạn ngày ", _g(2, _date))),
    (r"payout national_id (.+) vs order (.+)",
     ("CCCD trên kết quả chi ", _g(1, _none), ", trên lệnh chi ", _g(2))),
    (r"payout name '(.*)' vs order name '(.*)'",
     ("Họ tên trên kết quả chi «", _g(1), "», trên lệnh chi «", _g(2), "»")),
    (r"paid at ward (\S+), order's ward (\S+)",
     ("Chi tại ", _g(1, _ward), ", lệnh chi thuộc ", _g(2, _ward))),
    (r"paid on (\S+) outside the payment window of (\S+)",
     ("Chi ngày ", _g(1, _date), ", ngoài thời gian chi trả kỳ ", _g(2, _date))),
    (r"reported fee (-?\d+) VND, tariff (-?\d+) VND",
     ("Phí bưu điện báo ", _g(1, _vnd), ", theo biểu phí ", _g(2, _vnd))),
    (r"no open order for beneficiary (\S+)",
     ("Không có lệnh chi nào đang mở của đối tượng ", _g(1))),
    (r"names order (\S+), which is neither of the period nor open",
     ("Ghi lệnh chi ", _g(1), ", không thuộc kỳ này và không còn mở")),
    (r"order already paid by line (\S+) this period",
     ("Lệnh chi đã được chi bởi giao dịch ", _g(1), " trong kỳ này")),
    (r"order already paid in period (\S+) \(earlier run\)",
     ("Lệnh chi đã được chi ở kỳ ", _g(1, _date), " (lần đối soát trước)")),
    (r"no payout line covers this order",
     ("Không có dòng kết quả chi trả nào cho lệnh chi này",)),
    (r"reported unpaid: (\S+) \(line (\S+)\)",
     ("Bưu điện báo chưa chi: ", _g(1, _reason), " (giao dịch ", _g(2), ")")),
    (r"same national_id and allowance (\S+) as order\(s\) (.+)",
     ("Trùng số CCCD và chế độ ", _g(1), " với lệnh chi ", _g(2))),
    (r"file (.+): footer paid (-?\d+) / fee (-?\d+) VND, lines sum to paid (-?\d+) / fee (-?\d+) VND",
     ("Tệp ", _g(1), ": dòng Tổng cộng ghi đã chi ", _g(2, _vnd), ", phí ", _g(3, _vnd),
      "; cộng các dòng: đã chi ", _g(4, _vnd), ", phí ", _g(5, _vnd))),
    (r"unpaid in (\S+), (\S+) and (\S+): review the beneficiary",
     ("Không nhận tiền các kỳ ", _g(1, _date), ", ", _g(2, _date), " và ", _g(3, _date),
      ": cần xác minh đối tượng")),
)
_COMPILED: Final = tuple((re.compile(pattern), template) for pattern, template in _FORMS)
# The same patterns for Polars (Rust's regex): anchored, since ``re.fullmatch`` is; ``\S`` as Python's.
_ANCHORED: Final = tuple("^(?:" + pattern.replace(r"\S", r"[^\s\x1c-\x1f]") + ")$" for pattern, _ in _FORMS)


def detail_vi(detail: str | None) -> str | None:
    """The detail in Vietnamese if it has a known form, else unchanged."""
    if not detail:
        return detail
    for pattern, template in _COMPILED:
        match = pattern.fullmatch(detail)
        if match is not None:
            return "".join(part if isinstance(part, str)
                           else (part.show or str)(match[part.index]) for part in template)
    return detail


def _shown(captured: pl.Series, show: Callable[[str], str] | None) -> pl.Series | pl.Expr:
    if show is None:
        return captured
    if show is _none:  # identifiers, distinct per row: no Python call per value
        return pl.when(captured == _NONE).then(pl.lit(_NONE_VI)).otherwise(captured)
    distinct = captured.unique().to_list()
    return captured.replace_strict({value: show(value) for value in distinct}, return_dtype=pl.String)


def details_vi(details: pl.Series) -> pl.Series:
    """``detail_vi`` of every detail of a column (see the module doc)."""
    pending = pl.DataFrame({"detail": details.cast(pl.String)}).with_row_index("row")
    pending = pending.filter(pl.col("detail").str.len_bytes() > 0)
    rows: list[pl.Series] = []
    rendered: list[pl.Series] = []
    for anchored, (_, template) in zip(_ANCHORED, _FORMS, strict=True):
        if pending.is_empty():
            break
        matches = pending["detail"].str.contains(anchored)
        hit = pending.filter(matches)
        if hit.is_empty():
            continue
        pending = pending.filter(~matches)
        groups = hit["detail"].str.extract_groups(anchored).struct.unnest()
        columns = [pl.lit(part) if isinstance(part, str)
                   else _shown(groups.to_series(part.index - 1), part.show) for part in template]
        rows.append(hit["row"])
        rendered.append(hit.select(pl.concat_str(columns).alias("detail"))["detail"]
                        if len(columns) > 1 or not isinstance(template[0], str)
                        else pl.Series("detail", [template[0]] * hit.height, dtype=pl.String))
    if not rows:
        return details.cast(pl.String)
    return details.cast(pl.String).clone().scatter(pl.concat(rows), pl.concat(rendered))
