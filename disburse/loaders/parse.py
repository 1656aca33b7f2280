"""Vectorised cell parsers shared by every loader.

Each parser takes the raw text expression (already trimmed, empty = null) and returns a ``Parsed``: the
canonical value (null where unreadable) and a reason (null where the cell is fine). A cell that is empty is
not the parser's business: ``required`` turns it into a reject.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Final, Literal

import polars as pl

from disburse import text

AmountFormat = Literal["plain", "dot_thousands", "comma_thousands", "number"]

_NULL_STR: Final = pl.lit(None, dtype=pl.String)
PERIOD_RE: Final[str] = r"^\d{4}-(0[1-9]|1[0-2])$"


@dataclass(frozen=True)
class Parsed:
    value: pl.Expr
    reason: pl.Expr  # String; null = fine


def reason_when(*rules: tuple[pl.Expr, str]) -> pl.Expr:
    """First rule that holds gives the reason; none → null."""
    if not rules:
        return _NULL_STR
    cond, msg = rules[0]
    chain = pl.when(cond).then(pl.lit(msg))
    for cond, msg in rules[1:]:
        chain = chain.when(cond).then(pl.lit(msg))  # type: ignore[assignment]
    return chain.otherwise(_NULL_STR)


def required(raw: pl.Expr, parsed: Parsed, *, needed: pl.Expr | bool = True, what: str = "value") -> Parsed:
    """Add 'missing' to a parser's reason where the cell is empty but needed (a bool or a row condition)."""
    need = pl.lit(needed) if isinstance(needed, bool) else needed
    reason = pl.when(raw.is_null() & need).then(pl.lit(f"missing {what}")).otherwise(parsed.reason)
    return Parsed(parsed.value, reason)


def any_row(frame: pl.DataFrame, cond: pl.Expr) -> bool:
    """Whether ``cond`` holds on some row."""
    return bool(frame.select(cond.fill_null(False).any()).item())


class Probe:
    """Lets a parser skip a costly pass that no row of the frame needs (a decision per column, not per
    row), with all such questions answered by one parallel ``select``: build the parsers once to record
    the questions (every answer is then "yes"), call ``resolve``, and build them again."""

    def __init__(self, frame: pl.DataFrame | None, answers: Mapping[str, bool] | None = None) -> None:
        """``frame`` None: a probe that only records the questions (``questions``), to be answered elsewhere
        (e.g. by the reader's first pass, see ``read.read_csv``); ``answers``: questions already answered,
        keyed as ``questions`` gives them."""
        self._frame = frame
        self._asked: dict[str, pl.Expr] = {}
        self._answers: dict[str, bool] | None = dict(answers) if answers is not None else None
        self._memo: dict[str, pl.Expr] = {}

    def once(self, key: str, build: Callable[[], pl.Expr]) -> pl.Expr:
        """An expression that costs a pass over the frame to build (e.g. a word map), built once."""
        if self._frame is None:  # recording questions only: a stand-in
            return pl.lit(None, dtype=pl.String)
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def any(self, cond: pl.Expr) -> bool:
        key = str(cond)
        if self._answers is None:
            self._asked[key] = cond
            return True
        if key not in self._answers:
            assert self._frame is not None
            return any_row(self._frame, cond)
        return self._answers[key]

    @property
    def questions(self) -> dict[str, pl.Expr]:
        return dict(self._asked)

    def resolve(self) -> None:
        assert self._frame is not None
        keys = list(self._asked)
        row = (
            self._frame.select(
                [self._asked[k].fill_null(False).any().alias(f"q{i}") for i, k in enumerate(keys)]
            ).row(0)
            if keys
            else ()
        )
        self._answers = {k: bool(v) for k, v in zip(keys, row, strict=True)}


# --- money ---

_SEPARATORS: Final[dict[str, tuple[str | None, str]]] = {
    # format -> (thousands separator, decimal separator)
    "plain": (None, "."),
    "dot_thousands": (".", ","),
    "comma_thousands": (",", "."),
}


