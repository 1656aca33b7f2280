"""The dialect writers produce the awkward parts of each post office's file (DOMAIN.md)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from test_loaders import PERIOD, canonical, write

from disburse.fixtures.dialects import inverse_status_words, payout_filename
from disburse.fixtures.model import GeneratedMonth
from disburse.fixtures.write import write_month
from disburse.loaders.events import load_events
from disburse.loaders.orders import load_orders
from disburse.loaders.payouts import load_payouts
from disburse.profile import ProvinceProfile, all_profiles, pilot_provinces
from disburse.schema import EVENT_SCHEMA, EXPECTED_SCHEMA, ORDER_SCHEMA, empty
from disburse.text import tcvn3_encode


def profile(name: str) -> ProvinceProfile:
    return all_profiles()[name]


def test_payout_filename() -> None:
    assert payout_filename(profile("hcm"), PERIOD) == "79_hcm_2026-10.csv"
    assert payout_filename(profile("danang"), PERIOD) == "48_danang_2026-10.xlsx"
    assert payout_filename(profile("dongnai"), PERIOD) == "75_dongnai_2026-10.tsv"


def test_inverse_status_words_take_the_first_word_listed() -> None:
    assert inverse_status_words(profile("hcm"))["PAID_PROXY"] == "Ủy quyền"
    assert inverse_status_words(profile("dongnai"))["UNPAID_DECEASED"] == "CH"


def test_hcm_csv(tmp_path: Path) -> None:
    p = profile("hcm")
    path = write(tmp_path, p, canonical(p), (10_367_000, 26_400))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw[3:].decode("utf-8").splitlines()
    assert lines[0].split(";") == list(p.columns)
    assert ";1.500.000;6.600;01/10/2026;Đã chi;" in lines[1]
    assert lines[-1].split(";")[0] == "Tổng cộng" and ";10.367.000;26.400;" in lines[-1]


def test_dongnai_cp1258_keeps_base_letters_and_combines_tones(tmp_path: Path) -> None:
    p = profile("dongnai")
    path = write(tmp_path, p, canonical(p))
    text = path.read_bytes().decode("cp1258")
    assert "\t" in text and "Tổng cộng" not in text
    assert "Nguye\u0302\u0303n" not in text and "Nguyê\u0303n" in text  # ê precomposed, tilde combining
    assert "\tDC\t" in text and "\t20261001\t" in text and "\t1500000\t" in text
    assert unicodedata.normalize("NFC", text).count("Phạm Thị Ễnh") == 1


def test_lamdong_nfd_and_quoted_amounts(tmp_path: Path) -> None:
    p = profile("lamdong")
    path = write(tmp_path, p, canonical(p))
    text = path.read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFD", text) and not unicodedata.is_normalized("NFC", text)
    assert ',"1,500,000",' in text and ",2026-10-01,PAID," in text


def test_danang_sheet_layout(tmp_path: Path) -> None:
    p = profile("danang")
    frame = canonical(p)
    path = write(tmp_path, p, frame, (1, 2))
    reader = fastexcel.read_excel(path)
    assert reader.sheet_names == ["KetQuaChiTra"]
    sheet = reader.load_sheet("KetQuaChiTra", header_row=None).to_polars()
    assert sheet.row(0)[0].startswith("BƯU ĐIỆN")
    assert list(sheet.row(4)) == list(p.columns)  # header on row 5
    typed = reader.load_sheet("KetQuaChiTra", header_row=4, n_rows=frame.height).to_polars()
    assert typed["STT"].head(2).to_list() == [1.0, 2.0]
    assert typed.schema["Số CCCD"] == pl.Float64 and typed["Số CCCD"][0] == 1234567890.0  # zeros lost
    assert typed.schema["Ngày chi"] == pl.Datetime("ms")
    assert typed.schema["Số tiền"] == pl.Float64
    footer = sheet.row(5 + frame.height)
    assert footer[0] == "Tổng cộng" and footer[6] == "1" and footer[7] == "2"


def test_thainguyen_tcvn3_names_and_no_ref_or_fee(tmp_path: Path) -> None:
    p = profile("thainguyen")
    frame = canonical(p)
    path = write(tmp_path, p, frame)
    sheet = fastexcel.read_excel(path).load_sheet(0, dtypes="string").to_polars()
    assert sheet.columns == list(p.columns)
    assert sheet["Ho ten"][0] == tcvn3_encode("Nguyễn Văn An") == "NguyÔn V¨n An"
    assert sheet["Ngay chi"][0] == "01-10-2026" and sheet["Trang thai"][0] == "Da chi"
    assert sheet["So CCCD"][2] == "123456789"  # a CMND stays as text


def test_write_month(tmp_path: Path) -> None:
    payouts = {code: canonical(p) for code, p in pilot_provinces().items()}
    footers = {
        code: (int(f["amount_paid_vnd"].sum()), int(f["fee_vnd"].sum())) for code, f in payouts.items()
    }
    expected = pl.DataFrame(
        {
            "code": ["PHANTOM_PAYOUT", "MISSING_RESULT"],
            "order_id": [None, "79-202610-0000009"],
            "payout_id": ["X", None],
        },
        schema=EXPECTED_SCHEMA,
    )
    month = GeneratedMonth(PERIOD, empty(ORDER_SCHEMA), empty(EVENT_SCHEMA), payouts, footers, expected)
    paths = write_month(month, tmp_path / "m")
    assert set(paths) == {"orders", "events", "expected"} | {f"payouts:{c}" for c in pilot_provinces()}
    assert paths["payouts:79"] == tmp_path / "m" / "payouts" / "79_hcm_2026-10.csv"
    assert load_events(paths["events"]).frame.is_empty()
    with pytest.raises(Exception, match="no rows"):
        load_orders(paths["orders"])
    got = pl.read_csv(paths["expected"])
    assert got.columns == ["code", "order_id", "payout_id"]
    assert got["code"].to_list() == ["MISSING_RESULT", "PHANTOM_PAYOUT"]
    for code, p in pilot_provinces().items():
        loaded = load_payouts(paths[f"payouts:{code}"], p, PERIOD)
        assert loaded.rejects.is_empty() and loaded.frame.height == payouts[code].height
