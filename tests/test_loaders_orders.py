"""Orders and registry events files: CSV, Parquet and XLSX round-trip; bad rows are rejected."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from disburse.errors import InputError
from disburse.fixtures.dialects import write_events, write_orders
from disburse.loaders import orders as orders_module
from disburse.loaders.events import load_events
from disburse.loaders.orders import load_orders
from disburse.loaders.parse import ward_codes
from disburse.schema import EVENT_SCHEMA, ORDER_FILE_COLUMNS, ORDER_SCHEMA

SUFFIXES = [".csv", ".parquet", ".xlsx"]


def orders() -> pl.DataFrame:
    wards = ward_codes().to_list()
    return pl.DataFrame(
        {
            "order_id": ["79-202610-0000001", "79-202610-0000002", "48-202610-0000001"],
            "period": ["2026-10"] * 3,
            "province_code": ["79", "79", "48"],
            "ward_code": [wards[0], wards[100], wards[2000]],
            "beneficiary_id": ["79-NCC-0000001", "79-BTXH-0000002", "48-NCC-0000001"],
            "national_id": ["001234567890", "123456789", "048200001234"],
            "full_name": ["Nguyễn Văn An", "Trần Thị Hoà", "Lê Đức Thịnh"],
            "birth_date": [dt.date(1940, 1, 2), dt.date(1950, 12, 31), None],
            "program": ["NCC", "BTXH", "NCC"],
            "allowance_code": ["NCC.TB", "BTXH.NCT", "NCC.TB"],
            "amount_vnd": [2_789_000, 500_000, 5_578_000],
            "covers": [["2026-10"], ["2026-10"], ["2026-09", "2026-10"]],
            "proxy_national_id": [None, "079987654321", None],
            "proxy_name": [None, "Trần Văn Bình", None],
            "proxy_valid_until": [None, dt.date(2026, 12, 31), None],
        },
        schema=ORDER_SCHEMA,
    )


def events() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "beneficiary_id": ["79-NCC-0000001", "48-NCC-0000001"],
            "national_id": ["001234567890", None],
            "event": ["DECEASED", "MOVED"],
            "effective_date": [dt.date(2026, 9, 15), dt.date(2026, 8, 1)],
        },
        schema=EVENT_SCHEMA,
    )


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_orders_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"orders{suffix}"
    write_orders(orders(), path)
    loaded = load_orders(path)
    assert loaded.rejects.is_empty(), loaded.rejects
    assert_frame_equal(loaded.frame, orders())


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_events_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"events{suffix}"
    write_events(events(), path)
    loaded = load_events(path)
    assert loaded.rejects.is_empty(), loaded.rejects
    assert_frame_equal(loaded.frame, events())


def test_header_only_events_file_is_an_empty_month(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    write_events(events().clear(), path)
    loaded = load_events(path)
    assert loaded.frame.is_empty() and loaded.rejects.is_empty()


def csv_orders(tmp_path: Path, **changes: list[str | None]) -> Path:
    text = orders().with_columns(pl.col("covers").list.join(","))
    text = text.with_columns([pl.Series(k, v, dtype=pl.String) for k, v in changes.items()])
    path = tmp_path / "orders.csv"
    text.write_csv(path)
    return path


def test_legacy_province_codes_are_mapped_and_empty_covers_is_the_period(tmp_path: Path) -> None:
    path = csv_orders(tmp_path, province_code=["77", "74", "49"], covers=["", None, "2026-09, 2026-10"])
    loaded = load_orders(path)
    assert loaded.rejects.is_empty()
    assert loaded.frame["province_code"].to_list() == ["79", "79", "48"]
    assert loaded.frame["covers"].to_list() == [["2026-10"], ["2026-10"], ["2026-09", "2026-10"]]


@pytest.mark.parametrize(
    ("column", "values", "row", "value", "reason"),
    [
        ("period", ["2026-10", "2026-13", "2026-10"], 3, "2026-13", "not a period (YYYY-MM)"),
        ("province_code", ["79", "99", "48"], 3, "99", "province code has no profile"),
        ("amount_vnd", ["2789000", "0", "5578000"], 3, "0", "an order's amount must be > 0"),
        ("amount_vnd", ["2789000", "500000.5", "5578000"], 3, "500000.5", "fractional amount: VND are whole"),
        ("covers", ["2026-10", "2026-10", "2026-9"], 4, "2026-9", "covers must list periods (YYYY-MM,...)"),
        ("birth_date", ["1940-01-02", "02/01/1940", None], 3, "02/01/1940", "not a date (yyyy-mm-dd)"),
        ("program", ["NCC", "XYZ", "NCC"], 3, "XYZ", "unknown program (expected one of BTXH, NCC)"),
        ("order_id", ["A", "B", "A"], 4, "A", "duplicate order_id (first on row 2)"),
        ("full_name", ["An", None, "Bình"], 3, None, "missing value"),
        ("ward_code", ["99999", None, None], 2, "99999", "ward code unknown to the GSO list"),
    ],
)
def test_bad_order_rows(
    tmp_path: Path, column: str, values: list[str | None], row: int, value: str | None, reason: str
) -> None:
    path = csv_orders(tmp_path, **{column: values})
    loaded = load_orders(path)
    rejects = (
        loaded.rejects.filter(pl.col("reason") != "missing value")
        if column == "ward_code"
        else loaded.rejects
    )
    assert rejects.row(0, named=True) == {
        "file": "orders.csv",
        "row": row,
        "column": column,
        "value": value,
        "reason": reason,
    }
    assert loaded.frame.height + loaded.rejects["row"].n_unique() == 3  # nothing lost


def test_orders_file_missing_a_column(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    orders().drop("covers").with_columns(pl.lit(1).alias("extra")).drop("national_id").write_parquet(
        path.with_suffix(".parquet")
    )
    with pytest.raises(InputError, match=r"orders\.parquet.*'national_id'"):
        load_orders(path.with_suffix(".parquet"))


def test_orders_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text("{}")
    with pytest.raises(InputError, match=r"orders\.json"):
        load_orders(path)


def test_orders_file_has_exact_columns() -> None:
    assert tuple(ORDER_SCHEMA) == ORDER_FILE_COLUMNS


# --- the fast path of CSV orders files (``orders._load_tidy``) gives exactly what the full path gives ---


def _cells(**changes: dict[int, str | None]) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Set cells of the text form (``column={row: text}``)."""

    def change(frame: pl.DataFrame) -> pl.DataFrame:
        row = pl.int_range(pl.len())
        return frame.with_columns(
            [
                pl.coalesce(
                    *[
                        pl.when(row == i).then(pl.lit(v, dtype=pl.String))
                        for i, v in cells.items()
                        if v is not None
                    ],
                    pl.when(~row.is_in(list(cells))).then(pl.col(column)),
                ).alias(column)
                for column, cells in changes.items()
            ]
        )

    return change