def amount_text(raw: pl.Expr, fmt: AmountFormat, probe: Probe | None = None) -> Parsed:
    """Whole VND written as text. A decimal part of zeros (``1.500.000,00``) is whole; any other is not.
    Given ``probe``, the decimal-part pass is skipped when no cell has a decimal separator."""
    thousands, decimal = _SEPARATORS["plain" if fmt == "number" else fmt]
    grouped = rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+" if thousands else None
    whole = rf"(?:\d+|{grouped})" if grouped else r"\d+"
    dec = re.escape(decimal)
    is_whole = raw.str.contains(rf"^{whole}(?:{dec}0+)?$")
    is_fraction = raw.str.contains(rf"^-?{whole}{dec}\d+$")
    has_decimals = probe is None or probe.any(raw.str.contains(decimal, literal=True))
    digits = raw.str.replace(rf"{dec}0+$", "") if has_decimals else raw
    if thousands:
        digits = digits.str.replace_all(thousands, "", literal=True)
    if thousands is None and not has_decimals:
        # plain digits: polars' integer cast reads exactly [+-]?digits, so with the sign excluded it is the
        # pattern's test without a regex pass (a cell it cannot read is null either way)
        signed = raw.str.starts_with("+") | raw.str.starts_with("-")
        value = pl.when(~signed).then(raw.cast(pl.Int64, strict=False))
    else:
        value = pl.when(is_whole).then(digits.cast(pl.Int64, strict=False))
    reason = reason_when(
        (raw.str.starts_with("-"), "negative amount"),
        (is_fraction, "fractional amount: VND are whole"),
        (~is_whole, f"not a number ({_describe_amount(fmt)} expected)"),
        (value.is_null(), "amount too large"),
    )
    return Parsed(value, pl.when(raw.is_not_null()).then(reason))


def amount_number(raw: pl.Expr, typed: pl.Expr) -> Parsed:
    """A spreadsheet number cell (``typed`` = its Float64 re-read): must be whole and not negative."""
    value = pl.when(typed.is_not_null() & (typed >= 0) & (typed == typed.floor()) & (typed < 2.0**53)).then(
        typed.cast(pl.Int64, strict=False)
    )
    reason = reason_when(
        (typed.is_null(), "not a number"),
        (typed < 0, "negative amount"),
        (typed != typed.floor(), "fractional amount: VND are whole"),
        (value.is_null(), "amount too large"),
    )
    return Parsed(value, pl.when(raw.is_not_null()).then(reason))


def _describe_amount(fmt: AmountFormat) -> str:
    return {
        "plain": "digits only, e.g. 1500000",
        "dot_thousands": "e.g. 1.500.000",
        "comma_thousands": "e.g. 1,500,000",
        "number": "a number",
    }[fmt]


# --- dates ---


def describe_date_format(fmt: str) -> str:
    return fmt.replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy")


def date_text(raw: pl.Expr, fmt: str) -> Parsed:
    """Text dates in a strftime pattern. Patterns without separators must match their exact width, since
    polars would read ``2026103`` as 3 October."""
    value = raw.str.strptime(pl.Date, fmt, strict=False, exact=True)
    width = len(pl.Series(["2000-01-01"]).str.to_date().dt.strftime(fmt)[0])
    ok = value.is_not_null()
    if not re.search(r"[^%A-Za-z]", fmt):
        ok = ok & (raw.str.len_chars() == width)
        value = pl.when(ok).then(value)
    reason = pl.when(raw.is_not_null() & ~ok).then(pl.lit(f"not a date ({describe_date_format(fmt)})"))
    return Parsed(value, reason)


def date_iso(raw: pl.Expr) -> Parsed:
    """ISO dates; a spreadsheet date cell read as text carries a midnight time, which is dropped."""
    return date_text(raw.str.replace(r"[ T]00:00:00(?:\.0+)?$", ""), "%Y-%m-%d")


def date_cell(raw: pl.Expr, typed: pl.Expr) -> Parsed:
    """A spreadsheet date cell (``typed`` = its Date re-read)."""
    reason = pl.when(raw.is_not_null() & typed.is_null()).then(pl.lit("not a date cell"))
    return Parsed(typed.cast(pl.Date), reason)


# --- identifiers and text ---


_NORMAL_ID: Final[str] = r"^(?:\d{9}|\d{12})$"


