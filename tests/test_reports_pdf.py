"""Province and national PDFs: Vietnamese text survives, layout holds, output is byte-reproducible."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab import rl_config
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.platypus import Flowable, Paragraph

from disburse.profile import pilot_provinces
from disburse.reports.fonts import report_fonts
from disburse.reports.pdf import RunInfo, render_national_pdf, render_province_pdf
from disburse.reports.pdf_doc import StreamingDoc
from disburse.reports.pdf_exceptions import prepare
from disburse.reports.pdf_sample import sample_exceptions
from disburse.reports.pdf_styles import styles
from disburse.reports.pdf_text import CUT_MARKER, MAX_LINES, Metrics
from disburse.reports.vn import CODE_ACTION, CODE_LABEL
from disburse.schema import EXCEPTION_SCHEMA, SEVERITY, SUMMARY_SCHEMA, Code

FRAME_SCHEMA = {**EXCEPTION_SCHEMA, "full_name": pl.String(), "ward_code": pl.String()}
RUN = RunInfo(period="2026-10", run_id=42, generated_at=datetime(2026, 11, 5, 9, 30))
NAMES = ("Nguyễn Thị Hằng", "Đặng Văn Ửng", "Trần Quốc Tuấn", "Lê Thị Mỹ Duyên", "Phạm Hữu Lộc",
         "Hồ Thị Ngọc Trâm", "Vũ Đình Khởi", "Dương Thị Ỷ")
PRESENT = (Code.OVERPAID, Code.PHANTOM_PAYOUT, Code.PAID_AFTER_DEATH, Code.UNDERPAID, Code.NAME_MISMATCH,
           Code.UNPAID, Code.MISSING_RESULT, Code.CONTROL_TOTAL_MISMATCH)


def row(code: Code, name: str | None, ordered: int | None, paid: int | None, *, ward: str | None = "25747",
        province: str = "79", order: str | None = "79-202610-0000001", payout: str | None = "BD79-0001",
        detail: str = "") -> dict[str, Any]:
    return {
        "province_code": province, "period": "2026-10", "code": code.value, "severity": SEVERITY[code],
        "order_id": order, "payout_id": payout, "beneficiary_id": "79-NCC-0001234",
        "national_id": "079123456789", "ordered_vnd": ordered, "paid_vnd": paid,
        "difference_vnd": None if ordered is None or paid is None else paid - ordered,
        "detail": detail or None, "full_name": name, "ward_code": ward,
    }


def province_rows() -> pl.DataFrame:
    rows = [
        row(Code.OVERPAID, NAMES[0], 2_789_000, 4_289_000, detail="Đã chi 4.289.000 ₫, lệnh chi 2.789.000 ₫"),
        row(Code.PAID_AFTER_DEATH, NAMES[0], 2_789_000, 4_289_000, detail="Chết ngày 12/08/2026"),
        row(Code.PHANTOM_PAYOUT, NAMES[1], None, 500_000, order=None, payout="BD79-0002", ward="25750"),
        row(Code.UNDERPAID, NAMES[2], 3_000_000, 1_500_000, order="79-202610-0000003", ward="99999"),
        row(Code.NAME_MISMATCH, NAMES[3], 750_000, 750_000, detail="Tên trên kết quả: Le Thi My Duyen"),
        row(Code.UNPAID, NAMES[4], 1_000_000, 0, payout="BD79-0005", detail="Vắng mặt <không về> & đi xa"),
        row(Code.UNPAID, NAMES[5], 500_000, 0, payout="BD79-0006", detail="Chuyển đi"),
        row(Code.MISSING_RESULT, NAMES[6], 1_394_500, 0, payout=None),
        row(Code.MISSING_RESULT, NAMES[7], 5_578_000, 0, payout=None, ward=None),
        row(Code.CONTROL_TOTAL_MISMATCH, None, 1_233_000_000, 1_234_500_000, order=None, payout=None,
            ward=None, detail="Tệp KQ_79_202610.csv: dòng Tổng cộng khác tổng các dòng"),
        # Another province's row must not leak into this report.
        row(Code.OVERPAID, "Ngô Thị Lạc Loài", 1, 2, province="48"),
    ]
    return pl.DataFrame(rows, schema=FRAME_SCHEMA)


def summary_row(province: str = "79", **overrides: int) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(SUMMARY_SCHEMA, 0)
    values.update(province_code=province, period="2026-10", orders=1200, payout_lines=1190,
                  ordered_vnd=3_000_000_000, matched_paid_vnd=2_990_000_000, underpaid_gap_vnd=1_500_000,
                  unpaid_vnd=1_500_000, missing_vnd=7_000_000, paid_out_vnd=2_992_000_000, fee_vnd=7_854_000,
                  advance_vnd=3_000_000_000, carried_in_vnd=12_000_000, carried_out_vnd=8_500_000,
                  residual_vnd=11_500_000)
    values.update(overrides)
    return values


def text_of(path: Path) -> str:
    """All pages' text, NFC, with runs of whitespace (line wraps inside cells) collapsed to one space."""
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text))


