"""Payout loaders: every dialect round-trips through its writer; every bad row and bad file is reported."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter
from blake3 import blake3
from polars.testing import assert_frame_equal

from disburse.errors import InputError
from disburse.fixtures.dialects import payout_filename, write_payouts
from disburse.loaders import payouts, read
from disburse.loaders.parse import ward_codes
from disburse.loaders.payouts import load_payouts
from disburse.profile import ProvinceProfile, all_profiles
from disburse.schema import CONTROL_TOTAL_SCHEMA, PAID_STATUSES, PAYOUT_SCHEMA, REJECT_SCHEMA

PERIOD = "2026-10"
DIALECTS = sorted(all_profiles())


def wards(n: int) -> list[str]:
    codes = ward_codes().to_list()
    return [codes[(i * 37) % len(codes)] for i in range(n)]


def canonical(profile: ProvinceProfile) -> pl.DataFrame:
    """Six lines covering every awkward case: zeros-led ids, CMND, arrears refs, proxy, unpaid, NFD-prone
    names with old/new tone placement."""
    paid = [1_500_000, 2_789_000, 500_000, 5_578_000, 0, 0]
    statuses = ["PAID", "PAID_PROXY", "PAID_HOME", "PAID", "UNPAID_ABSENT", "UNPAID_DECEASED"]
    fee = [profile.fee.fee_for(a) for a in paid]
    return pl.DataFrame(
        {
            "province_code": [profile.province_code] * 6,
            "period": [PERIOD] * 6,
            "payout_id": [f"GD{profile.province_code}{i:07d}" for i in range(1, 7)],
            "order_ref": [
                f"{profile.province_code}-202610-0000001",
                f"{profile.province_code}-202610-0000002",
                f"{profile.province_code}-202610-0000003",
                f"{profile.province_code}-202609-0000004|{profile.province_code}-202610-0000004",
                f"{profile.province_code}-202610-0000005",
                f"{profile.province_code}-202610-0000006",
            ],
            "beneficiary_id": [f"{profile.province_code}-NCC-{i:07d}" for i in range(1, 7)],
            "national_id": [
                "001234567890",
                "079123456789",
                "123456789",
                "048200001234",
                "075300009999",
                "019100000001",
            ],
            "full_name": [
                "Nguyễn Văn An",
                "Trần Thị Hoà",
                "Lê Đức Thịnh",
                "Phạm Thị Ễnh",
                "Đặng Quốc Việt",
                "Võ Thị Hòa",
            ],
            "amount_paid_vnd": paid,
            "fee_vnd": fee,
            "paid_on": [dt.date(2026, 10, d) for d in (1, 3, 5, 10)] + [None, None],
            "status": statuses,
            "receiver_national_id": [None, "079987654321", None, None, None, None],
            "ward_code": wards(6),
            "post_office_code": ["BC001", "BC002", "BC001", "BC003", "BC002", "BC001"],
        },
        schema=PAYOUT_SCHEMA,
    )


def expected_after_load(frame: pl.DataFrame, profile: ProvinceProfile) -> pl.DataFrame:
    """The documented normalisations: TCVN3 loses case (names title-cased); missing columns read as null."""
    mapped = set(profile.columns.values())
    out = frame
    if profile.name_encoding == "tcvn3":
        out = out.with_columns(pl.col("full_name").str.to_titlecase())
    return out.with_columns(
        [
            pl.lit(None, dtype=PAYOUT_SCHEMA[c]).alias(c)
            for c in PAYOUT_SCHEMA
            if c not in mapped and c not in ("province_code", "period")
        ]
    )


def write(
    tmp_path: Path, profile: ProvinceProfile, frame: pl.DataFrame, footer: tuple[int, int] | None = None
) -> Path:
    path = tmp_path / payout_filename(profile, PERIOD)
    write_payouts(frame, profile, path, footer)
    return path


def sums(frame: pl.DataFrame) -> tuple[int, int]:
    return int(frame["amount_paid_vnd"].sum()), int(frame["fee_vnd"].fill_null(0).sum())


@pytest.mark.parametrize("dialect", DIALECTS)
def test_round_trip_every_dialect(tmp_path: Path, dialect: str) -> None:
    profile = all_profiles()[dialect]
    frame = canonical(profile)
    path = write(tmp_path, profile, frame, sums(frame))
    loaded = load_payouts(path, profile, PERIOD)
    assert loaded.rejects.is_empty(), loaded.rejects
    assert loaded.rejects.schema == pl.Schema(REJECT_SCHEMA)
    assert_frame_equal(loaded.frame, expected_after_load(frame, profile))
    assert loaded.frame.schema == pl.Schema(PAYOUT_SCHEMA)
    assert loaded.file_digest == blake3(path.read_bytes()).hexdigest()
    assert loaded.digest_algo == "blake3"
    assert loaded.sha256() == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_footer_round_trips_into_control_totals(tmp_path: Path, dialect: str) -> None:
    profile = all_profiles()[dialect]
    frame = canonical(profile)
    paid, fee = sums(frame)
    loaded = load_payouts(write(tmp_path, profile, frame, (paid, fee)), profile, PERIOD)
    assert loaded.control_totals.schema == pl.Schema(CONTROL_TOTAL_SCHEMA)
    if profile.control_footer is None:
        assert loaded.control_totals.is_empty()
        return
    row = loaded.control_totals.row(0, named=True)
    assert row == {
        "province_code": profile.province_code,
        "period": PERIOD,
        "source_name": payout_filename(profile, PERIOD),
        "footer_paid_vnd": paid,
        "footer_fee_vnd": fee,
        "lines_paid_vnd": paid,
        "lines_fee_vnd": fee,
    }
    assert loaded.frame.height == frame.height  # the footer is not a payout line


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if all_profiles()[d].control_footer])
def test_footer_disagreeing_with_lines_shows(tmp_path: Path, dialect: str) -> None:
    profile = all_profiles()[dialect]
    frame = canonical(profile)
    paid, fee = sums(frame)
    loaded = load_payouts(write(tmp_path, profile, frame, (paid + 1_000_000, fee - 1)), profile, PERIOD)
    assert loaded.rejects.is_empty()
    row = loaded.control_totals.row(0, named=True)
    assert (row["footer_paid_vnd"], row["footer_fee_vnd"]) == (paid + 1_000_000, fee - 1)
    assert (row["lines_paid_vnd"], row["lines_fee_vnd"]) == (paid, fee)


# --- bad rows: one test per kind, on the hcm text dialect (and spreadsheet cells on danang) ---


def tamper(path: Path, old: str, new: str, encoding: str = "utf-8-sig") -> None:
    text = path.read_text(encoding=encoding)
    assert text.count(old) == 1, f"{old!r} must be unique in the file"
    path.write_text(text.replace(old, new), encoding=encoding)


def hcm_file(tmp_path: Path) -> tuple[ProvinceProfile, pl.DataFrame, Path]:
    profile = all_profiles()["hcm"]
    frame = canonical(profile)
    return profile, frame, write(tmp_path, profile, frame)


def single_reject(path: Path, profile: ProvinceProfile, total: int) -> dict[str, object]:
    loaded = load_payouts(path, profile, PERIOD)
    assert loaded.rejects.height == 1, loaded.rejects
    assert loaded.frame.height == total - 1  # nothing lost: the bad row is a reject, the others load
    return loaded.rejects.row(0, named=True)


@pytest.mark.parametrize(
    ("old", "new", "column", "value", "reason"),
    [
        ("03/10/2026", "31/02/2026", "Ngày chi", "31/02/2026", "not a date (dd/mm/yyyy)"),
        (";2.789.000;", ";-2.789.000;", "Số tiền", "-2.789.000", "negative amount"),
        (";2.789.000;", ";2.789.000,5;", "Số tiền", "2.789.000,5", "fractional amount: VND are whole"),
        (";2.789.000;", ";2.789.OOO;", "Số tiền", "2.789.OOO", "not a number (e.g. 1.500.000 expected)"),
        (";Ủy quyền;", ";Đã trả;", "Trạng thái", "Đã trả", None),
        (";79-NCC-0000002;", ";;", "Mã đối tượng", None, "missing value"),
        (";2.789.000;", ";0;", "Số tiền", "0", "paid status with amount 0"),
    ],
    ids=["bad-date", "negative", "fractional", "non-numeric", "unknown-status", "missing", "paid-zero"],
)
def test_bad_row_is_rejected(
    tmp_path: Path, old: str, new: str, column: str, value: str | None, reason: str | None
) -> None:
    profile, frame, path = hcm_file(tmp_path)
    tamper(path, old, new)
    reject = single_reject(path, profile, frame.height)
    assert (reject["file"], reject["row"], reject["column"], reject["value"]) == (path.name, 3, column, value)
    if reason is None:  # the status reason lists the expected words
        assert str(reject["reason"]).startswith("unknown status (expected one of Đã chi, Ủy quyền")
    else:
        assert reject["reason"] == reason


def test_unpaid_status_with_amount_is_rejected(tmp_path: Path) -> None:
    profile, frame, path = hcm_file(tmp_path)
    tamper(path, "Chi tại nhà", "Vắng mặt")  # a paid line (500.000) now says the person was absent
    reject = single_reject(path, profile, frame.height)
    assert (reject["row"], reject["column"], reject["value"], reject["reason"]) == (
        4,
        "Số tiền",
        "500.000",
        "unpaid status with an amount paid",
    )


def test_duplicate_payout_id_rejects_the_later_row(tmp_path: Path) -> None:
    profile, frame, path = hcm_file(tmp_path)
    tamper(path, "GD790000005", "GD790000002")
    reject = single_reject(path, profile, frame.height)
    assert reject == {
        "file": path.name,
        "row": 6,
        "column": "Mã GD",
        "value": "GD790000002",
        "reason": "duplicate payout_id (first on row 3)",
    }


def test_unknown_ward_code_is_rejected(tmp_path: Path) -> None:
    profile, frame, path = hcm_file(tmp_path)
    ward = frame["ward_code"][3]
    assert "99999" not in set(ward_codes().to_list())
    tamper(path, f";{ward};", ";99999;")
    reject = single_reject(path, profile, frame.height)
    assert (reject["row"], reject["column"], reject["value"], reject["reason"]) == (
        5,
        "Mã xã",
        "99999",
        "ward code unknown to the GSO list",
    )


def test_several_problems_in_one_row_give_several_rejects(tmp_path: Path) -> None:
    profile, frame, path = hcm_file(tmp_path)
    tamper(path, "05/10/2026", "5 Oct")
    tamper(path, ";500.000;", ";-500.000;")
    loaded = load_payouts(path, profile, PERIOD)
    assert loaded.rejects.select("row", "column").rows() == [(4, "Số tiền"), (4, "Ngày chi")]
    assert loaded.frame.height == frame.height - 1


def test_paid_line_without_date_is_rejected(tmp_path: Path) -> None:
    profile, frame, path = hcm_file(tmp_path)
    tamper(path, "01/10/2026", "")
    reject = single_reject(path, profile, frame.height)
    assert (reject["row"], reject["column"], reject["value"], reject["reason"]) == (
        2,
        "Ngày chi",
        None,
        "missing value",
    )


def test_spreadsheet_cells_that_are_not_whole_numbers(tmp_path: Path) -> None:
    profile = all_profiles()["danang"]
    frame = canonical(profile)
    path = write(tmp_path, profile, frame)
    # Rewrite the sheet with a text amount, a fractional number cell and a text date in a date column.
    cells: dict[str, dict[int, object]] = {
        "Số tiền": {0: "một triệu", 1: 2_789_000.5},
        "Ngày chi": {2: "05/10/2026"},
    }
    rewrite_danang(path, profile, frame, cells)
    loaded = load_payouts(path, profile, PERIOD)
    got = loaded.rejects.select("row", "column", "value", "reason").rows()
    assert got == [
        (6, "Số tiền", "một triệu", "not a number"),
        (7, "Số tiền", "2789000.5", "fractional amount: VND are whole"),
        (8, "Ngày chi", "05/10/2026", "not a date cell"),
    ]
    assert loaded.frame.height == frame.height - 3


def rewrite_danang(
    path: Path, profile: ProvinceProfile, frame: pl.DataFrame, cells: dict[str, dict[int, object]]
) -> None:
    """A hand-made danang sheet (as an officer editing the file would leave it)."""
    from disburse.fixtures.dialects import _file_columns

    table = frame.select(_file_columns(frame, profile, as_text=False))
    workbook = xlsxwriter.Workbook(str(path), {"default_date_format": "dd/mm/yyyy"})
    sheet = workbook.add_worksheet(profile.sheet or "Sheet1")
    sheet.write_row(profile.header_row - 1, 0, table.columns)
    for c, name in enumerate(table.columns):
        values = table[name].to_list()
        for r, v in cells.get(name, {}).items():
            values[r] = v
        sheet.write_column(profile.header_row, c, values)
    workbook.close()


def test_danang_national_id_number_cells_get_their_zeros_back(tmp_path: Path) -> None:
    profile = all_profiles()["danang"]
    frame = canonical(profile)
    loaded = load_payouts(write(tmp_path, profile, frame), profile, PERIOD)
    assert loaded.frame["national_id"].to_list()[:2] == ["001234567890", "079123456789"]


# --- file-level problems ---


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv"):
        load_payouts(tmp_path / "nope.csv", all_profiles()["hcm"], PERIOD)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.csv.*empty"):
        load_payouts(path, all_profiles()["hcm"], PERIOD)


def test_header_only_file_has_no_lines(tmp_path: Path) -> None:
    profile = all_profiles()["lamdong"]
    path = tmp_path / "h.csv"
    path.write_text(",".join(profile.columns) + "\n")
    with pytest.raises(InputError, match=r"h\.csv.*no payout lines"):
        load_payouts(path, profile, PERIOD)


def test_footer_without_lines_has_no_lines(tmp_path: Path) -> None:
    profile = all_profiles()["hcm"]
    path = write(tmp_path, profile, canonical(profile).clear(), (0, 0))
    with pytest.raises(InputError, match="no payout lines"):
        load_payouts(path, profile, PERIOD)


def test_header_missing_columns(tmp_path: Path) -> None:
    profile, _, path = hcm_file(tmp_path)
    tamper(path, "Số CCCD", "CCCD")
    with pytest.raises(InputError, match=rf"{path.name}.*'Số CCCD'"):
        load_payouts(path, profile, PERIOD)


def test_undecodable_cp1258_bytes(tmp_path: Path) -> None:
    profile = all_profiles()["dongnai"]
    path = write(tmp_path, profile, canonical(profile))
    path.write_bytes(path.read_bytes() + b"\x81\n")
    with pytest.raises(InputError, match=rf"{path.name}.*cp1258"):
        load_payouts(path, profile, PERIOD)


def test_invalid_utf8(tmp_path: Path) -> None:
    profile, _, path = hcm_file(tmp_path)
    path.write_bytes(path.read_bytes().replace("Nguyễn".encode(), b"Nguy\xff\xfen"))
    with pytest.raises(InputError, match=path.name):
        load_payouts(path, profile, PERIOD)


def test_unknown_sheet(tmp_path: Path) -> None:
    profile = all_profiles()["danang"]
    path = write(tmp_path, profile, canonical(profile))
    other = profile.model_copy(update={"sheet": "Sheet9"})
    with pytest.raises(InputError, match=rf"{path.name}.*Sheet9"):
        load_payouts(path, other, PERIOD)


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("not a zip")
    with pytest.raises(InputError, match=r"fake\.xlsx"):
        load_payouts(path, all_profiles()["danang"], PERIOD)


def test_every_paid_status_needs_a_date_but_unpaid_ones_do_not(tmp_path: Path) -> None:
    profile = all_profiles()["lamdong"]
    frame = canonical(profile)
    loaded = load_payouts(write(tmp_path, profile, frame), profile, PERIOD)
    unpaid = loaded.frame.filter(~pl.col("status").is_in(sorted(PAID_STATUSES)))
    assert unpaid["paid_on"].null_count() == unpaid.height == 2


def test_cells_padded_with_spaces_are_read_trimmed(tmp_path: Path) -> None:
    profile, frame, path = hcm_file(tmp_path)
    tamper(path, ";2.789.000;", "; 2.789.000 ;")
    tamper(path, "03/10/2026", "03/10/2026  ")
    tamper(path, "GD790000001", " GD790000001")
    loaded = load_payouts(path, profile, PERIOD)
    assert loaded.rejects.is_empty(), loaded.rejects
    assert_frame_equal(loaded.frame, frame)


def test_unreadable_footer_total_is_a_reject(tmp_path: Path) -> None:
    profile = all_profiles()["hcm"]
    frame = canonical(profile)
    path = write(tmp_path, profile, frame, (1_000_000, 6_600))
    tamper(path, ";1.000.000;6.600;", ";một triệu;6.600;")
    loaded = load_payouts(path, profile, PERIOD)
    assert loaded.rejects.select("row", "column", "value").rows() == [
        (frame.height + 2, "Số tiền", "một triệu")
    ]
    assert loaded.frame.height == frame.height


def test_nfd_and_old_tone_placement_status_words_are_understood(tmp_path: Path) -> None:
    import unicodedata

    profile, _, path = hcm_file(tmp_path)
    tamper(path, "Ủy quyền", unicodedata.normalize("NFD", "UỶ QUYỀN"))
    loaded = load_payouts(path, profile, PERIOD)
    assert loaded.rejects.is_empty()
    assert loaded.frame["status"][1] == "PAID_PROXY"


# --- the fast path of CSV files (``payouts._load_tidy``) gives exactly what the full path gives ---

CSV_DIALECTS = [d for d in DIALECTS if all_profiles()[d].container == "csv"]


def _nfd(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("full_name").str.normalize("NFD"))


def _same_names(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.lit("Nguyễn Thị Hoà").alias("full_name"))


def _cell(column: str, row: int, value: object) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def change(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
        )

    return change


def _tiled(frame: pl.DataFrame) -> pl.DataFrame:
    """The six lines ten times over under new payout ids: more lines than (status, amount, dated)
    combinations, so ``_status_ok`` looks each line's combination up in a table of them all."""
    copies = [frame.with_columns(pl.col("payout_id") + f"-{k}") for k in range(10)]
    return pl.concat(copies).sort("payout_id")