def national_id(raw: pl.Expr, typed: pl.Expr | None = None, probe: Probe | None = None) -> Parsed:
    """Normalised national id; a number cell goes through Int64 (never its float text). Only 12-digit CCCD
    and 9-digit CMND numbers exist once normalised. Given ``probe``, a column that is already normal
    skips ``text.normalise_national_id`` (which would return it unchanged)."""
    source = raw
    if typed is not None:
        as_int = pl.when(typed == typed.floor()).then(typed.cast(pl.Int64, strict=False)).cast(pl.String)
        source = pl.coalesce(as_int, raw)
    if typed is None and probe is not None and not probe.any(~raw.str.contains(_NORMAL_ID)):
        value = raw
    else:
        value = text.normalise_national_id(source)
    bad = raw.is_not_null() & ~value.str.len_chars().is_in([9, 12]).fill_null(False)
    reason = pl.when(bad).then(pl.lit("not a national id (12-digit CCCD or 9-digit CMND)"))
    return Parsed(pl.when(~bad).then(value), reason)


@cache
def ward_codes() -> pl.Series:
    """Current GSO ward codes (5 digits) from the vietnam-provinces package; built once."""
    from vietnam_provinces import WardCode

    return pl.Series("ward_code", sorted(f"{int(code):05d}" for code in WardCode), dtype=pl.String)


def ward_code(raw: pl.Expr, probe: Probe | None = None) -> Parsed:
    """Spreadsheets drop the leading zeros of ward codes written as numbers: pad digits to 5 (a pass
    skipped, given ``probe``, when every code has 5 characters already)."""
    if probe is not None and not probe.any(raw.str.len_bytes() != 5):
        padded = raw
    else:
        padded = pl.when(raw.str.contains(r"^\d{1,5}$")).then(raw.str.zfill(5)).otherwise(raw)
    known = padded.is_in(ward_codes().implode())
    reason = pl.when(raw.is_not_null() & ~known).then(pl.lit("ward code unknown to the GSO list"))
    return Parsed(pl.when(known).then(padded), reason)


def name(raw: pl.Expr, *, tcvn3: bool = False, probe: Probe | None = None) -> Parsed:
    """Names as ``text.nfc`` gives them. The raw table is already NFC and trimmed, so only runs of white
    space are left to collapse, and only when (given ``probe``) some cell has them."""
    value = text.tcvn3_decode(raw) if tcvn3 else raw
    if probe is None or probe.any(raw.str.contains(r"\s\s|[^\S ]")):
        value = text.nfc(value)
    return Parsed(value, _NULL_STR)


def plain_text(raw: pl.Expr) -> Parsed:
    """Identifiers: the raw table is already NFC and trimmed."""
    return Parsed(raw, _NULL_STR)


def period(raw: pl.Expr) -> Parsed:
    ok = raw.str.contains(PERIOD_RE)
    return Parsed(
        pl.when(ok).then(raw), pl.when(raw.is_not_null() & ~ok).then(pl.lit("not a period (YYYY-MM)"))
    )


def one_of(raw: pl.Expr, allowed: list[str], what: str) -> Parsed:
    ok = raw.is_in(allowed)
    reason = pl.when(raw.is_not_null() & ~ok).then(
        pl.lit(f"unknown {what} (expected one of {', '.join(allowed)})")
    )
    return Parsed(pl.when(ok).then(raw), reason)


def word_map(frame: pl.DataFrame, column: str, words: dict[str, str]) -> pl.Expr:
    """Map the cells of ``column`` to canonical values, comparing after ``text.fold_name`` (case, diacritics,
    tone placement, spaces). Folding runs on the distinct cells only: a file has a handful of words."""
    keys = (
        pl.DataFrame(
            {"word": list(words), "canonical": list(words.values())},
            schema=pl.Schema({"word": pl.String, "canonical": pl.String}),
        )
        .select(text.fold_name(pl.col("word")).alias("key"), "canonical")
        .unique("key", keep="first")
    )
    distinct = (
        frame.select(pl.col(column).unique().drop_nulls().alias("cell"))
        .with_columns(text.fold_name(pl.col("cell")).alias("key"))
        .join(keys, on="key", how="inner")
    )
    return pl.col(column).replace_strict(
        distinct.get_column("cell"), distinct.get_column("canonical"), default=None, return_dtype=pl.String
    )
