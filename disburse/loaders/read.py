"""File → raw table: every cell as text, plus the row number a person opening the file would see.

Only file-level problems are raised here (as ``InputError``); cell-level problems are left for the
parsers so that they become reject rows.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import blake3
import fastexcel
import polars as pl

from disburse.errors import InputError
from disburse.loaders.clean import ROW, TYPED_PREFIX, aligned, chunked_like, clean, clean_and_ask

__all__ = [
    "ROW",
    "CsvCells",
    "RawTable",
    "TypedKind",
    "drop_blank_rows",
    "raw_table",
    "read_csv",
    "read_csv_cells",
    "read_parquet",
    "read_xlsx",
]

TypedKind = Literal["float", "date"]


# blake3 releases the GIL: a file's digest is computed while polars parses and checks it.
_HASHER: Final = ThreadPoolExecutor(max_workers=1, thread_name_prefix="disburse-digest")


@dataclass(frozen=True)
class RawTable:
    """Cells as text (empty → null; trimmed and in NFC where needed, see ``clean``) under the file's own
    header names, plus ``ROW``."""

    path: Path
    digest: Future[str] | str  # model.FILE_DIGEST_ALGO hex of the bytes; a future while it is being computed
    frame: pl.DataFrame
    headers: tuple[str, ...]  # in file order
    typed: dict[str, str] = field(default_factory=dict)  # header -> column holding the typed re-read
    answers: dict[str, bool] = field(default_factory=dict)  # read_csv's ``questions``, answered

    @property
    def file_digest(self) -> str:
        return self.digest if isinstance(self.digest, str) else self.digest.result()


def typed_column(header: str) -> str:
    return f"{TYPED_PREFIX}{header}"


def _open(path: Path, *, head_only: bool = False) -> bytes:
    """The file's bytes (or, with ``head_only``, its first 64 KiB: enough to tell it is not empty)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(1 << 16) if head_only else handle.read()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; check the path and try again.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); check the file's permissions.") from None
    if not data or (data.isspace() and (not head_only or path.stat().st_size == len(data))):
        raise InputError(f"{path.name}: the file is empty; ask the sender for the complete file.")
    return data


def _file_digest(path: Path, seen: os.stat_result | None = None) -> str:
    """The file's digest (``model.FILE_DIGEST_ALGO``), hashed from a memory map of it in one call, which
    gives up the GIL once. Hashed block by block, the thread gives the GIL back and takes it again for each
    block, and while the main thread runs Python each taking waits up to the switch interval (5 ms): sha256
    of a 127 MB file by 256 KiB blocks took 5 s beside a thread looping in Python, against 0.09 s alone
    (BLAKE3 of a map of it: 27 ms and 22 ms). Polars maps the file it reads in the same way, so a file cut
    short by another program while it is read or hashed ends the process (SIGBUS) in either: before the
    import's transaction begins, so nothing is half-imported. ``seen``: the file's status when polars read
    it: an InputError if the file hashed (before or after hashing) is no longer that file."""

    def same(now: os.stat_result) -> bool:
        return seen is None or (now.st_size, now.st_mtime_ns, now.st_ino) == (
            seen.st_size,
            seen.st_mtime_ns,
            seen.st_ino,
        )

    digest = _mapped_digest(path) if same(path.stat()) else None
    if digest is None or not same(path.stat()):
        raise InputError(f"{path.name}: the file changed while it was read; import it again.")
    return digest


def _mapped_digest(path: Path) -> str:
    try:
        return blake3.blake3().update_mmap(path).hexdigest()
    except OSError:  # a file that cannot be mapped (some network or special file systems): read it whole
        return bytes_digest(_open(path))


def bytes_digest(data: bytes) -> str:
    """The digest (``model.FILE_DIGEST_ALGO``) of bytes already read (one call: the GIL is released once)."""
    return blake3.blake3(data).hexdigest()