def _text_orders() -> pl.DataFrame:
    """``orders()`` as the CSV carries it: every cell text, covers comma-joined."""
    return orders().with_columns(pl.col("covers").list.join(",")).cast(pl.String)


# variant -> (change to the text cells, whether the fast path takes the file)
FAST_VARIANTS: dict[str, tuple[Callable[[pl.DataFrame], pl.DataFrame], bool]] = {
    "as-written": (lambda frame: frame, True),
    "covers-empty": (_cells(covers={0: None, 1: ""}), True),
    "covers-null": (_cells(covers={0: None, 1: None, 2: None}), True),
    "covers-own-and-arrears": (_cells(covers={0: "2026-10", 2: "2026-08,2026-09,2026-10"}), True),
    "covers-spaces": (_cells(covers={2: " 2026-09 , 2026-10", 1: "2026-09,,2026-10"}), True),
    "covers-commas-only": (_cells(covers={1: ", ,"}), True),
    "covers-invalid": (_cells(covers={1: "2026-9"}), False),
    "covers-two-periods": (_cells(period={0: "2026-09"}, covers={0: None, 1: None}), True),
    "padded-dictionary-cells": (_cells(program={0: " NCC"}, ward_code={1: "1921"}), True),
    "legacy-province": (_cells(province_code={0: "77", 2: "49"}), True),
    "unknown-province": (_cells(province_code={0: "99"}), False),
    "padded-id": (_cells(order_id={1: " 79-202610-0000002"}), False),
    "empty-id": (_cells(beneficiary_id={1: ""}), False),
    "non-ascii-id": (_cells(beneficiary_id={1: "79-BTXH-Đ02"}), False),
    "nfd-name": (_cells(full_name={0: "Nguye\u0302\u0303n Va\u0306n An"}), False),
    "name-double-space": (_cells(full_name={1: "Trần  Thị Hoà"}), False),
    "name-nbsp": (_cells(proxy_name={1: "Trần\u00a0Văn Bình"}), False),
    # NFC changes this letter: ``clean`` (NFC_SUSPECTS) leaves it, ``parse.name`` does not
    "name-nfc-singleton": (_cells(full_name={2: "Lê \u1f71"}), False),
    "national-id-lost-zero": (_cells(national_id={0: "1234567890"}), False),
    "national-id-plus": (_cells(proxy_national_id={1: "+79987654"}), False),
    "birth-date-with-time": (_cells(birth_date={0: "1940-01-02 00:00:00"}), False),
    "birth-date-bad": (_cells(birth_date={0: "1940-02-30"}), False),
    "amount-decimal-zeros": (_cells(amount_vnd={0: "2789000.00"}), True),
    "amount-zero": (_cells(amount_vnd={0: "0"}), False),
    "unsorted-ids": (lambda frame: frame.reverse(), True),
    "duplicate-id": (_cells(order_id={2: "79-202610-0000001"}), False),
    "missing-needed-cell": (_cells(program={1: None}), False),
    "extra-column": (lambda frame: frame.with_columns(pl.lit("x").alias("note")), True),
    "no-proxies": (
        _cells(proxy_national_id={1: None}, proxy_name={1: None}, proxy_valid_until={1: None}),
        True,
    ),
    "blank-line": (lambda frame: pl.concat([frame.head(1), frame.head(1).clear(1), frame.tail(2)]), False),
}


