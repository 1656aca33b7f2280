"""Property tests for the cell parsers and the text folding they rely on."""

from __future__ import annotations

import datetime as dt
import unicodedata

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from disburse import text
from disburse.fixtures.dialects import encode_text, format_amount, tcvn3_encode
from disburse.loaders.parse import AmountFormat, amount_text, date_text, national_id

TEXT_FORMATS: list[AmountFormat] = ["plain", "dot_thousands", "comma_thousands"]
DATE_FORMATS = ["%d/%m/%Y", "%Y%m%d", "%d-%m-%Y", "%Y-%m-%d", "%d.%m.%Y"]
VIET_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
VIET_VOWELS = "aăâeêioôơuưy"
VIET_CONSONANTS = "bcdđghklmnpqrstvx"
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]

amounts = st.integers(min_value=0, max_value=10**15)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
settings.register_profile("loaders", max_examples=200, deadline=None)
settings.load_profile("loaders")


def run(expr: pl.Expr, values: list[str | None]) -> list[object]:
    return pl.DataFrame({"raw": values}, schema={"raw": pl.String}).select(expr.alias("out"))["out"].to_list()


@st.composite
def syllables(draw: st.DrawFn) -> str:
    """Vietnamese-looking words: consonants, a vowel carrying one tone mark, more letters; in NFC."""
    head = draw(st.text(alphabet=VIET_CONSONANTS, max_size=2))
    vowel = draw(st.sampled_from(VIET_VOWELS)) + draw(st.sampled_from(TONES))
    tail = draw(st.text(alphabet=VIET_LETTERS, max_size=3))
    return unicodedata.normalize("NFC", head + vowel + tail)


names = st.lists(syllables(), min_size=1, max_size=4).map(" ".join)


@given(amounts, st.sampled_from(TEXT_FORMATS))
def test_amount_format_round_trips(value: int, fmt: AmountFormat) -> None:
    formatted = pl.select(format_amount(pl.lit(value, dtype=pl.Int64), fmt)).item()
    parsed = amount_text(pl.col("raw"), fmt)
    assert run(parsed.value, [formatted]) == [value]
    assert run(parsed.reason, [formatted]) == [None]


@given(st.integers(min_value=1, max_value=10**12), st.sampled_from(TEXT_FORMATS))
def test_negative_amounts_are_rejected(value: int, fmt: AmountFormat) -> None:
    formatted = "-" + pl.select(format_amount(pl.lit(value, dtype=pl.Int64), fmt)).item()
    parsed = amount_text(pl.col("raw"), fmt)
    assert run(parsed.value, [formatted]) == [None]
    assert run(parsed.reason, [formatted]) == ["negative amount"]


@given(amounts, st.integers(min_value=1, max_value=99), st.sampled_from(TEXT_FORMATS))
def test_fractional_amounts_are_rejected(value: int, cents: int, fmt: AmountFormat) -> None:
    decimal = "," if fmt == "dot_thousands" else "."
    formatted = pl.select(format_amount(pl.lit(value, dtype=pl.Int64), fmt)).item() + f"{decimal}{cents:02d}"
    parsed = amount_text(pl.col("raw"), fmt)
    assert run(parsed.value, [formatted]) == [None]
    assert run(parsed.reason, [formatted]) == ["fractional amount: VND are whole"]


@given(st.text(alphabet="abcxyz /+", min_size=1, max_size=8), st.sampled_from(TEXT_FORMATS))
def test_non_numbers_are_rejected(junk: str, fmt: AmountFormat) -> None:
    raw = junk.strip() or "x"
    parsed = amount_text(pl.col("raw"), fmt)
    assert run(parsed.value, [raw]) == [None]
    assert str(run(parsed.reason, [raw])[0]).startswith("not a number")


@given(dates, st.sampled_from(DATE_FORMATS))
def test_dates_round_trip(day: dt.date, fmt: str) -> None:
    parsed = date_text(pl.col("raw"), fmt)
    assert run(parsed.value, [day.strftime(fmt)]) == [day]
    assert run(parsed.reason, [day.strftime(fmt)]) == [None]


@given(st.integers(min_value=1, max_value=10**12 - 1))
def test_cccd_without_leading_zeros_is_padded(number: int) -> None:
    cccd = f"{number:012d}"
    as_number = str(int(cccd))  # what a spreadsheet keeps
    if len(as_number) < 10:
        return  # 9 digits or fewer is read as a CMND: the documented rule
    assert run(national_id(pl.col("raw")).value, [as_number, cccd, f" {cccd[:4]} {cccd[4:]} "]) == [cccd] * 3


@given(st.integers(min_value=1_000_000, max_value=999_999_999))
def test_cmnd_is_nine_digits(number: int) -> None:
    assert run(national_id(pl.col("raw")).value, [str(number)]) == [f"{number:09d}"]


def test_national_id_from_number_cell_goes_through_integer() -> None:
    frame = pl.DataFrame({"raw": ["79123456789", "x"], "typed": [79123456789.0, None]})
    out = frame.select(national_id(pl.col("raw"), pl.col("typed")).value)
    assert out.to_series().to_list() == ["079123456789", None]


