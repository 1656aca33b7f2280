"""Cell text clean-up shared by the readers: trimmed, empty → null, NFC where it matters; each costly pass
only on the columns some of whose cells need it (1M-row files)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from itertools import accumulate, permutations
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
NFC_SUSPECTS: Final[str] = (
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
    return clean_and_ask(frame, nfc_columns)[0]


def clean_and_ask(
    frame: pl.DataFrame,
    nfc_columns: Collection[str] | None = None,
    questions: Mapping[str, pl.Expr] | None = None,
) -> tuple[pl.DataFrame, dict[str, bool]]:
    """``clean``, answering on the way (in its first pass over the frame, so that polars runs them all in
    parallel) the boolean ``questions`` a loader has about the raw cells: key -> whether the condition holds
    on some row (null counts as no)."""
    text_cols = text_columns(frame)
    nfc_cols = [c for c in text_cols if nfc_columns is None or c in nfc_columns]
    questions = questions or {}
    asked = [cond.fill_null(False).any().alias(f"q:{key}") for key, cond in questions.items()]
    if not nfc_cols and not asked:
        return frame, {}
    # Padding is looked for where it would go unnoticed (text kept as is); a padded cell elsewhere fails
    # its parser, and the loader then strips everything and parses again (see ``strip_all``).
    stats = frame.select(
        *[_padded(c).any().alias(f"pad:{c}") for c in nfc_cols],
        *[(pl.col(c).str.len_bytes() != pl.col(c).str.len_chars()).any().alias(f"uni:{c}") for c in nfc_cols],
        *[(pl.col(c).str.len_bytes() == 0).any().alias(f"empty:{c}") for c in nfc_cols],
        *asked,
    ).row(0, named=True)
    answers = {key: bool(stats[f"q:{key}"]) for key in questions}
    for c in text_cols:
        stats.setdefault(f"pad:{c}", False)
    unicode_cols = [c for c in nfc_cols if stats[f"uni:{c}"]]
    suspects = (
        frame.select([pl.col(c).str.contains(NFC_SUSPECTS).any().alias(c) for c in unicode_cols]).row(
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
    for c in text_cols:
        expr = pl.col(c)
        if suspects.get(c) and c not in composed_ok:
            expr = expr.str.normalize("NFC")
        if stats[f"pad:{c}"]:
            expr = expr.str.strip_chars()
        if stats[f"pad:{c}"] or (suspects.get(c) and stats[f"empty:{c}"]):
            exprs.append(expr.replace("", None))
        elif suspects.get(c) and c not in composed_ok:
            exprs.append(expr)  # no empty cell (NFC makes none): no null to make
    return (frame.with_columns(exprs) if exprs else frame), answers


@cache
def _composition_table() -> tuple[list[str], list[str]]:
    """Decomposed Latin letter → precomposed, for every letter NFC composes in U+00C0-U+1EFF, also from its
    partly composed forms and its marks in any canonically equivalent order (cp1258 writes ``ê`` + combining
    tilde for ``ễ``, and ``ê`` + dot below for ``ệ``, whose NFD puts the dot first). Longest keys first, so
    that a leftmost-first search composes whole sequences."""
    pairs: dict[str, str] = {}
    for cp in range(0x00C0, 0x1F00):
        letter = chr(cp)
        nfd = unicodedata.normalize("NFD", letter)
        if nfd == letter or unicodedata.normalize("NFC", nfd) != letter:
            continue
        base, marks = nfd[0], nfd[1:]
        for order in sorted(set(permutations(marks))):
            for k in range(len(order)):
                head = unicodedata.normalize("NFC", base + "".join(order[:k])) if k else base
                key = head + "".join(order[k:])
                # only orders NFC composes to the same letter (marks of one combining class do not commute)
                if len(head) == 1 and unicodedata.normalize("NFC", key) == letter:
                    pairs.setdefault(key, letter)
    keys = sorted(pairs, key=len, reverse=True)
    return keys, [pairs[k] for k in keys]


def _compose(frame: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, set[str]]:
    """NFC for Vietnamese text in NFD or cp1258 form, about twice as fast as ``str.normalize`` on 1M names
    (see ``start_composing``); only a column where some combining mark is left (another script, unusual mark
    order) then goes through the full ``str.normalize("NFC")``."""
    jobs = {c: start_composing(frame.get_column(c)) for c in columns}  # all columns' slices at once
    done: set[str] = set()
    joined: list[pl.Series] = []
    for c, job in jobs.items():
        composed, left = job()
        if not left:
            done.add(c)
            joined.append(composed)
    # a column with something left keeps its original text for the full str.normalize
    return frame.with_columns(joined), done


def start_composing(column: pl.Series, check: str = NFC_SUSPECTS) -> Callable[[], tuple[pl.Series, bool]]:
    """Start composing the known Vietnamese letter sequences of ``column`` (Aho-Corasick); the returned
    call waits for (the composed column, chunked like ``column``; whether the regex ``check`` matches some
    composed cell: by default, whether a combining mark is left)."""
    keys, letters = _composition_table()
    if _repeats(column):
        # Names repeat (a few thousand family, middle and given names): each distinct cell composed once.
        def compose_distinct() -> tuple[pl.Series, bool]:
            codes, distinct = _distinct_cells(column)
            composed = distinct.str.replace_many(keys, letters, leftmost=True)
            cells = chunked_like(composed.gather(codes), column.chunk_lengths()).alias(column.name)
            return cells, bool(composed.str.contains(check).any())

        return _POOL.submit(compose_distinct).result

    def compose(start: int, length: int) -> tuple[pl.Series, bool]:
        part = column.slice(start, length).str.replace_many(keys, letters, leftmost=True)
        return part, bool(part.str.contains(check).any())

    # One column is one thread's work in polars: it is composed in slices (cut at its chunk boundaries, so
    # the result is chunked like the other columns) on threads (polars releases the GIL).
    parts = [_POOL.submit(compose, start, length) for start, length in _slices(column)]

    def result() -> tuple[pl.Series, bool]:
        done = [part.result() for part in parts]
        composed = pl.concat([part for part, _ in done], rechunk=False).alias(column.name)
        return composed, any(left for _, left in done)

    return result


def start_matching(column: pl.Series, pattern: str) -> Callable[[], bool]:
    """Start testing whether the regex ``pattern`` matches some cell of ``column``, on a thread (polars
    releases the GIL); the returned call waits for the answer. A regex costs about 30 ns a cell whatever its
    pattern: a column whose cells repeat is tested once per distinct cell."""

    def match() -> bool:
        cells = _distinct_cells(column)[1] if _repeats(column) else column
        return bool(cells.str.contains(pattern).any())

    return _POOL.submit(match).result


# Cells sampled to tell whether a column's cells repeat (``_repeats``), in blocks spread over the column.
_SAMPLE_BLOCKS, _SAMPLE_BLOCK = 256, 256


def _repeats(column: pl.Series) -> bool:
    """Whether at most half the cells of a sample of ``column`` (64K cells in 256 blocks spread over it, or
    all of a short column) are distinct: about 1 ms on 1M names. Then working once per distinct cell pays:
    interning 1M cells with a few thousand distinct ones costs about 15 ms, against 30 ns (a regex) to
    150 ns (composing) a cell; interning 1M distinct cells costs 350 ms. A sample overstates the share of
    distinct cells, so this errs towards "no" (work per cell): a uniform draw from fewer than about 40 000
    distinct names says "yes"."""
    n = column.len()
    if not hasattr(pl, "Categories"):  # polars before 1.32: no categories of a column's own
        return False
    if n <= _SAMPLE_BLOCKS * _SAMPLE_BLOCK:
        sample = column
    else:
        step = n // _SAMPLE_BLOCKS
        sample = pl.concat([column.slice(i * step, _SAMPLE_BLOCK) for i in range(_SAMPLE_BLOCKS)])
    return 2 * sample.n_unique() <= sample.len()


def _distinct_cells(column: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(each cell's code, the distinct cells indexed by code): ``distinct.gather(codes)`` is ``column``
    (null where it is null)."""
    interned = column.cast(pl.Categorical(pl.Categories.random()))  # categories of its own: its cells only
    dtype = interned.dtype
    assert isinstance(dtype, pl.Categorical)
    return interned.to_physical(), dtype.categories.to_series()


_POOL: Final = ThreadPoolExecutor(max(2, pl.thread_pool_size()), thread_name_prefix="disburse-nfc")


def _slices(column: pl.Series) -> list[tuple[int, int]]:
    """(offset, length) of about one slice per polars thread, cut at chunk boundaries."""
    lengths = column.chunk_lengths()
    n = max(1, min(pl.thread_pool_size(), len(lengths)))
    target = column.len() / n
    cuts: list[tuple[int, int]] = []
    start = length = 0
    for chunk in lengths:
        length += chunk
        if length >= target and len(cuts) < n - 1:
            cuts.append((start, length))
            start, length = start + length, 0
    if length or not cuts:
        cuts.append((start, length))
    return cuts


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


def chunked_like(values: pl.Series, lengths: list[int]) -> pl.Series:
    """``values`` cut into chunks of ``lengths`` (zero-copy slices): polars realigns the chunks of a frame's
    columns on every eager select when they differ."""
    if len(lengths) <= 1:
        return values
    starts = [0, *accumulate(lengths)][:-1]
    return pl.concat([values.slice(s, n) for s, n in zip(starts, lengths, strict=True)], rechunk=False)