@pytest.mark.parametrize("variant", sorted(FAST_VARIANTS))
def test_fast_path_gives_what_the_full_path_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    change, fast = FAST_VARIANTS[variant]
    path = tmp_path / "orders.csv"
    change(_text_orders()).write_csv(path)
    taken: list[bool] = []
    tidy = orders_module._load_tidy

    def spy(cells: Any) -> Any:
        result = tidy(cells)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(orders_module, "_load_tidy", spy)
    loaded = load_orders(path)
    assert taken == [fast]
    monkeypatch.setattr(orders_module, "_load_tidy", lambda cells: None)
    full = load_orders(path)
    assert_frame_equal(loaded.frame, full.frame)
    assert_frame_equal(loaded.rejects, full.rejects)
    assert loaded.file_digest == full.file_digest


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (None, ["2026-10"]),
        ("2026-10", ["2026-10"]),
        ("2026-09", ["2026-09"]),
        ("2026-08,2026-09", ["2026-08", "2026-09"]),
        (" 2026-08 ,  2026-09 ", ["2026-08", "2026-09"]),
        ("2026-08,,2026-09,", ["2026-08", "2026-09"]),
        (", ,", ["2026-10"]),
    ],
)
@pytest.mark.parametrize("fast", [True, False])
def test_covers_variants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cell: str | None, expected: list[str], fast: bool
) -> None:
    if not fast:
        monkeypatch.setattr(orders_module, "_load_tidy", lambda cells: None)
    path = csv_orders(tmp_path, covers=[cell, "2026-10", None])
    loaded = load_orders(path)
    assert loaded.rejects.is_empty(), loaded.rejects
    assert loaded.frame["covers"].to_list() == [expected, ["2026-10"], ["2026-10"]]


