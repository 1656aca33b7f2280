"""The exceptions workbook reads back as the same frame, with integer amounts and a usable sheet."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from disburse.reports import sheetxml, xlsx
from disburse.reports.pdf_sample import sample_exceptions
from disburse.reports.xlsx import AMOUNT_FORMAT, SHEET, write_exceptions_xlsx
from disburse.reports.xlsx_reference import write_cell_by_cell
from disburse.schema import EXCEPTION_SCHEMA

SCHEMA = {**EXCEPTION_SCHEMA, "full_name": pl.String(), "ward_code": pl.String()}


def frame() -> pl.DataFrame:
    base = {
        "province_code": "79",
        "period": "2026-10",
        "beneficiary_id": "79-NCC-0001234",
        "national_id": "001123456789",
        "ward_code": "25747",
    }
    rows = [
        {
            **base,
            "code": "OVERPAID",
            "severity": "critical",
            "order_id": "79-202610-0000001",
            "payout_id": "BD79-0001",
            "ordered_vnd": 2_789_000,
            "paid_vnd": 4_289_000,
            "difference_vnd": 1_500_000,
            "detail": "Đã chi 4.289.000 ₫",
            "full_name": "Nguyễn Thị Hằng",
        },
        {
            **base,
            "code": "UNDERPAID",
            "severity": "high",
            "order_id": "79-202610-0000002",
            "payout_id": "BD79-0002",
            "ordered_vnd": 3_000_000,
            "paid_vnd": 1_500_000,
            "difference_vnd": -1_500_000,
            "detail": None,
            "full_name": "Đặng Văn Ửng",
        },
        {
            **base,
            "code": "PHANTOM_PAYOUT",
            "severity": "critical",
            "order_id": None,
            "payout_id": "BD79-0003",
            "ordered_vnd": None,
            "paid_vnd": 500_000,
            "difference_vnd": 500_000,
            "detail": "Không có lệnh chi",
            "full_name": "Dương Thị Ỷ",
            "ward_code": None,
        },
        {
            **base,
            "code": "CONTROL_TOTAL_MISMATCH",
            "severity": "critical",
            "order_id": None,
            "payout_id": None,
            "beneficiary_id": None,
            "national_id": None,
            "ordered_vnd": 1_233_000_000_000,
            "paid_vnd": 1_234_500_000_000,
            "difference_vnd": 1_500_000_000,
            "detail": "Tệp KQ_79.csv",
            "full_name": None,
            "ward_code": None,
        },
    ]
    return pl.DataFrame(rows, schema=SCHEMA)


def test_reads_back_equal_with_integer_amounts(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.xlsx"
    expected = frame()
    write_exceptions_xlsx(path, expected)
    back = pl.read_excel(path, sheet_name=SHEET)
    for name in ("ordered_vnd", "paid_vnd", "difference_vnd"):
        assert back.schema[name] == pl.Int64
    # Text columns that are all digits (national_id) must stay text with their leading zeros.
    assert_frame_equal(back, expected)


def test_sheet_is_frozen_filtered_and_formatted(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.xlsx"
    write_exceptions_xlsx(path, frame())
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        styles = book.read("xl/styles.xml").decode()
    assert 'state="frozen"' in sheet and 'topLeftCell="A2"' in sheet
    assert '<autoFilter ref="A1:N5"/>' in sheet
    assert f'formatCode="{AMOUNT_FORMAT}"' in styles
    # Amount cells are numbers (no t="s"/"str" type), e.g. <c r="I2" s="2"><v>2789000</v></c>.
    assert re.search(r'<c r="I2" s="\d+"><v>2789000</v></c>', sheet)


def test_empty_frame(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    write_exceptions_xlsx(path, pl.DataFrame(schema=SCHEMA))
    assert path.stat().st_size > 0


# --- The rows are built by Polars (disburse.reports.sheetxml) and spliced into xlsxwriter's skeleton. ---

CREATED = datetime(2026, 11, 5, 9, 30)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as book:
        assert book.testzip() is None
        assert {info.compress_type for info in book.infolist()} == {zipfile.ZIP_DEFLATED}
        return {info.filename: book.read(info) for info in book.infolist()}


# Everything xlsxwriter escapes or treats specially, and what a payout file could smuggle in.
TRICKY_TEXT = [
    "Nguyễn Thị Hằng",
    "001123456789",
    '=HYPERLINK("http://evil.example/x","Bấm")',
    "http://example.com/?a=1&b=2",
    "=1+1",
    "@SUM(A1)",
    "a<b>&c \"quoted\" 'single'",
    "ctrl\x01\x07\x0b\x0c\x1fend",
    "\x00",
    "literal _x0041_ and _X004a_ and _x12G4_",
    " leading",
    "trailing ",
    "\ttab first",
    "line\nbreak",
    "\u00a0nbsp first",
    "non\ufffechar\uffff",
    "",
    "emoji 😀 ở",
    "x" * 32_766 + "😀tail",
    "ệ" * 40_000,
    "ệ" * 20_000,
    None,
]


def tricky() -> pl.DataFrame:
    height = len(TRICKY_TEXT)
    amounts = [None, 0, -1_500_000, 1_233_000_000_000, 999_999_999_999_999, *range(height - 5)]
    return pl.DataFrame(
        {
            "national_id": TRICKY_TEXT,
            "ordered_vnd": amounts,
            "detail": list(reversed(TRICKY_TEXT)),
            "lines": pl.Series(range(height), dtype=pl.Int32),  # numeric, not an amount: no #,##0
            "flag": [True, False, None] * (height // 3) + [True] * (height % 3),
            "paid_on": [date(2026, 10, 5), None] * (height // 2) + [None] * (height % 2),
            "severity": pl.Series((["high", "low"] * height)[:height], dtype=pl.Categorical),
            "nothing": pl.Series([None] * height, dtype=pl.String),
        }
    )


def with_empty_rows(base: pl.DataFrame) -> pl.DataFrame:
    """Rows without a value, inside and at the end: xlsxwriter writes no <row> and a shorter dimension."""
    empty = pl.DataFrame([{name: None for name in base.columns}] * 2, schema=base.schema)
    return pl.concat([base.head(2), empty, base.slice(2), empty])


@pytest.mark.parametrize("chunk_rows", [10_000, 3])
@pytest.mark.parametrize(
    "case",
    ["listing", "sample", "tricky", "empty rows", "no rows", "one column", "one empty column"],
)
def test_every_part_is_what_the_cell_by_cell_writer_wrote(
    case: str, chunk_rows: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Byte for byte, every part of the package: the rows spliced in are xlsxwriter's own cells."""
    frames: dict[str, Callable[[], pl.DataFrame]] = {
        "listing": frame,
        "sample": lambda: sample_exceptions(40, wards=6),
        "tricky": tricky,
        "empty rows": lambda: with_empty_rows(frame()),
        "no rows": lambda: pl.DataFrame(schema=SCHEMA),
        "one column": lambda: frame().select("national_id"),
        "one empty column": lambda: frame().select(pl.col("detail").filter(pl.col("detail").is_null())),
    }
    monkeypatch.setattr(sheetxml, "CHUNK_ROWS", chunk_rows)  # blocks of 3 rows: every boundary crossed
    exceptions = frames[case]()
    ours, reference = tmp_path / "ours.xlsx", tmp_path / "reference.xlsx"
    write_exceptions_xlsx(ours, exceptions, created=CREATED)
    write_cell_by_cell(reference, exceptions, created=CREATED)
    expected = parts(reference)
    got = parts(ours)
    assert list(got) == list(expected)
    for name, content in expected.items():
        assert got[name] == content, name