# variant -> (change to the canonical lines, whether the fast path takes the file)
FAST_VARIANTS: dict[str, tuple[Callable[[pl.DataFrame], pl.DataFrame], bool]] = {
    "as-written": (lambda frame: frame, True),
    "nfd-names": (_nfd, True),
    "unsorted-ids": (lambda frame: frame.reverse(), True),
    "non-ascii-id": (_cell("beneficiary_id", 2, "79-NCC-Đ01"), True),
    "name-double-space": (_cell("full_name", 1, "Trần  Thị Hoà"), False),
    "name-nbsp": (_cell("full_name", 1, "Trần\u00a0Thị Hoà"), False),
    "mark-without-letter": (_cell("full_name", 5, "Võ Thị X\u0301"), False),  # NFC keeps it decomposed
    "padded-id": (_cell("payout_id", 3, " GD-padded"), False),
    "empty-order-ref": (_cell("order_ref", 2, ""), False),
    "spaced-pipe": (_cell("order_ref", 3, "79-202609-0000004 | 79-202610-0000004"), False),
    "national-id-lost-zero": (_cell("national_id", 0, "1234567890"), False),
    "national-id-plus": (_cell("national_id", 0, "+12345678"), False),
    "duplicate-id": (lambda frame: frame.with_columns(pl.col("payout_id").gather([0, 1, 2, 3, 0, 5])), False),
    "paid-zero": (_cell("amount_paid_vnd", 0, 0), False),
    # sorted ids that repeat: found next to each other (``_tidy``'s "repeat")
    "duplicate-id-sorted": (
        lambda frame: frame.with_columns(pl.col("payout_id").gather([0, 1, 1, 3, 4, 5])),
        False,
    ),
    # a dictionary cell the full path rejects (no value in its column's table of distinct cells)
    "negative-amount": (_cell("amount_paid_vnd", 2, -500_000), False),
    "bad-receiver-id": (_cell("receiver_national_id", 1, "079-98"), False),
    # a status at odds with its amount, found by looking each line up in the table of every combination
    "many-lines": (_tiled, True),
    "many-lines-paid-zero": (lambda frame: _cell("amount_paid_vnd", 7, 0)(_tiled(frame)), False),
    "many-lines-unpaid-amount": (lambda frame: _cell("amount_paid_vnd", 40, 500_000)(_tiled(frame)), False),
    # names that repeat: composed and tested once per distinct name (``clean._repeats``)
    "names-repeat": (_same_names, True),
    "names-repeat-nfd": (lambda frame: _nfd(_same_names(frame)), True),
    "names-repeat-one-untidy": (
        lambda frame: _cell("full_name", 4, "Trần  Thị Hoà")(_same_names(frame)),
        False,
    ),
    "names-repeat-nfd-one-untidy": (
        lambda frame: _nfd(_cell("full_name", 4, "Trần Thị\tHoà")(_same_names(frame))),
        False,
    ),
}