def fold(values: list[str]) -> list[object]:
    return run(text.fold_name(pl.col("raw")), values)  # type: ignore[arg-type]


@given(names)
def test_fold_ignores_normal_form_case_and_spaces(name: str) -> None:
    variants = [
        name,
        unicodedata.normalize("NFD", name),
        name.upper(),
        "  " + name.replace(" ", "   ") + " ",
    ]
    assert len(set(fold(variants))) == 1


def test_fold_ignores_tone_placement() -> None:
    assert len(set(fold(["hoà", "hòa", "Uỷ quyền", "Ủy quyền", "thuý", "thúy"]))) == 3


@given(names)
def test_tcvn3_encode_then_decode(name: str) -> None:
    encoded = text.tcvn3_encode(name)
    assert run(tcvn3_encode(pl.col("raw")), [name]) == [encoded]  # the writer's vectorised encoder agrees
    assert run(text.tcvn3_decode(pl.col("raw")), [encoded]) == [unicodedata.normalize("NFC", name.title())]


@given(names)
def test_cp1258_encoding_round_trips(name: str) -> None:
    raw = encode_text(name, "cp1258")
    assert unicodedata.normalize("NFC", raw.decode("cp1258")) == name


def clean_column(values: list[str]) -> list[object]:
    from disburse.loaders.clean import clean

    return clean(pl.DataFrame({"c": values}, schema={"c": pl.String}))["c"].to_list()


@given(st.lists(names, min_size=1, max_size=5))
def test_loader_nfc_of_nfd_and_cp1258_text(values: list[str]) -> None:
    nfd = [unicodedata.normalize("NFD", v) for v in values]
    cp1258 = [encode_text(v, "cp1258").decode("cp1258") for v in values]
    assert clean_column(nfd) == values
    assert clean_column(cp1258) == values


@given(st.lists(st.text(min_size=1, max_size=12).map(str.strip).filter(bool), min_size=1, max_size=5))
def test_loader_nfc_of_any_text(values: list[str]) -> None:
    got = clean_column(values)
    assert got == [unicodedata.normalize("NFC", v).strip() or None for v in values]


# --- composing and testing names once per distinct name (``clean._repeats``) or once per cell ---


def _chunked(values: list[str | None], parts: int) -> pl.Series:
    column = pl.Series("c", values, dtype=pl.String)
    step = max(1, len(values) // parts)
    return pl.concat([column.slice(i, step) for i in range(0, len(values), step)], rechunk=False)


@given(st.lists(names, min_size=1, max_size=4), st.integers(min_value=4, max_value=30), st.integers(1, 4))
def test_composing_repeated_names_once_each_is_composing_every_cell(
    values: list[str], copies: int, parts: int
) -> None:
    from disburse.loaders import clean

    cells = [unicodedata.normalize("NFD", v) for v in values] * copies + [None]
    column = _chunked(cells, parts)
    assert clean._repeats(column)
    composed, left = clean.start_composing(column)()
    assert composed.to_list() == values * copies + [None]
    assert composed.chunk_lengths() == column.chunk_lengths()
    assert composed.name == column.name
    assert not left


@given(st.lists(names, min_size=3, max_size=12, unique=True), st.integers(1, 4))
def test_composing_distinct_names_cell_by_cell(values: list[str], parts: int) -> None:
    from disburse.loaders import clean

    column = _chunked([unicodedata.normalize("NFD", v) for v in values], parts)
    assert not clean._repeats(column)
    composed, left = clean.start_composing(column)()
    assert composed.to_list() == values
    assert composed.chunk_lengths() == column.chunk_lengths()
    assert not left


_UNTIDY_CELLS = ["", " Lê", "Lê ", "Lê  Văn", "Lê\tVăn", "Lê\u00a0Văn", "Le\u0301", "X\u0301"]


@given(
    st.lists(st.one_of(names, st.sampled_from(_UNTIDY_CELLS)), min_size=1, max_size=5),
    st.integers(min_value=1, max_value=30),
)
def test_matching_once_per_distinct_cell_is_matching_every_cell(values: list[str], copies: int) -> None:
    import re

    from disburse.loaders import clean
    from disburse.loaders.payouts import _UNTIDY_NAME

    column = pl.Series("c", values * copies, dtype=pl.String)
    expected = any(re.search(r"^$|^ | $|\s\s|[^\S ]|\u0301", v) for v in values)
    assert clean.start_matching(column, _UNTIDY_NAME)() == expected
    _, left = clean.start_composing(column, _UNTIDY_NAME)()
    # composing leaves a mark only where no letter takes it ("X" + acute): the rest is untidy as written
    assert left == any(re.search(r"^$|^ | $|\s\s|[^\S ]|X\u0301", v) for v in values)


def test_repeats_judges_a_long_column_by_a_sample() -> None:
    from disburse.loaders import clean

    n = 300_000
    assert clean._repeats(pl.Series([f"Tên {i % 5_000}" for i in range(n)]))
    assert not clean._repeats(pl.Series([f"Tên {i}" for i in range(n)]))