@pytest.mark.parametrize("cell", ["2026-9", "2026-13", "2026-08;2026-09", "2026-08,abc", "２０２６-08x"])
@pytest.mark.parametrize("fast", [True, False])
def test_covers_that_are_not_periods_are_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cell: str, fast: bool
) -> None:
    if not fast:
        monkeypatch.setattr(orders_module, "_load_tidy", lambda cells: None)
    loaded = load_orders(csv_orders(tmp_path, covers=["2026-10", cell, None]))
    assert loaded.rejects.rows() == [
        ("orders.csv", 3, "covers", cell, "covers must list periods (YYYY-MM,...)")
    ]
    assert loaded.frame["order_id"].to_list() == ["79-202610-0000001", "48-202610-0000001"]


# --- the cheap parsers of the usual cell (``orders.Usual``) agree with the general ones ---

_CELL_CHARS = "0123456789+-., \t\u00a0abcĐđễệÂ\u0300\u0301\u0303\u1f71\u0958ＡＢ１２"
_cells_text = st.one_of(
    st.none(),
    st.text(alphabet=_CELL_CHARS, max_size=14),
    st.sampled_from(
        [
            "001234567890",
            "123456789",
            "12345678",
            "+12345678",
            "2026-09",
            "2026-08,2026-09",
            "00",
            "05794",
            "1921",
            "500000",
            "500000.00",
            "9223372036854775808",
            "Nguyễn Văn An",
            " An",
            "An ",
            "A  B",
            "2026-09-01",
            "2026-02-30",
            "2026-9-1",
            "2026-09-01 00:00:00",
            "2026-09-01T00:00:00.000",
            "X 00:00:00",
            "X T00:00:00",
        ]
    ),
)


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(_cells_text, min_size=1, max_size=12),
    field=st.sampled_from(["national_id", "full_name", "ward_code", "amount_vnd", "covers", "birth_date"]),
)
def test_usual_parsers_agree_with_the_general_ones(cells: list[str | None], field: str) -> None:
    frame = pl.DataFrame(
        {"raw": cells, "period": ["2026-10"] * len(cells)}, schema={"raw": pl.String, "period": pl.String}
    )
    raw = pl.col("raw")
    parser = (
        orders_module._covers(raw, pl.col("period"))
        if field == "covers"
        else orders_module._order_parser(field, raw, frame, "raw")
    )
    assert isinstance(parser, orders_module.Usual)
    parsed = orders_module._parse(frame, {field: parser})
    general = frame.select(parser.general.value.alias("value"))
    assert parsed.get_column(f"__f:{field}").to_list() == general.get_column("value").to_list()


def test_name_characters_are_left_alone_by_nfc() -> None:
    """Every character the name test lets through is unchanged by NFC, has no combining class, and is never
    the second half of a canonical composition (so no neighbour can compose with it)."""
    allowed = [
        chr(c) for lo, hi in ((0x21, 0x7E), (0xC0, 0x24F), (0x1E00, 0x1EFF)) for c in range(lo, hi + 1)
    ]
    canonical = (unicodedata.decomposition(chr(c)) for c in range(0x110000))
    seconds = {d.split()[1] for d in canonical if len(d.split()) == 2 and not d.startswith("<")}
    for ch in allowed:
        assert unicodedata.is_normalized("NFC", ch) and unicodedata.combining(ch) == 0, hex(ord(ch))
        assert f"{ord(ch):04X}" not in seconds, hex(ord(ch))
    names = pl.Series(["".join(allowed[i : i + 20]) for i in range(0, len(allowed), 20)])
    assert not pl.select(orders_module.untidy_name(pl.lit(names)).any()).item()