def test_tricky_text_reads_back_as_written(tmp_path: Path) -> None:
    """Formula- and link-looking text stays text, IDs keep leading zeros, markup characters and Excel's own
    escape syntax survive, Vietnamese is intact; the over-long texts are cut to Excel's 32,767 units."""
    path = tmp_path / "tricky.xlsx"
    expected = tricky()
    write_exceptions_xlsx(path, expected)
    sheet = fastexcel.read_excel(path).load_sheet(SHEET, dtypes="string")
    back = sheet.to_polars()
    assert back.columns == expected.columns
    national_id = back["national_id"].to_list()
    for written, read in zip(TRICKY_TEXT, national_id, strict=True):
        if written is None or written == "":
            assert read in (None, "")  # an empty text is an empty cell to a reader
        elif "\ufffe" in written:
            assert read == "non_xFFFE_char_xFFFF_"  # Excel's escape, which the reader leaves as is
        elif len(written) > 30_000:
            assert read == (written[:32_766] if "😀" in written else written[:32_767])
        else:
            assert read == written
    numbers = pl.read_excel(path, sheet_name=SHEET)  # whole doubles as Int64, like test_reads_back_equal
    assert numbers["ordered_vnd"].dtype == pl.Int64 and numbers["lines"].dtype == pl.Int64
    assert numbers["ordered_vnd"].to_list() == expected["ordered_vnd"].to_list()
    assert numbers["lines"].to_list() == expected["lines"].to_list()
    assert back["flag"].to_list()[:3] == ["True", "False", None]
    assert back["paid_on"].to_list()[:2] == ["2026-10-05", None]
    assert back["nothing"].null_count() == expected.height