def render_province(path: Path, exceptions: pl.DataFrame | None = None) -> Path:
    render_province_pdf(path, profile=pilot_provinces()["79"], run=RUN, summary=summary_row(),
                        exceptions=province_rows() if exceptions is None else exceptions)
    return path


@pytest.fixture(scope="module")
def province_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_province(tmp_path_factory.mktemp("pdf") / "79.pdf")


@pytest.fixture(scope="module")
def province_text(province_pdf: Path) -> str:
    return text_of(province_pdf)


def test_names_keep_every_tone_mark(province_text: str) -> None:
    for name in NAMES:
        assert name in province_text
    assert "Ngô Thị Lạc Loài" not in province_text  # province 48's row


def test_header_names_department_province_period_run(province_text: str) -> None:
    for expected in ("SỞ NỘI VỤ TP HỒ CHÍ MINH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "BÁO CÁO ĐỐI SOÁT CHI TRẢ TRỢ CẤP QUA BƯU ĐIỆN",
                     "TP Hồ Chí Minh — kỳ chi trả tháng 10/2026",
                     "Mã lần đối soát: 42", "Lập lúc: 05/11/2026 09:30"):
        assert expected in province_text


def test_amounts_in_vietnamese_format(province_text: str) -> None:
    for amount in ("1.500.000 ₫", "-1.500.000 ₫", "4.289.000 ₫", "3.000.000.000 ₫", "7.854.000 ₫",
                   "11.500.000 ₫", "1.234.500.000 ₫"):
        assert amount in province_text
    assert "1500000" not in province_text


def test_summary_table_and_balance(province_text: str) -> None:
    for label in ("Tổng tiền theo lệnh chi", "Tổng tiền đã chi", "Phí dịch vụ chi trả", "Chuyển sang kỳ sau",
                  "Chênh lệch quyết toán tiền mặt"):
        assert label in province_text
    assert "không có kết quả: khớp" in province_text


def test_labels_and_actions_for_the_codes_present_only(province_text: str) -> None:
    for code in PRESENT:
        assert CODE_LABEL[code] in province_text, code
        assert CODE_ACTION[code] in province_text, code
    for code in set(Code) - set(PRESENT):
        assert CODE_ACTION[code] not in province_text, code


def test_listing_is_grouped_critical_first(province_text: str) -> None:
    headings = [province_text.index(f"Mức độ: {label}") for label in
                ("Nghiêm trọng", "Cao", "Cảnh báo", "Thông tin")]
    assert headings == sorted(headings)
    listing = province_text[headings[0]:]
    assert listing.index("(OVERPAID)") < listing.index("(UNDERPAID)") < listing.index("(UNPAID)")


def test_wards_named_from_the_package_with_fallbacks(province_text: str) -> None:
    assert "Phường Thủ Dầu Một (mã 25747)" in province_text
    assert "Mã xã 99999 (mã 99999)" in province_text
    assert "Không rõ xã/phường" in province_text


def test_markup_characters_in_details_are_text(province_text: str) -> None:
    assert "Vắng mặt <không về> & đi xa" in province_text


def test_signature_block(province_text: str) -> None:
    for text in ("TP Hồ Chí Minh, ngày 05 tháng 11 năm 2026", "Người lập biểu", "Kế toán trưởng",
                 "Thủ trưởng đơn vị"):
        assert text in province_text