@pytest.mark.parametrize("variant", sorted(FAST_VARIANTS))
@pytest.mark.parametrize("dialect", CSV_DIALECTS)
def test_fast_path_gives_what_the_full_path_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dialect: str, variant: str
) -> None:
    profile = all_profiles()[dialect]
    change, fast = FAST_VARIANTS[variant]
    frame = change(canonical(profile))
    path = write(tmp_path, profile, frame, sums(frame))
    taken: list[bool] = []
    tidy = payouts._load_tidy

    def spy(*args: Any) -> Any:
        result = tidy(*args)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(payouts, "_load_tidy", spy)
    loaded = load_payouts(path, profile, PERIOD)
    assert taken == [fast]
    monkeypatch.setattr(payouts, "_load_tidy", lambda *args: None)
    full = load_payouts(path, profile, PERIOD)
    assert_frame_equal(loaded.frame, full.frame)
    assert_frame_equal(loaded.rejects, full.rejects)
    assert_frame_equal(loaded.control_totals, full.control_totals)
    assert loaded.file_digest == full.file_digest


def test_header_is_read_from_a_head_cut_inside_a_letter() -> None:
    """The dictionary columns are chosen from the file's first 64 KiB, which may end inside a UTF-8
    letter: that must not cost the fast path."""
    head = "Mã GD;Số tiền\nGD1;1.000\nGD2;Tr".encode() + "ầ".encode()[:2]
    options = {"separator": ";", "infer_schema": False, "skip_rows": 0, "has_header": True}
    assert read._head_columns(head, options) == ("Mã GD", "Số tiền")


def test_a_file_changed_after_polars_read_it_is_not_given_the_new_digest(tmp_path: Path) -> None:
    """The UTF-8 file is hashed after polars has read it (``read_csv_cells``): a file changed meanwhile is
    refused rather than recorded under the digest of bytes that were not loaded."""
    path = tmp_path / "payouts.csv"
    path.write_bytes(b"a;b\n1;2\n")
    seen = path.stat()
    assert read._file_digest(path, seen) == blake3(b"a;b\n1;2\n").hexdigest()
    path.write_bytes(b"a;b\n1;2\n3;4\n")
    with pytest.raises(InputError, match="changed while it was read"):
        read._file_digest(path, seen)