def test_text_shaped_like_rich_text_is_escaped(tmp_path: Path) -> None:
    """xlsxwriter would copy "<r>…</r>" into the sheet unescaped, as markup; here it is text like any."""
    path = tmp_path / "rich.xlsx"
    injected = "<r><t>Đã chi</t></r>"
    write_exceptions_xlsx(path, pl.DataFrame({"detail": [injected, "<r></r><x/>"]}))
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "&lt;r&gt;&lt;t&gt;Đã chi&lt;/t&gt;&lt;/r&gt;" in sheet
    assert pl.read_excel(path, sheet_name=SHEET)["detail"].to_list() == [injected, "<r></r><x/>"]


def test_floats_are_numbers_and_non_finite_ones_empty(tmp_path: Path) -> None:
    path = tmp_path / "floats.xlsx"
    values = [1.5, 0.1, -3.0, 1e20, float("nan"), float("inf"), None, 1 / 3]
    write_exceptions_xlsx(path, pl.DataFrame({"rate": values, "key": ["k"] * len(values)}))
    back = pl.read_excel(path, sheet_name=SHEET)
    assert back["rate"].dtype == pl.Float64
    assert back["rate"].to_list() == [1.5, 0.1, -3.0, 1e20, None, None, None, 1 / 3]


def test_many_rows_over_many_blocks_read_back_equal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheetxml, "CHUNK_ROWS", 97)
    path = tmp_path / "sample.xlsx"
    expected = sample_exceptions(1_000, wards=12)
    write_exceptions_xlsx(path, expected)
    assert_frame_equal(pl.read_excel(path, sheet_name=SHEET), expected)
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert '<dimension ref="A1:N1001"/>' in sheet and '<autoFilter ref="A1:N1001"/>' in sheet
    assert sheet.count("<row ") == 1_001