def test_only_be_vietnam_pro_is_embedded(province_pdf: Path) -> None:
    fonts: set[str] = set()
    for page in PdfReader(province_pdf).pages:
        resources: Any = page["/Resources"]
        for font in resources.get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert fonts
    assert all("BeVietnamPro" in name for name in fonts), fonts


def test_same_inputs_give_identical_bytes(tmp_path: Path, province_pdf: Path) -> None:
    again = render_province(tmp_path / "again.pdf")
    assert again.read_bytes() == province_pdf.read_bytes()


def test_no_exceptions_still_renders(tmp_path: Path) -> None:
    path = render_province(tmp_path / "empty.pdf", pl.DataFrame(schema=FRAME_SCHEMA))
    text = text_of(path)
    assert "Không có ngoại lệ nào trong kỳ." in text
    assert "Thủ trưởng đơn vị" in text


def test_frame_without_optional_columns(tmp_path: Path) -> None:
    frame = province_rows().select(list(EXCEPTION_SCHEMA))
    text = text_of(render_province(tmp_path / "bare.pdf", frame))
    assert "Không rõ xã/phường" in text
    assert CODE_LABEL[Code.OVERPAID] in text


def test_long_listing_paginates_with_repeated_headers(tmp_path: Path) -> None:
    rows = [row(Code.UNPAID, f"{NAMES[i % 8]} {i}", 1_000_000, 0, order=f"79-202610-{i:07d}",
                detail="Vắng mặt tại điểm chi trả, đã liên hệ gia đình nhưng chưa gặp được đối tượng")
            for i in range(600)]
    path = render_province(tmp_path / "long.pdf", pl.DataFrame(rows, schema=FRAME_SCHEMA))
    pages = PdfReader(path).pages
    assert len(pages) > 10
    listing_pages = [unicodedata.normalize("NFC", p.extract_text()) for p in pages[3:-1]]
    assert all("Mã lệnh chi" in page and "Chi tiết" in page for page in listing_pages)
    text = text_of(path)
    assert "79-202610-0000000" in text and "79-202610-0000599" in text
    assert f"{NAMES[7]} 599" in text


@pytest.fixture(scope="module")
def national_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    provinces = ["19", "48", "68", "75", "79"]
    summary = pl.DataFrame([summary_row(code) for code in provinces], schema=SUMMARY_SCHEMA)
    exceptions = pl.concat([province_rows().with_columns(pl.lit(code).alias("province_code"))
                            for code in provinces])
    path = tmp_path_factory.mktemp("national") / "national.pdf"
    render_national_pdf(path, run=RUN, summary=summary, exceptions=exceptions)
    return text_of(path)


def test_national_summary(national_text: str) -> None:
    for name in ("Thái Nguyên", "TP Đà Nẵng", "Lâm Đồng", "Đồng Nai", "TP Hồ Chí Minh"):
        assert name in national_text
    assert "Tổng cộng" in national_text
    assert "15.000.000.000" in national_text  # five provinces' ordered VND, summed exactly
    assert "loại ngoại lệ nhiều nhất" in national_text
    assert CODE_LABEL[Code.MISSING_RESULT] in national_text
    assert "Hà Nội, ngày 05 tháng 11 năm 2026" in national_text


def test_unknown_code_falls_back_to_its_name(tmp_path: Path) -> None:
    rows = [{**row(Code.UNPAID, NAMES[0], 1_000, 0), "code": "NEW_CODE", "severity": None}]
    text = text_of(render_province(tmp_path / "new.pdf", pl.DataFrame(rows, schema=FRAME_SCHEMA)))
    assert "NEW_CODE" in text and "Rà soát và xử lý theo quy định." in text


