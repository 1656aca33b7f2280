"""Writes the committed corpus of bad files (``tests/bad_files/``) and its manifest ``cases.csv``.

Each file is a small variant of a valid generated file, broken in one way a post office, a department or a
spreadsheet breaks files. ``cases.csv`` says how each must end: ``refused`` (exit 2, a message naming the
file and containing ``says``) or ``accepted`` (imported whole). Run again only to change the corpus:

    .venv/bin/python tests/bad_files/make_corpus.py
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from disburse.fixtures.dialects import _file_columns, encode_text, write_events, write_orders, write_payouts
from disburse.fixtures.generate import generate, ward_codes
from disburse.profile import ProvinceProfile, pilot_provinces

HERE = Path(__file__).parent
PERIOD = "2026-10"
LINES = 3

Case = tuple[str, str, str, str, str, str]  # file, kind, province, period, outcome, says
cases: list[Case] = []


def case(name: str, kind: str, outcome: str, says: str, province: str = "", period: str = PERIOD) -> Path:
    cases.append((name, kind, province, period if kind == "payouts" else "", outcome, says))
    return HERE / name


def footer_of(frame: pl.DataFrame) -> tuple[int, int]:
    return int(frame["amount_paid_vnd"].sum()), int(frame["fee_vnd"].fill_null(0).sum())


def valid_text(profile: ProvinceProfile, frame: pl.DataFrame, tmp: Path) -> str:
    """The file a post office sends, decoded to text (lines joined by CRLF, as written)."""
    path = tmp / f"{profile.dialect}.txt"
    write_payouts(frame, profile, path, footer_of(frame))
    return path.read_bytes().decode("utf-8-sig" if profile.encoding == "utf-8-sig" else profile.encoding)


def text_cases(profile: ProvinceProfile, frame: pl.DataFrame, other: pl.DataFrame, tmp: Path) -> None:
    code, d, ext = profile.province_code, profile.dialect, "tsv" if profile.delimiter == "\t" else "csv"
    text = valid_text(profile, frame, tmp)
    lines = text.replace("\r\n", "\n").split("\n")
    sep = profile.delimiter

    def save(name: str, content: str, outcome: str, says: str, encoding: str | None = None) -> None:
        case(f"{d}_{name}.{ext}", "payouts", outcome, says, code).write_bytes(
            encode_text(content, encoding or profile.encoding)
            if (encoding or profile.encoding) != "utf-8-sig"
            else content.encode("utf-8-sig")
        )

    table = list(csv.reader(io.StringIO(text), delimiter=sep))

    def joined(rows: list[list[str]]) -> str:
        out = io.StringIO()
        csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows(rows)
        return out.getvalue()

    def cell(row: int, column: str, value: str) -> str:
        rows = [list(r) for r in table]
        rows[row][rows[0].index(column)] = value
        return joined(rows)

    columns = {field: header for header, field in profile.columns.items()}
    rng = random.Random(code)
    case(f"{d}_random_bytes.{ext}", "payouts", "refused", "", code).write_bytes(rng.randbytes(700))
    cut = len(lines[0]) + len(lines[1]) + len(lines[2]) // 2
    save("truncated_mid_row", text[:cut], "refused", "")
    save("header_only", lines[0] + "\r\n", "refused", "no payout lines")
    case(f"{d}_empty.{ext}", "payouts", "refused", "empty", code).write_bytes(b"")
    case(f"{d}_blank_lines.{ext}", "payouts", "refused", "empty", code).write_bytes(b"\r\n\r\n  \r\n")
    save("negative_amount", cell(2, columns["amount_paid_vnd"], "-500000"), "refused", "negative amount")
    fractional = {"dot_thousands": "500.000,5", "comma_thousands": "500,000.5", "plain": "500000.5"}
    save("fractional_amount", cell(2, columns["amount_paid_vnd"], fractional[profile.amount_format]),
         "refused", "fractional amount")
    save("text_amount", cell(2, columns["amount_paid_vnd"], "năm trăm nghìn"), "refused", "not a number")
    impossible = date(2026, 2, 28).strftime(profile.date_format).replace("28", "31")
    save("impossible_date", cell(2, columns["paid_on"], impossible), "refused", "not a date")
    save("formula_amount", cell(2, columns["amount_paid_vnd"], "=SUM(F2:F3)"), "refused", "not a number")
    save("error_cell_date", cell(2, columns["paid_on"], "#VALUE!"), "refused", "not a date")
    save("unknown_status", cell(2, columns["status"], "??"), "refused", "unknown status")
    amount = table[0].index(columns["amount_paid_vnd"])
    save("missing_column", joined([[c for i, c in enumerate(r) if i != amount] for r in table]), "refused",
         "lacks the column")
    save("extra_column", joined([[*r, "ghi chú"] for r in table]), "accepted", "")
    save("duplicated_column", joined([[*r, r[amount]] for r in table]), "refused", "times")
    save("duplicated_line", "\r\n".join([*lines[:2], lines[1], *lines[2:]]), "refused", "duplicate payout_id")
    save("unbalanced_quote", "\r\n".join([*lines[:2], '"' + lines[2], *lines[3:]]), "refused", "")
    long_id = "GD" + "9" * 5000
    save("enormous_payout_id", cell(1, columns["payout_id"], long_id), "refused", "characters")
    save("enormous_name", cell(1, columns["full_name"], "Nguyễn " * 3_000), "accepted", "")
    save("nul_bytes", cell(1, columns["full_name"], "Ng\x00uyễn"), "refused", "NUL character")
    # NFC and NFD mixed, in the header and the cells; the ledger gets NFC.
    mixed = [unicodedata.normalize("NFD" if i % 2 else "NFC", line) for i, line in enumerate(lines)]
    save("nfc_nfd_mixed", "\r\n".join(mixed), "accepted", "")
    # Another province's lines (its wards) in this dialect; this month's lines dated in September.
    save("other_province", valid_text(profile, other, tmp), "refused", "wards of province")
    september = frame.with_columns(pl.col("paid_on").dt.offset_by("-1mo"))
    save("other_period", valid_text(profile, september, tmp), "refused", "2026-09")
    if profile.encoding == "cp1258":
        save("saved_as_utf8", text, "refused", "UTF-8", encoding="utf-8")
    else:
        save("saved_as_cp1258", text, "refused", "", encoding="cp1258")
        save("latin1_mojibake", text.encode("utf-8").decode("latin-1"), "refused", "", encoding="utf-8")
    if profile.control_footer is not None:
        save("footer_lost", "\r\n".join(lines[:-2]) + "\r\n", "refused", "control totals")
        save("footer_garbled", cell(len(table) - 1, columns["amount_paid_vnd"], "abc"), "refused", "row")


def sheet_rows(profile: ProvinceProfile, frame: pl.DataFrame) -> tuple[list[str], list[list[Any]]]:
    cells = frame.select(_file_columns(frame, profile, as_text=False))
    return cells.columns, [list(r) for r in cells.iter_rows()]


def write_sheet(
    path: Path,
    profile: ProvinceProfile,
    header: list[str],
    rows: list[list[Any]],
    *,
    sheet: str | None = None,
    special: Callable[[Any, int, int], bool] | None = None,
) -> None:
    """Cells as the post office's sheet has them; ``special(sheet, r, c)`` writes a cell itself (formulas,
    error cells) and says so."""
    book = xlsxwriter.Workbook(str(path), {"default_date_format": "dd/mm/yyyy"})
    book.set_properties({"created": date(2026, 11, 1)})
    ws = book.add_worksheet(sheet or profile.sheet or "Sheet1")
    top = profile.header_row - 1
    ws.write_row(top, 0, header)
    for r, row in enumerate(rows, start=top + 1):
        for c, value in enumerate(row):
            if special is not None and special(ws, r, c):
                continue
            if value is not None:
                ws.write(r, c, value)
    book.close()


def sheet_cases(profile: ProvinceProfile, frame: pl.DataFrame, tmp: Path) -> None:
    code, d = profile.province_code, profile.dialect
    header, rows = sheet_rows(profile, frame)
    if profile.control_footer is not None:
        paid, fee = footer_of(frame)
        total = dict.fromkeys(header)
        total[header[0]] = profile.control_footer.label
        fields = {h: f for h, f in profile.columns.items()}
        for h in header:
            if fields[h] == "amount_paid_vnd":
                total[h] = paid
            if fields[h] == "fee_vnd":
                total[h] = fee
        rows = [*rows, [total[h] for h in header]]
    col = {f: header.index(h) for h, f in profile.columns.items()}
    top = profile.header_row  # 0-based index of the first data row

    def variant(name: str, outcome: str, says: str, change: Callable[[list[list[Any]]], None] | None = None,
                **kw: Any) -> None:
        changed = [list(r) for r in rows]
        if change is not None:
            change(changed)
        write_sheet(case(f"{d}_{name}.xlsx", "payouts", outcome, says, code), profile, header, changed, **kw)

    def put(field: str, value: Any) -> Callable[[list[list[Any]]], None]:
        def change(r: list[list[Any]]) -> None:
            r[1][col[field]] = value

        return change

    valid = tmp / f"{d}.xlsx"
    write_sheet(valid, profile, header, rows)
    data = valid.read_bytes()
    noise = random.Random(d).randbytes(900)
    case(f"{d}_random_bytes.xlsx", "payouts", "refused", "", code).write_bytes(noise)
    case(f"{d}_truncated.xlsx", "payouts", "refused", "", code).write_bytes(data[: len(data) // 2])
    case(f"{d}_empty.xlsx", "payouts", "refused", "empty", code).write_bytes(b"")
    case(f"{d}_csv_named_xlsx.xlsx", "payouts", "refused", "", code).write_bytes(
        ";".join(header).encode("utf-8")
    )
    zipped = case(f"{d}_zip_without_workbook.xlsx", "payouts", "refused", "", code)
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    variant("header_only", "refused", "no payout lines", lambda r: r.clear())
    variant("negative_amount", "refused", "negative amount", put("amount_paid_vnd", -500000))
    variant("fractional_amount", "refused", "fractional amount", put("amount_paid_vnd", 500000.5))
    variant("text_amount", "refused", "not a number", put("amount_paid_vnd", "năm trăm nghìn"))
    variant("text_date", "refused", "not a date", put("paid_on", "31/02/2026"))
    variant("missing_amount", "refused", "missing value", put("amount_paid_vnd", None))
    # a profile without a sheet name reads the first sheet, whatever its name
    variant("wrong_sheet", "refused" if profile.sheet else "accepted", "no sheet", sheet="Trang tính 1")

    def error_cell(ws: Any, r: int, c: int) -> bool:
        if (r, c) == (top + 1, col["amount_paid_vnd"]):
            ws.write_formula(r, c, "=1/0", None, "#DIV/0!")
            return True
        return False

    variant("error_cell_amount", "refused", "missing value", special=error_cell)

    def formula_cell(ws: Any, r: int, c: int) -> bool:
        if (r, c) == (top + 1, col["amount_paid_vnd"]):
            value = rows[1][c]
            ws.write_formula(r, c, f"={value}*1", None, value)  # a formula whose cached value is right
            return True
        return False

    variant("formula_with_value", "accepted", "", special=formula_cell)

    missing = next(h for h, f in profile.columns.items() if f == "amount_paid_vnd")
    keep = [i for i, h in enumerate(header) if h != missing]
    write_sheet(case(f"{d}_missing_column.xlsx", "payouts", "refused", "lacks the column", code), profile,
                [header[i] for i in keep], [[r[i] for i in keep] for r in rows])
    write_sheet(case(f"{d}_duplicated_column.xlsx", "payouts", "refused", "times", code), profile,
                [*header, missing], [[*r, r[col["amount_paid_vnd"]]] for r in rows])
    nfd = [[unicodedata.normalize("NFD", v) if isinstance(v, str) and i % 2 else v for v in r]
           for i, r in enumerate(rows)]
    write_sheet(case(f"{d}_nfc_nfd_mixed.xlsx", "payouts", "accepted", "", code), profile, header, nfd)
    if profile.control_footer is not None:
        write_sheet(case(f"{d}_footer_lost.xlsx", "payouts", "refused", "control totals", code), profile,
                    header, rows[:-1])


def department_cases(orders: pl.DataFrame, events: pl.DataFrame, tmp: Path) -> None:
    path = tmp / "orders.csv"
    write_orders(orders, path)
    text = path.read_text("utf-8")
    lines = text.splitlines()
    header = lines[0].split(",")

    def save(name: str, content: str, outcome: str, says: str) -> None:
        case(f"orders_{name}.csv", "orders", outcome, says).write_text(content, "utf-8")

    def cell(row: int, column: str, value: str) -> str:
        out = list(lines)
        cells = out[row].split(",")
        cells[header.index(column)] = value
        out[row] = ",".join(cells)
        return "\n".join(out) + "\n"

    case("orders_random_bytes.csv", "orders", "refused", "").write_bytes(random.Random(7).randbytes(500))
    save("header_only", lines[0] + "\n", "refused", "no rows")
    save("zero_amount", cell(1, "amount_vnd", "0"), "refused", "must be > 0")
    save("fractional_amount", cell(1, "amount_vnd", "1500000.5"), "refused", "fractional amount")
    save("negative_amount", cell(1, "amount_vnd", "-1500000"), "refused", "negative amount")
    save("unknown_province", cell(1, "province_code", "99"), "refused", "no profile")
    save("bad_covers", cell(1, "covers", "2026-13"), "refused", "covers")
    save("impossible_birth_date", cell(1, "birth_date", "1950-02-30"), "refused", "not a date")
    save("two_periods", cell(1, "period", "2026-09"), "refused", "one period")
    save("duplicate_order_id", "\n".join([*lines, lines[1]]) + "\n", "refused", "duplicate order_id")
    save("missing_column", "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 0)
                                     for line in lines) + "\n", "refused", "lacks the column")
    save("nfc_nfd_mixed", unicodedata.normalize("NFD", text), "accepted", "")
    noise = random.Random(8).randbytes(400)
    case("orders_random_bytes.parquet", "orders", "refused", "Parquet").write_bytes(noise)
    case("orders_not_a_table.txt", "orders", "refused", "unknown file type").write_text(text, "utf-8")
    xlsx = tmp / "orders.xlsx"
    write_orders(orders, xlsx)
    data = xlsx.read_bytes()
    case("orders_truncated.xlsx", "orders", "refused", "").write_bytes(data[: len(data) * 2 // 3])

    events_path = tmp / "events.csv"
    write_events(events, events_path)
    ev = events_path.read_text("utf-8").splitlines()
    case("events_header_only.csv", "events", "accepted", "").write_text(ev[0] + "\n", "utf-8")
    case("events_unknown_event.csv", "events", "refused", "unknown event").write_text(
        "\n".join([ev[0], ev[1].replace(ev[1].split(",")[2], "DEAD")]) + "\n", "utf-8"
    )
    case("events_impossible_date.csv", "events", "refused", "not a date").write_text(
        "\n".join([ev[0], ",".join([*ev[1].split(",")[:3], "2026-02-30"])]) + "\n", "utf-8"
    )
    case("events_random_bytes.csv", "events", "refused", "").write_bytes(random.Random(9).randbytes(300))


def main() -> None:
    import tempfile

    for old in HERE.iterdir():
        if old.suffix in (".csv", ".tsv", ".xlsx", ".parquet", ".txt"):
            old.unlink()
    [month] = list(generate(PERIOD, 1, 100, 3))
    by_code = pilot_provinces()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for code, profile in sorted(by_code.items()):
            frame = month.payouts[code].filter(pl.col("status") == "PAID").head(LINES)
            # another province's lines: same shape, wards of the next pilot province
            other_code = sorted(by_code)[(sorted(by_code).index(code) + 1) % len(by_code)]
            wards = ward_codes(other_code)
            other = frame.with_columns(pl.Series("ward_code", [wards[i] for i in range(frame.height)]))
            if profile.container == "csv":
                text_cases(profile, frame, other, tmp)
            else:
                sheet_cases(profile, frame, tmp)
        department_cases(month.orders.head(4), month.events.head(2), tmp)
    with (HERE / "cases.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["file", "kind", "province", "period", "outcome", "says"])
        writer.writerows(sorted(cases))


if __name__ == "__main__":
    main()
