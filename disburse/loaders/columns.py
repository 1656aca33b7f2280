"""Header matching and footer detection, shared by the loaders."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

import polars as pl

from disburse import text
from disburse.errors import InputError
from disburse.loaders.read import ROW


def fold(words: Iterable[str]) -> list[str]:
    """``text.fold_name`` on a handful of Python strings (headers, labels): one code path for folding."""
    series = pl.Series("w", list(words), dtype=pl.String)
    return pl.select(text.fold_name(pl.lit(series))).to_series().to_list()


def resolve_headers(
    file_headers: tuple[str, ...], wanted: Mapping[str, str], source: str, optional: Iterable[str] = ()
) -> dict[str, str]:
    """canonical field -> header text as found in the file. Headers match after folding (case, diacritics,
    spaces), so ``Số CCCD`` typed as ``SỐ CCCD`` still reads. Missing headers are a file-level error."""
    by_key = dict(zip(fold(file_headers), file_headers, strict=True))
    _refuse_repeated(file_headers, wanted, source)
    found: dict[str, str] = {}
    missing: list[str] = []
    skip = set(optional)
    for (header, field_name), key in zip(wanted.items(), fold(wanted), strict=True):
        if key in by_key:
            found[field_name] = by_key[key]
        elif field_name not in skip:
            missing.append(header)
    if missing:
        raise InputError(
            f"{source}: the header lacks the column(s) {', '.join(repr(m) for m in missing)}; "
            "check that the file matches its province's format (or choose the right dialect)."
        )
    return found


# How the readers rename a repeated header: polars ``X_duplicated_0``, fastexcel ``X_1``.
_REPEAT_SUFFIX = re.compile(r"(?:_duplicated_\d+|_\d+)$")


def _refuse_repeated(file_headers: tuple[str, ...], wanted: Mapping[str, str], source: str) -> None:
    """A column the loader reads must appear once: of two ``Số tiền`` columns, which one was paid?"""
    names = set(file_headers)
    bases = [
        _REPEAT_SUFFIX.sub("", h) if _REPEAT_SUFFIX.search(h) and _REPEAT_SUFFIX.sub("", h) in names else h
        for h in file_headers
    ]
    counts = Counter(fold(bases))
    for header, key in zip(wanted, fold(wanted), strict=True):
        if counts[key] > 1:
            raise InputError(
                f"{source}: the header has the column {header!r} {counts[key]} times; keep one and import "
                "the file again."
            )


def split_footer(
    frame: pl.DataFrame, headers: tuple[str, ...], label: str | None, gaps: Iterable[str] = ()
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """(payout lines, the footer row or None): the footer is the last row whose first non-empty cell folds
    to ``label``. Folding every row would be the costliest step of a load, so only rows with an empty cell
    in one of ``gaps`` (columns every payout line fills and a totals line leaves empty) and a short first
    cell without digits are folded."""
    if label is None or frame.height == 0:
        return frame, None
    gap_list = list(gaps)
    if gap_list:
        frame_gaps = frame.filter(pl.any_horizontal([pl.col(g).is_null() for g in gap_list]))
    else:
        frame_gaps = frame
    first_cell = pl.coalesce([pl.col(h) for h in headers])
    key = fold([label])[0]
    short = pl.col("cell").str.len_bytes() <= 4 * len(label) + 8
    if not any(ch.isdigit() for ch in label):
        short = short & ~pl.col("cell").str.contains(r"\d")
    candidates = frame_gaps.select(ROW, first_cell.alias("cell")).filter(short)
    hits = candidates.filter(text.fold_name(pl.col("cell")) == key)
    if hits.height == 0:
        return frame, None
    footer_row = hits.get_column(ROW).max()
    position = frame.get_column(ROW).search_sorted(footer_row, side="left")  # rows are in file order
    assert isinstance(position, int)
    footer = frame.slice(position, 1)
    if position == frame.height - 1:
        # The usual last line: a zero-copy slice. A filter would leave the columns' chunks misaligned,
        # which makes every later eager select on 1M rows realign them.
        return frame.slice(0, position), footer
    return pl.concat([frame.slice(0, position), frame.slice(position + 1)]).rechunk(), footer