def test_listing_pages_name_their_code_in_the_footer(tmp_path: Path) -> None:
    rows = [row(Code.UNPAID, NAMES[i % 8], 1_000_000, 0, order=f"79-202610-{i:07d}") for i in range(300)]
    path = render_province(tmp_path / "footer.pdf", pl.DataFrame(rows, schema=FRAME_SCHEMA))
    pages = [unicodedata.normalize("NFC", p.extract_text()) for p in PdfReader(path).pages]
    continued = [page for page in pages if "Việc cần làm" not in page and "79-202610-" in page]
    assert continued
    assert all("Thông tin · Chưa chi trả, chuyển kỳ sau (UNPAID)" in page for page in continued)


class _Probe(Paragraph):  # type: ignore[misc]  # reportlab is untyped
    """Records, when drawn, how many flowables the generator had produced by then."""

    def __init__(self, produced: list[int], drawn_ahead: list[int]) -> None:
        super().__init__("dòng", styles().body)
        self._produced, self._ahead = produced, drawn_ahead

    def draw(self) -> None:
        self._ahead.append(self._produced[0])
        super().draw()


def test_document_pulls_flowables_lazily(tmp_path: Path) -> None:
    produced: list[int] = [0]
    drawn_at: list[int] = []

    def flowables() -> Iterator[Flowable]:
        for _ in range(400):
            produced[0] += 1
            yield _Probe(produced, drawn_at)

    StreamingDoc(tmp_path / "lazy.pdf", title="t", footer="f").build_from(flowables())
    assert len(drawn_at) == 400
    # When the k-th flowable is drawn the generator is only a few flowables ahead, never 400.
    assert max(at - k for k, at in enumerate(drawn_at, start=1)) <= 10


def test_long_words_in_details_are_cut_to_the_column(tmp_path: Path) -> None:
    name = "KQ_79_202610_buu_dien_thanh_pho_ho_chi_minh_lan_2_final_v3.csv"
    rows = [row(Code.CONTROL_TOTAL_MISMATCH, None, 1, 2, order=None, payout=None, detail=f"Tệp {name} lệch")]
    text = text_of(render_province(tmp_path / "word.pdf", pl.DataFrame(rows, schema=FRAME_SCHEMA)))
    assert name not in text  # cut across lines…
    assert name in text.replace(" ", "")  # …but every letter is there, in order


def test_a_huge_detail_is_cut_to_a_page_sized_row(tmp_path: Path) -> None:
    rows = [row(Code.OVERPAID, NAMES[0], 1, 2, detail="Ghi chú rất dài của bưu điện. " * 400)]
    text = text_of(render_province(tmp_path / "huge.pdf", pl.DataFrame(rows, schema=FRAME_SCHEMA)))
    assert "… (xem đầy đủ trong exceptions.csv)" in text


def test_overview_fits_the_first_page_with_every_code(tmp_path: Path) -> None:
    rows = [row(code, NAMES[i % 8], 1_000_000, 2_500_000, order=f"79-202610-{i:07d}")
            for i, code in enumerate(Code)]
    path = render_province(tmp_path / "all.pdf", pl.DataFrame(rows, schema=FRAME_SCHEMA))
    first = re.sub(r"\s+", " ", unicodedata.normalize("NFC", PdfReader(path).pages[0].extract_text()))
    assert "I. Tổng hợp tiền" in first and "II. Ngoại lệ theo loại" in first
    for code in Code:
        assert CODE_LABEL[code] in first, code


_RENDER_SAMPLE = """
import sys
from datetime import datetime
from pathlib import Path
from disburse.profile import pilot_provinces
from disburse.reports.pdf import RunInfo, render_province_pdf
from disburse.reports.pdf_sample import sample_exceptions, sample_summary
rows = sample_exceptions(300, wards=8)
render_province_pdf(Path(sys.argv[1]), profile=pilot_provinces()["79"], summary=sample_summary(rows),
                    run=RunInfo("2026-10", 9, datetime(2026, 11, 5, 9, 30)), exceptions=rows)
"""


def test_identical_bytes_across_processes(tmp_path: Path) -> None:
    """Fresh interpreters with different hash seeds: no set or dict order leaks into the file."""
    outputs = []
    root = str(Path(__file__).parents[1])  # the checkout, in case the package is not installed
    for seed in ("1", "2"):
        path = tmp_path / f"seed{seed}.pdf"
        env = {**os.environ, "PYTHONHASHSEED": seed,
               "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
        subprocess.run([sys.executable, "-c", _RENDER_SAMPLE, str(path)], check=True, env=env)
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1]


