"""Cell text clean-up shared by the readers: trimmed, empty → null, NFC where it matters; each costly pass
only on the columns some of whose cells need it (1M-row files)."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from functools import cache
from typing import Final

import polars as pl

ROW = "__row"  # 1-based row number in the source file, header rows included
TYPED_PREFIX = "__typed:"  # spreadsheet cells re-read with a numeric/date type, next to their raw text


def text_columns(frame: pl.DataFrame) -> list[str]:
    return [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String and name != ROW and not name.startswith(TYPED_PREFIX)
    ]


# Characters that may change under NFC: combining marks, Hangul jamo, the NFC singletons (Ω K Å, CJK
# compatibility ideographs). Vietnamese in NFC has none of them: a column without them needs no NFC pass.
_NFC_SUSPECTS: Final[str] = (
    r"[\p{M}\x{1100}-\x{11FF}\x{2126}\x{212A}\x{212B}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]"
)


def _padded(c: str) -> pl.Expr:
    """Cells padded with spaces (what fixed-width exports leave); other white space is rare enough to be
    left to the parsers' error reports."""
    return pl.col(c).str.starts_with(" ") | pl.col(c).str.ends_with(" ")


def clean(frame: pl.DataFrame, nfc_columns: Collection[str] | None = None) -> pl.DataFrame:
    """Text cells trimmed, empty → null, so that 'missing' means one thing everywhere, and those of
    ``nfc_columns`` (None = all; the columns whose text is kept as is, the others are parsed into ASCII
    values) in NFC, so the parsers never normalise again. Both passes are costly on 1M cells, so a column
    only gets the ones some of its cells need (cheap checks first: padding, non-ASCII, then NFC suspects)."""
    text_cols = text_columns(frame)
    if not text_cols:
        return frame
    nfc_cols = [c for c in text_cols if nfc_columns is None or c in nfc_columns]
    # Padding is looked for where it would go unnoticed (text kept as is); a padded cell elsewhere fails
    # its parser, and the loader then strips everything and parses again (see ``strip_all``).
    stats = frame.select(
        *[
            _padded(c).any().alias(f"pad{i}") if c in nfc_cols else pl.lit(False).alias(f"pad{i}")
            for i, c in enumerate(text_cols)
        ],
        *[(pl.col(c).str.len_bytes() != pl.col(c).str.len_chars()).any().alias(f"uni:{c}") for c in nfc_cols],
    ).row(0, named=True)
    unicode_cols = [c for c in nfc_cols if stats[f"uni:{c}"]]
    suspects = (
        frame.select([pl.col(c).str.contains(_NFC_SUSPECTS).any().alias(c) for c in unicode_cols]).row(
            0, named=True
        )
        if unicode_cols
        else {}
    )
    to_compose = [c for c in unicode_cols if suspects.get(c)]
    composed_ok: set[str] = set()
    if to_compose:
        frame, composed_ok = _compose(frame, to_compose)
    exprs: list[pl.Expr] = []
    for i, c in enumerate(text_cols):
        expr = pl.col(c)
        if suspects.get(c) and c not in composed_ok:
            expr = expr.str.normalize("NFC")
        if stats[f"pad{i}"]:
            expr = expr.str.strip_chars()
        if suspects.get(c) or stats[f"pad{i}"]:
            exprs.append(expr.replace("", None))
    return frame.with_columns(exprs) if exprs else frame


@cache
def _composition_table() -> tuple[list[str], list[str]]:
    """Decomposed Latin letter → precomposed, for every letter NFC composes in U+00C0-U+1EFF, also from its
    partly composed forms (cp1258 writes ``ê`` + combining tilde for ``ễ``). Longest keys first, so that a
    leftmost-first search composes whole sequences."""
    pairs: dict[str, str] = {}
    for cp in range(0x00C0, 0x1F00):
        letter = chr(cp)
        nfd = unicodedata.normalize("NFD", letter)
        if nfd == letter or unicodedata.normalize("NFC", nfd) != letter:
            continue
        base, marks = nfd[0], nfd[1:]
        for k in range(len(marks)):
            head = unicodedata.normalize("NFC", base + marks[:k]) if k else base
            if len(head) == 1:
                pairs.setdefault(head + marks[k:], letter)
    keys = sorted(pairs, key=len, reverse=True)
    return keys, [pairs[k] for k in keys]


def _compose(frame: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, set[str]]:
    """NFC for Vietnamese text in NFD or cp1258 form, about twice as fast as ``str.normalize`` on 1M names:
    compose the known letter sequences (Aho-Corasick); only a column where some combining mark is left
    (another script, unusual mark order) then goes through the full ``str.normalize("NFC")``."""
    keys, letters = _composition_table()
    composed = frame.with_columns([pl.col(c).str.replace_many(keys, letters, leftmost=True) for c in columns])
    leftover = composed.select([pl.col(c).str.contains(_NFC_SUSPECTS).any().alias(c) for c in columns]).row(0)
    done = {c for c, left in zip(columns, leftover, strict=True) if not left}
    # a column with something left keeps its original text for the full str.normalize
    return frame.with_columns([composed.get_column(c) for c in done]), done


def strip_all(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text cell trimmed, empty → null: the slow path, for a file with padded cells."""
    text_cols = text_columns(frame)
    return frame.with_columns([pl.col(c).str.strip_chars().replace("", None) for c in text_cols])


def has_padding(values: pl.Series) -> bool:
    return bool(values.str.contains(r"^\s|\s$").any())


def aligned(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns chunked alike. Polars realigns misaligned chunks on every eager select, which on 1M rows
    costs more than parsing a column; one rechunk up front is cheaper."""
    return frame.rechunk() if len(set(frame.n_chunks("all"))) > 1 else frame