def test_every_part_is_well_formed_xml_and_styled(tmp_path: Path) -> None:
    """No LibreOffice on the build machine: every part parses, and the styles, pane, filter and widths are
    where Excel looks for them."""
    path = tmp_path / "exceptions.xlsx"
    exceptions = with_empty_rows(frame())
    write_exceptions_xlsx(path, exceptions)
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    trees = {name: ET.fromstring(content) for name, content in parts(path).items()}
    assert "[Content_Types].xml" in trees and "docProps/core.xml" in trees
    workbook, styles = trees["xl/workbook.xml"], trees["xl/styles.xml"]
    sheet = trees["xl/worksheets/sheet1.xml"]
    assert [s.get("name") for s in workbook.iterfind("m:sheets/m:sheet", ns)] == [SHEET]
    # The filter spans every data row; the dimension ends at the last row holding a cell (as xlsxwriter's).
    assert workbook.find("m:definedNames/m:definedName", ns).text == f"'{SHEET}'!$A$1:$N$9"  # type: ignore[union-attr]
    fills = [f.get("rgb") for f in styles.iterfind("m:fills/m:fill/m:patternFill/m:fgColor", ns)]
    fonts = styles.findall("m:fonts/m:font", ns)
    assert "FF1F3A5F" in fills
    assert any(
        f.find("m:b", ns) is not None and f.find("m:color", ns).get("rgb") == "FFFFFFFF"  # type: ignore[union-attr]
        for f in fonts
    )
    pane = sheet.find("m:sheetViews/m:sheetView/m:pane", ns)
    assert pane is not None and pane.get("state") == "frozen" and pane.get("ySplit") == "1"
    assert sheet.find("m:autoFilter", ns).get("ref") == "A1:N9"  # type: ignore[union-attr]
    assert sheet.find("m:dimension", ns).get("ref") == "A1:N7"  # type: ignore[union-attr]
    widths = [float(c.get("width", "0")) for c in sheet.iterfind("m:cols/m:col", ns)]
    assert widths and all(8 <= w <= 61 for w in widths)
    rows = sheet.findall("m:sheetData/m:row", ns)
    assert [r.get("r") for r in rows] == ["1", "2", "3", "6", "7"]  # the two empty rows have no <row>
    header_style = {c.get("s") for c in rows[0]}
    assert len(header_style) == 1 and header_style != {None}
    amount_style = {c.get("s") for r in rows[1:] for c in r if c.get("r", "")[0] in "IJK"}
    assert len(amount_style) == 1 and amount_style != {None}
    for row in rows[1:]:
        for cell in row:
            column = cell.get("r", "")[0]
            assert cell.get("t") == (None if column in "IJK" else "inlineStr")


def test_same_input_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    exceptions = sample_exceptions(500, wards=6)
    write_exceptions_xlsx(first, exceptions, created=CREATED)
    write_exceptions_xlsx(second, exceptions, created=CREATED)
    assert first.read_bytes() == second.read_bytes()


def test_zip64_entry_when_the_sheet_could_pass_2_gib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A month big enough gets a ZIP64 sheet entry (decided from a bound upfront); readers take it alike."""
    monkeypatch.setattr(xlsx, "_ZIP32_LIMIT", 0)
    path = tmp_path / "zip64.xlsx"
    expected = frame()
    write_exceptions_xlsx(path, expected)
    with zipfile.ZipFile(path) as book:
        info = book.getinfo("xl/worksheets/sheet1.xml")
        assert info.extract_version >= 45  # ZIP64
    local = path.read_bytes()[info.header_offset :]
    name_length, extra_length = struct.unpack("<2H", local[26:30])
    assert extra_length and local[30 + name_length : 32 + name_length] == b"\x01\x00"  # the ZIP64 extra field
    assert_frame_equal(pl.read_excel(path, sheet_name=SHEET), expected)


def test_size_bound_holds() -> None:
    for exceptions in (frame(), tricky(), sample_exceptions(300, wards=6)):
        written = sum(
            len(block)
            for block in sheetxml.sheet_rows(exceptions, styles=[2] * exceptions.width, first_row=2)
        )
        assert written <= sheetxml.size_bound(exceptions)


def test_rows_past_the_sheet_limit_are_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As with xlsxwriter, which ignores cells past Excel's last row; the filter stops there too."""
    monkeypatch.setattr(xlsx, "_SHEET_ROWS", 3)
    path = tmp_path / "limit.xlsx"
    write_exceptions_xlsx(path, frame())
    assert_frame_equal(pl.read_excel(path, sheet_name=SHEET), frame().head(2))
    with zipfile.ZipFile(path) as book:
        assert '<autoFilter ref="A1:N3"/>' in book.read("xl/worksheets/sheet1.xml").decode()