def test_every_exception_is_listed_once_in_listing_order(tmp_path: Path) -> None:
    """No row is lost or repeated at page ends, across codes and wards, and rows keep the sorted order."""
    rows = sample_exceptions(1500, wards=30, seed=3)
    text = text_of(render_province(tmp_path / "all.pdf", rows))
    listed = re.findall(r"BD79-\d{8}", text)
    expected = prepare(rows)["payout_id"].drop_nulls().to_list()
    assert listed == expected


def test_glyphs_beyond_one_font_subset_extract_as_text(tmp_path: Path) -> None:
    """More distinct letters than one embedded subset (256 codes) holds: the later ones go to a second
    subset of the same font, switched to inside a string, and still read back as the same text."""
    charset = getFont(report_fonts().regular).face.charToGlyph
    letters = [chr(code) for code in sorted(charset) if code > 127 and chr(code).isalpha()
               and unicodedata.normalize("NFC", chr(code)) == chr(code)]
    assert len(letters) > 256
    words = ["".join(letters[i:i + 8]) for i in range(0, len(letters), 8)]
    rows = [row(Code.UNPAID, f"Tên {word}", 1, 0, order=f"79-202610-{i:07d}", detail=f"({word})")
            for i, word in enumerate(words)]
    path = render_province(tmp_path / "letters.pdf", pl.DataFrame(rows, schema=FRAME_SCHEMA))
    text = text_of(path)
    assert [word for word in words if f"Tên {word}" not in text or f"({word})" not in text] == []
    fonts = {str(font.get_object()["/BaseFont"]) for page in PdfReader(path).pages
             for font in page["/Resources"]["/Font"].values()}
    assert len({name for name in fonts if name.endswith("BeVietnamPro-Regular")}) >= 2, fonts


def test_page_streams_are_compressed_without_ascii85(province_pdf: Path) -> None:
    """ASCII85 costs a quarter more bytes and, in pure Python, most of a long report's time. reportlab's
    global setting is only changed while a report is built."""
    assert b"/ASCII85Decode" not in province_pdf.read_bytes()
    assert rl_config.useA85 == 1


# Words as the listing's cells have them (syllables, identifiers, file names), and runs of letters that
# may be longer than any column.
_WORDS = st.one_of(st.sampled_from(["Nguyễn", "Thị", "Hằng", "79-202610-0000001", "đ", "—", "(x)"]),
                   st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyạảấầẩẫậ0123456789_.-", max_size=60))
_WRAP_TEXT = st.lists(_WORDS, max_size=40).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(text=_WRAP_TEXT, room=st.sampled_from([16.0, 70.0, 94.0, 248.0]))
def test_wrapped_lines_fit_the_column_and_keep_every_letter(text: str, room: float) -> None:
    metrics = Metrics(report_fonts().regular, 7.5)
    lines = metrics.wrap(text, room)
    for line in lines:
        # A line wider than the column can only be one letter wider than it.
        assert stringWidth(line, report_fonts().regular, 7.5) <= room + 1e-6 or len(line) == 1
    assert len(lines) <= MAX_LINES
    shown, whole, marker = ("".join(lines).replace(" ", ""), text.replace(" ", ""),
                            CUT_MARKER.replace(" ", ""))
    if shown.endswith(marker) and shown != whole:  # cut: what is shown is the text's beginning
        assert whole.startswith(shown.removesuffix(marker))
    else:
        assert shown == whole


# Cells as the listing has them, and what the vectorised wrap must leave to ``wrap``: line breaks, tabs and
# runs of spaces, words wider than the column, cells that run past MAX_LINES, characters beyond the BMP.
_CELL = st.one_of(
    _WRAP_TEXT,
    st.lists(st.sampled_from(["Nguyễn", "Thị", " ", "  ", "\n", "\t", "\u3000", "79-202610-0000001", "x" * 70,
                              "😀", "(", "\\"]), max_size=30).map("".join),
    st.sampled_from(["", "Ghi chú rất dài của bưu điện. " * 60]),
)


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), _CELL), max_size=25),
       room=st.sampled_from([16.0, 70.0, 94.0, 248.0]))