def file_sha256(path: Path) -> str:
    """The sha256 of the file as it is now: how ledgers identified files before migration 0003, asked only
    of a ledger that holds such batches (see ``ledger.batches.find_active``)."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise InputError(f"{path.name}: cannot be read again ({exc.strerror}); import it again.") from None


def read_bytes(path: Path) -> tuple[bytes, str]:
    """The file's bytes and their digest; a missing or unreadable file is the user's to fix."""
    data = _open(path)
    return data, bytes_digest(data)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_to_utf8(data: bytes, encoding: str, path: Path) -> bytes | None:
    """Polars reads UTF-8 only: other code pages are decoded here (C speed, whole buffer at once).
    None: the bytes are UTF-8 already and polars can read the file itself."""
    codec = encoding.lower().replace("_", "-")
    if codec in ("utf-8", "utf8", "utf-8-sig"):
        return None
    if not data.isascii() and _is_utf8(data):
        # Every byte string decodes in a single-byte code page, into mojibake: UTF-8 text saved under a
        # cp1258 profile would load with garbled names instead of failing. Real cp1258 Vietnamese text is
        # never valid UTF-8 (its lone high bytes do not form UTF-8 sequences).
        raise InputError(
            f"{path.name}: the file is UTF-8 text, not {encoding} as this province's format expects; "
            f"ask the sender to save it again as {encoding}, or check the province."
        )
    try:
        return data.decode(codec).encode("utf-8")
    except LookupError:
        raise InputError(f"{path.name}: the profile names an unknown encoding {encoding!r}.") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name}: byte {exc.start} is not valid {encoding}; "
            f"ask the sender to save the file again as {encoding}."
        ) from None


def drop_blank_rows(frame: pl.DataFrame, headers: tuple[str, ...]) -> pl.DataFrame:
    """Rows without a single non-empty cell are spacing, not data (a person would not count them)."""
    if not headers:
        return frame
    blank = ~pl.any_horizontal([pl.col(h).is_not_null() for h in headers])
    if not frame.select(blank.any()).item():
        return frame
    return aligned(frame.filter(~blank))


NfcColumns = Callable[[tuple[str, ...]], Collection[str]]


Questions = Callable[[tuple[str, ...]], Mapping[str, pl.Expr]]


@dataclass(frozen=True)
class CsvCells:
    """A CSV file as polars read it: every cell as text, the ``dictionary`` columns Categorical (each with
    categories of its own), no row number yet."""

    path: Path
    digest: Future[str] | str
    frame: pl.DataFrame
    header_row: int

    @property
    def file_digest(self) -> str:
        return self.digest if isinstance(self.digest, str) else self.digest.result()


def read_csv_cells(
    path: Path,
    *,
    encoding: str,
    delimiter: str,
    header_row: int,
    dictionary: Callable[[tuple[str, ...]], Collection[str]] | None = None,
) -> CsvCells:
    """``dictionary(headers)``: columns to read dictionary-encoded (Categorical). The CSV reader interns
    their cells as it parses (7 such columns cost about 10 ms of CPU on 1M lines), so that a column with
    few distinct cells (amounts, dates, statuses) is checked and parsed once per distinct cell instead of
    once per line. Not for a column of mostly distinct cells: interning 1M names costs half a second."""
    codec = encoding.lower().replace("_", "-")
    if codec in ("utf-8", "utf8", "utf-8-sig"):
        # polars maps the file itself; the hashing thread reads it a second time once polars has read it
        # (while polars reads, both cores are busy; the checks that follow leave gaps the hashing fills)
        head = _open(path, head_only=True)
        seen: os.stat_result | None = path.stat()
        digest: Future[str] | None = None
        utf8 = None
    else:
        data = _open(path)
        seen = None
        digest = _HASHER.submit(bytes_digest, data)
        utf8 = _decode_to_utf8(data, encoding, path)
        head = (utf8 if utf8 is not None else data)[: 1 << 16]
    options: dict[str, Any] = {
        "separator": delimiter,
        "infer_schema": False,  # every cell as text: the parsers report what they cannot read
        "skip_rows": header_row - 1,
        "has_header": True,
    }
    # polars before 1.32 has no categories of a column's own (``pl.Categories``): all cells as text there
    wanted = dictionary(_head_columns(head, options)) if dictionary and hasattr(pl, "Categories") else ()
    try:
        frame = pl.read_csv(
            path if utf8 is None else io.BytesIO(utf8),  # a path lets polars map the file
            schema_overrides={h: pl.Categorical(pl.Categories.random()) for h in wanted} or None,
            **options,
        )
    except pl.exceptions.NoDataError:
        raise InputError(
            f"{path.name}: the file has no header row; ask the sender for the complete file."
        ) from None
    except pl.exceptions.ComputeError as exc:
        first = str(exc).splitlines()[0]
        raise InputError(
            f"{path.name}: cannot be read as {encoding} text separated by {delimiter!r} ({first}); "
            "check that the file was saved in the expected format."
        ) from None
    if digest is None:
        digest = _HASHER.submit(_file_digest, path, seen)
    return CsvCells(path, digest, frame, header_row)


def _head_columns(head: bytes, options: Mapping[str, Any]) -> tuple[str, ...]:
    """The header of a file from its first bytes (a header-only ``read_csv`` of the path would scan it
    all); () if they do not read (the full read then reports why)."""
    whole_lines = head[: head.rfind(b"\n") + 1] or head  # not a UTF-8 sequence cut in two
    try:
        return tuple(pl.read_csv(io.BytesIO(whole_lines), n_rows=0, **options).columns)
    except Exception:  # polars raises several unrelated types for a damaged head
        return ()


def raw_table(
    cells: CsvCells, nfc_columns: NfcColumns | None = None, questions: Questions | None = None
) -> RawTable:
    """``nfc_columns(headers)``: the columns that need NFC (default all), see ``clean``.
    ``questions(headers)``: boolean conditions on the raw cells (before trimming and NFC), answered in
    clean's first pass over the frame (``RawTable.answers``: whether each holds on some row)."""
    frame = _as_text(cells.frame)
    headers = tuple(frame.columns)
    # Blank lines are kept by polars as all-null rows, so the index maps straight to the file's line.
    frame = frame.with_row_index(ROW, offset=cells.header_row + 1).with_columns(pl.col(ROW).cast(pl.Int64))
    nfc = nfc_columns(headers) if nfc_columns else None
    cleaned, answers = clean_and_ask(frame, nfc, questions(headers) if questions else None)
    return RawTable(cells.path, cells.digest, cleaned, headers, answers=answers)


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Dictionary-encoded columns back to text: each code looked up in its column's categories (a fifth of
    the cost of a cast), chunked like the other columns."""
    categories = {
        c: t.categories.to_series() for c, t in frame.schema.items() if isinstance(t, pl.Categorical)
    }
    if not categories:
        return frame
    text = frame.select([pl.lit(s).gather(pl.col(c).to_physical()).alias(c) for c, s in categories.items()])
    chunks = frame.get_column(frame.columns[0]).chunk_lengths()
    return frame.with_columns([chunked_like(column, chunks) for column in text.get_columns()])


def read_csv(
    path: Path,
    *,
    encoding: str,
    delimiter: str,
    header_row: int,
    nfc_columns: NfcColumns | None = None,
    questions: Questions | None = None,
) -> RawTable:
    """Every cell as text; see ``raw_table`` for ``nfc_columns`` and ``questions``."""
    cells = read_csv_cells(path, encoding=encoding, delimiter=delimiter, header_row=header_row)
    return raw_table(cells, nfc_columns, questions)


def read_xlsx(
    path: Path,
    *,
    sheet: str | None,
    header_row: int,
    typed: Callable[[tuple[str, ...]], dict[str, TypedKind]] | None = None,
    expected_headers: tuple[str, ...] = (),
) -> RawTable:
    """Read a sheet twice if needed: all cells as text (to show bad values), and the columns that
    ``typed(headers)`` names as numbers/dates (so a number cell is never rebuilt from its float text).

    Each read parses the whole sheet (seconds for a province's month), so the typed read starts at once, on a
    thread, for the columns ``typed(expected_headers)`` names (the profile's headers); it is used only if
    the sheet's headers name the same columns, else the typed read is done again for the real ones."""
    _, digest = read_bytes(path)
    try:
        reader = fastexcel.read_excel(path)
    except fastexcel.FastExcelError as exc:
        raise InputError(
            f"{path.name}: not a readable XLSX workbook ({str(exc).splitlines()[0]}); check that the "
            "province is right for this file, or save it again as .xlsx."
        ) from None
    target: str | int = sheet if sheet is not None else 0
    if sheet is not None and sheet not in reader.sheet_names:
        raise InputError(
            f"{path.name}: has no sheet {sheet!r} (sheets: {', '.join(reader.sheet_names)}); "
            "rename the sheet or use the right profile."
        )
    guessed = _typed_guess(typed, expected_headers)
    early = _XLSX_TYPED.submit(_typed_sheet, path, target, header_row, guessed) if guessed else None
    try:
        text = reader.load_sheet(target, header_row=header_row - 1, dtypes="string").to_polars()
    except fastexcel.FastExcelError as exc:
        raise InputError(f"{path.name}: the sheet cannot be read from row {header_row} ({exc}).") from None
    headers = tuple(str(h) for h in text.columns)
    frame = text.with_row_index(ROW, offset=header_row + 1).with_columns(pl.col(ROW).cast(pl.Int64))
    typed_cols: dict[str, str] = {}
    wanted = {h: kind for h, kind in (typed(headers) if typed else {}).items() if h in headers}
    if wanted:
        numbers = _early_result(early) if wanted == guessed else None
        if numbers is None:
            try:
                numbers = _typed_sheet(path, target, header_row, wanted)
            except fastexcel.FastExcelError as exc:
                raise InputError(
                    f"{path.name}: the sheet cannot be read from row {header_row} ({exc})."
                ) from None
        if numbers.height != frame.height:
            raise InputError(f"{path.name}: the sheet's rows are inconsistent; save the workbook again.")
        typed_cols = {h: typed_column(h) for h in wanted}
        frame = frame.with_columns([numbers.get_column(h).alias(typed_cols[h]) for h in wanted])
    elif early is not None:
        _early_result(early)  # not needed: only waited for
    return RawTable(path, digest, clean(frame), headers, typed_cols)


_XLSX_TYPED: Final = ThreadPoolExecutor(max_workers=1, thread_name_prefix="disburse-xlsx")


def _typed_guess(
    typed: Callable[[tuple[str, ...]], dict[str, TypedKind]] | None, expected_headers: tuple[str, ...]
) -> dict[str, TypedKind]:
    if typed is None or not expected_headers:
        return {}
    try:
        return typed(expected_headers)
    except InputError:  # the profile's own headers always resolve; a guess never decides anything
        return {}


def _early_result(early: Future[pl.DataFrame] | None) -> pl.DataFrame | None:
    """The early typed read, or None when it failed (then it is read again, and its error reported)."""
    if early is None:
        return None
    try:
        return early.result()
    except fastexcel.FastExcelError:
        return None


def _typed_sheet(
    path: Path, target: str | int, header_row: int, wanted: dict[str, TypedKind]
) -> pl.DataFrame:
    return (
        fastexcel.read_excel(path)
        .load_sheet(
            target,
            header_row=header_row - 1,
            use_columns=list(wanted),
            dtypes={h: ("date" if kind == "date" else "float") for h, kind in wanted.items()},
        )
        .to_polars()
    )


def read_parquet(path: Path) -> RawTable:
    """Parquet columns come typed: turn them into the text the CSV form would carry (dates ISO, lists
    comma-joined) so that one parser serves every container."""
    _, digest = read_bytes(path)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several unrelated types for a corrupt file
        raise InputError(f"{path.name}: not a readable Parquet file ({exc}); export it again.") from None
    as_text = [
        (
            pl.col(c).cast(pl.List(pl.String)).list.join(",")
            if isinstance(t, pl.List)
            else pl.col(c).cast(pl.String)
        )
        for c, t in frame.schema.items()
    ]
    frame = frame.select(as_text).with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    return RawTable(path, digest, clean(frame), tuple(c for c in frame.columns if c != ROW))