def test_a_column_wraps_as_each_cell_does(cells: list[str | None], room: float) -> None:
    metrics = Metrics(report_fonts().regular, 7.5)
    column = pl.Series(cells, dtype=pl.String)
    expected = [None if cell is None else
                "\n".join(metrics.wrap(cell, room)) if metrics.width(cell) > room or "\n" in cell else cell
                for cell in cells]
    assert metrics.wrap_column(column, room).to_list() == expected
    assert column.to_list() == cells  # the input is left as it was


def test_the_vectorised_wrap_takes_a_month_of_details_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The listing's details, as a month has them: wrapped without falling back to ``wrap`` cell by cell,
    and exactly as it would wrap them."""
    from disburse.reports.pdf_details import details_vi
    from disburse.reports.pdf_listing import _PAD_X, WIDTHS

    metrics = Metrics(report_fonts().regular, 7.5)
    details = details_vi(sample_exceptions(2_000, like_core=True, wards=40)["detail"])
    room = WIDTHS[7] - 2 * _PAD_X
    expected = ["\n".join(metrics.wrap(cell, room)) if metrics.width(cell) > room else cell
                for cell in details.to_list()]
    calls: list[str] = []
    wrap = metrics.wrap

    def counted(text: str, room: float) -> list[str]:
        calls.append(text)
        return wrap(text, room)

    monkeypatch.setattr(metrics, "wrap", counted)
    wrapped = metrics.wrap_column(details, room).to_list()
    assert wrapped == expected
    assert sum("\n" in cell for cell in wrapped) > 500 and calls == []


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.text(max_size=20), _CELL), max_size=20))
def test_a_column_is_encoded_as_each_text_is(texts: list[str | None]) -> None:
    """``encode_column`` writes what ``show`` writes, line breaks aside, and gives glyphs the same codes."""
    from reportlab.pdfgen.canvas import Canvas

    from disburse.reports.pdf_text import FontEncoder

    doc = Canvas(os.devnull)._doc
    bulk, one_by_one = (FontEncoder(report_fonts().regular, 7.5, doc) for _ in range(2))
    encoded = bulk.encode_column(pl.Series(texts, dtype=pl.String)).to_list()
    for text, operand in zip(texts, encoded, strict=True):
        if text is None:
            assert operand is None
            continue
        assert operand.split("\n") == [one_by_one.show(line)[1:-len(") Tj")] for line in text.split("\n")]


_POOL_SCRIPT = """
import sys
from datetime import datetime
from pathlib import Path
with open(sys.argv[2], "a", encoding="utf-8") as marker:  # at the top level, no __main__ guard
    marker.write("ran\\n")
from disburse.profile import pilot_provinces
from disburse.reports.pdf import RunInfo
from disburse.reports.pdf_pool import PdfPool, ProvincePdf
from disburse.reports.pdf_sample import sample_exceptions, sample_summary
run = RunInfo("2026-10", 9, datetime(2026, 11, 5, 9, 30))
with PdfPool(2) as pool:
    futures = []
    for code in ("79", "48"):
        rows = sample_exceptions(400, province_code=code, wards=8, like_core=True)
        summary = sample_summary(rows, province_code=code)
        job = ProvincePdf(profile=pilot_provinces()[code], run=run, summary=summary, exceptions=rows)
        futures.append(pool.submit(job, Path(sys.argv[1]) / f"{code}.pdf"))
    for future in futures:
        future.result()
"""


def test_worker_processes_write_the_same_bytes_and_run_no_script_twice(tmp_path: Path) -> None:
    """Workers are spawned without re-importing the caller's script, which here has no __main__ guard and
    would render (and start workers) again in each of them; their files are what this process renders."""
    from disburse.reports.pdf_pool import ProvincePdf

    script, marker = tmp_path / "script.py", tmp_path / "marker.txt"
    script.write_text(_POOL_SCRIPT, encoding="utf-8")
    root = str(Path(__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, str(script), str(tmp_path), str(marker)], check=True, env=env,
                   timeout=300)
    assert marker.read_text(encoding="utf-8") == "ran\n"
    from disburse.reports.pdf_sample import sample_summary

    for code in ("79", "48"):
        rows = sample_exceptions(400, province_code=code, wards=8, like_core=True)
        run = RunInfo("2026-10", 9, datetime(2026, 11, 5, 9, 30))
        summary = sample_summary(rows, province_code=code)
        job = ProvincePdf(profile=pilot_provinces()[code], run=run, summary=summary, exceptions=rows)
        job(tmp_path / f"here_{code}.pdf")
        assert (tmp_path / f"{code}.pdf").read_bytes() == (tmp_path / f"here_{code}.pdf").read_bytes()


def _month_targets(out: Path) -> list[tuple[Path, Any]]:
    from disburse.reports.pdf_pool import ProvincePdf

    targets: list[tuple[Path, Any]] = [(out / "first.txt", lambda path: path.write_text("x"))]
    for code in ("79", "48", "68"):
        rows = sample_exceptions(300, province_code=code, wards=6, seed=int(code), like_core=True)
        targets.append((out / f"discrepancies_{code}.pdf",
                        ProvincePdf(profile=pilot_provinces()[code], run=RUN, summary=summary_row(code),
                                    exceptions=rows)))
    targets.append((out / "last.txt", lambda path: path.write_text("y")))
    return targets


def test_month_reports_in_worker_processes_are_written_as_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline's report loop with province PDFs in workers: the same files, bytes and order, renamed
    from .partial once complete."""
    from disburse.pipeline.month import _write_targets

    for workers in ("1", "2"):
        monkeypatch.setenv("DISBURSE_PDF_WORKERS", workers)
        out = tmp_path / workers
        out.mkdir()
        messages: list[tuple[int, str]] = []
        targets = _month_targets(out)
        written = _write_targets(targets, lambda done, message: messages.append((done, message)))  # noqa: B023
        assert written == [path for path, _ in targets]
        assert sorted(path.name for path in out.iterdir()) == sorted(path.name for path, _ in targets)
        assert [done for done, _ in messages] == list(range(3, 3 + len(targets)))
        assert sorted(message for _, message in messages) == sorted(f"writing {path.name}"
                                                                     for path, _ in targets)
    for path in (tmp_path / "1").iterdir():
        assert path.read_bytes() == (tmp_path / "2" / path.name).read_bytes(), path.name


def test_a_pdf_a_worker_cannot_write_fails_as_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from disburse.errors import InputError
    from disburse.pipeline.month import _write_targets

    messages = []
    for workers in ("1", "2"):
        monkeypatch.setenv("DISBURSE_PDF_WORKERS", workers)
        out = tmp_path / workers
        out.mkdir()
        targets = _month_targets(out)
        missing = out / "gone"  # the worker cannot create its .partial in a folder that does not exist
        targets[2] = (missing / targets[2][0].name, targets[2][1])
        with pytest.raises(InputError) as raised:
            _write_targets(targets, lambda done, message: None)
        messages.append(str(raised.value).replace(str(out), "OUT"))
        assert not list(out.glob("*.partial"))  # nothing half-written is left behind
        assert (out / "first.txt").exists() and not (out / "last.txt.partial").exists()
    assert messages[0] == messages[1]
    assert "cannot be written (No such file or directory)" in messages[0]


def test_a_pdf_whose_worker_died_is_written_by_the_main_process(tmp_path: Path) -> None:
    """A worker killed by the system (out of memory) breaks the pool: the file is rendered here instead of
    ending the reconcile with a BrokenProcessPool error."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from disburse.pipeline.month import _waiting_for

    died: Future[None] = Future()
    died.set_exception(BrokenProcessPool("a worker was killed"))
    target = tmp_path / "discrepancies.pdf.partial"
    _waiting_for(died, lambda path: path.write_bytes(b"%PDF"))(target)
    assert target.read_bytes() == b"%PDF"

    failed: Future[None] = Future()
    failed.set_exception(OSError("disk full"))
    with pytest.raises(OSError, match="disk full"):
        _waiting_for(failed, lambda path: path.write_bytes(b"%PDF"))(tmp_path / "other.pdf.partial")
