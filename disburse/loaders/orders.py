"""Department files: payment orders (ORDER_SCHEMA) and registry events (EVENT_SCHEMA), CSV/Parquet/XLSX.

A national orders file is about 5M lines, so the usual CSV file (nothing to trim, normalise or reject) takes a
fast path (``_load_tidy``) whose every test is a cheap proof that the full path would give the same frame;
the full path (``_load``) serves every other file, and parses the usual cell of each column cheaply too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from disburse.errors import InputError
from disburse.loaders import parse
from disburse.loaders.clean import chunked_like, clean
from disburse.loaders.columns import resolve_headers
from disburse.loaders.model import Loaded
from disburse.loaders.parse import Parsed
from disburse.loaders.read import (
    ROW,
    CsvCells,
    RawTable,
    drop_blank_rows,
    raw_table,
    read_csv,
    read_csv_cells,
    read_parquet,
    read_xlsx,
)
from disburse.loaders.rejects import Check, field_check, split
from disburse.profile import ProfileError, current_code
from disburse.schema import (
    EVENT_SCHEMA,
    ORDER_FILE_COLUMNS,
    ORDER_SCHEMA,
    REJECT_SCHEMA,
    RegistryEvent,
    Schema,
    conform,
    empty,
)

_ORDER_OPTIONAL = ("proxy_national_id", "proxy_name", "proxy_valid_until", "covers", "birth_date")
_EVENT_OPTIONAL = ("national_id",)
_PROGRAMS = ["BTXH", "NCC"]
_COVERS_REASON: Final = "covers must list periods (YYYY-MM,...)"


def _read(path: Path) -> RawTable:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, encoding="utf-8-sig", delimiter=",", header_row=1)
    if suffix == ".parquet":
        return read_parquet(path)
    if suffix == ".xlsx":
        return read_xlsx(path, sheet=None, header_row=1)
    raise InputError(f"{path.name}: unknown file type {suffix!r}; send the file as .csv, .parquet or .xlsx.")


# --- cell parsers ---
#
# The general parsers are ``parse``'s. Those whose passes cost most on a national file (regex replaces,
# zero-filling, lists) come as a ``Usual``: a cheap test proves, cell by cell, that the general parser would
# give the value computed cheaply, and only the other cells (a handful) go through the general parser.


@dataclass(frozen=True)
class Usual:
    """A parser for the usual cell of a column: ``value`` where ``usual`` holds (true for an empty cell too:
    nothing to parse), and ``general`` on the other rows only, which ``_parse`` gathers, parses and merges
    back (a mask would not do: polars' string kernels work through the masked cells all the same)."""

    usual: pl.Expr  # Boolean (null: not usual)
    value: pl.Expr  # ``general.value`` where ``usual`` holds
    general: Parsed  # the parser this stands for; its reason is every row's


def _general(parser: Parsed | Usual) -> Parsed:
    return parser.general if isinstance(parser, Usual) else parser


def _province(frame: pl.DataFrame, header: str) -> Parsed:
    """Legacy codes → current, decided once per distinct code (a file holds a handful)."""
    mapping: dict[str, str] = {}
    for code in frame.get_column(header).drop_nulls().unique().to_list():
        try:
            mapping[code] = current_code(code)
        except ProfileError:
            continue
    value = pl.col(header).replace_strict(mapping, default=None, return_dtype=pl.String)
    reason = pl.when(pl.col(header).is_not_null() & value.is_null()).then(
        pl.lit("province code has no profile")
    )
    return Parsed(value, reason)


def normal_national_id(raw: pl.Expr) -> pl.Expr:
    """9 or 12 ASCII digits, which ``text.normalise_national_id`` returns unchanged. Polars' unsigned cast
    reads exactly an optional "+" and ASCII digits (no space, sign, separator or other script's digit), and
    ``>= "0"`` rules the "+" out: cheaper than a regex. Null where ``raw`` is."""
    size = raw.str.len_bytes()
    return ((size == 9) | (size == 12)) & raw.cast(pl.UInt64, strict=False).is_not_null() & (raw >= "0")


def _national_id(raw: pl.Expr) -> Usual:
    return Usual(raw.is_null() | normal_national_id(raw), raw, parse.national_id(raw))


# Characters of names that NFC leaves alone and that cannot combine with a neighbour under it (ASCII, the
# precomposed Latin letters Vietnamese uses; checked against ``unicodedata`` by the tests), with the space as
# the only white space. (``clean``'s NFC_SUSPECTS cannot serve here: it misses the few NFC singletons and
# exclusions outside its ranges, e.g. U+1F71, U+0958, which ``text.nfc`` does change.)
_NAME_INNER: Final = r"  |[^ !-~\x{00C0}-\x{024F}\x{1E00}-\x{1EFF}]"


def untidy_name(raw: pl.Expr) -> pl.Expr:
    """False where ``text.nfc`` returns the name as it stands: no white space to collapse or trim, nothing
    NFC changes. The ends are tested apart (``< "!"``: empty, or a space or control character first):
    anchors in the regex would cost it half as much again. Null where ``raw`` is."""
    return (raw < "!") | raw.str.ends_with(" ") | raw.str.contains(_NAME_INNER)


def _name(raw: pl.Expr) -> Usual:
    """``parse.name`` without a probe: every name goes through ``text.nfc``."""
    return Usual(raw.is_null() | ~untidy_name(raw), raw, parse.name(raw))


def _ward_code(raw: pl.Expr) -> Usual:
    """``parse.ward_code`` without a probe: only digit runs shorter than 5 are padded."""
    usual = raw.is_null() | (raw.str.len_bytes() == 5)
    return Usual(usual, pl.when(raw.is_in(parse.ward_codes().implode())).then(raw), parse.ward_code(raw))


def _amount(raw: pl.Expr) -> Usual:
    """A positive ``parse.amount_text(raw, "plain")``. Polars' integer cast reads exactly [+-]?ASCII digits,
    so a cell it reads that does not start with a sign (``>= "0"``) is plain digits, read as the parser
    reads them."""
    as_int = raw.cast(pl.Int64, strict=False)
    usual = raw.is_null() | ((as_int > 0) & (raw >= "0"))
    return Usual(usual, as_int, _positive(parse.amount_text(raw, "plain"), raw))


def _date(raw: pl.Expr) -> Usual:
    """``parse.date_iso``: a 10-byte cell has no time of day for it to drop (``" 00:00:00"`` alone is 9
    bytes, and what would be left of such a cell reads as a date no more than the cell itself does)."""
    usual = raw.is_null() | (raw.str.len_bytes() == 10)
    # ``parse.date_text(raw, "%Y-%m-%d").value``, without its cache of distinct dates: on 1M lines of
    # ~30,000 birth dates the cache costs twice the parse it saves
    value = raw.str.strptime(pl.Date, "%Y-%m-%d", strict=False, exact=True, cache=False)
    return Usual(usual, value, parse.date_iso(raw))


def _positive(parsed: Parsed, raw: pl.Expr) -> Parsed:
    zero = raw.is_not_null() & (parsed.value == 0)
    reason = pl.when(zero).then(pl.lit("an order's amount must be > 0")).otherwise(parsed.reason)
    return Parsed(pl.when(~zero).then(parsed.value), reason)  # no value where there is a reason


def _covers_items(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(the periods a ``covers`` cell lists, whether they all are periods); null where ``raw`` is."""
    items = (
        raw.str.split(",")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    return items, items.list.eval(pl.element().str.contains(parse.PERIOD_RE)).list.all()


def _covers(raw: pl.Expr, period: pl.Expr) -> Usual:
    """Comma-separated periods; empty means the order's own period. Nearly every order covers its own
    period, by an empty cell or one period written as such (no comma, no space): those skip the list work
    (split, trim, test each item)."""
    items, ok = _covers_items(raw)
    own = raw.is_null() | (items.list.len() == 0)
    general = Parsed(
        pl.when(own).then(_one_item(period)).when(ok).then(items),
        pl.when(raw.is_not_null() & ~ok).then(pl.lit(_COVERS_REASON)),
    )
    single = raw.str.contains(parse.PERIOD_RE)
    return Usual(raw.is_null() | single, _one_item(pl.when(single).then(raw).otherwise(period)), general)


def _one_item(cell: pl.Expr) -> pl.Expr:
    """``[cell]`` per row; reshaping costs a tenth of ``concat_list``."""
    return cell.reshape((-1, 1)).cast(pl.List(pl.String))


def _order_parser(field: str, raw: pl.Expr, frame: pl.DataFrame, header: str) -> Parsed | Usual:
    """Every order field but ``covers`` (which needs the period), one cell at a time (``frame``: the cells
    of ``header``, for the province codes' once-per-code decision)."""
    if field == "period":
        return parse.period(raw)
    if field == "province_code":
        return _province(frame, header)
    if field == "ward_code":
        return _ward_code(raw)
    if field in ("national_id", "proxy_national_id"):
        return _national_id(raw)
    if field in ("full_name", "proxy_name"):
        return _name(raw)
    if field in ("birth_date", "proxy_valid_until"):
        return _date(raw)
    if field == "program":
        return parse.one_of(raw, _PROGRAMS, "program")
    if field == "amount_vnd":
        return _amount(raw)
    return parse.plain_text(raw)  # order_id, beneficiary_id, allowance_code


def _order_parsers(frame: pl.DataFrame, h: dict[str, str]) -> dict[str, Parsed | Usual]:
    parsers = {f: _order_parser(f, pl.col(header), frame, header) for f, header in h.items() if f != "covers"}
    parsers["covers"] = _covers(pl.col(h["covers"]), _general(parsers["period"]).value)
    return {f: parsers[f] for f in h}  # in file-column order: a row's rejects come in that order


def _event_parsers(h: dict[str, str]) -> dict[str, Parsed | Usual]:
    c = {f: pl.col(header) for f, header in h.items()}
    return {
        "beneficiary_id": parse.plain_text(c["beneficiary_id"]),
        "national_id": _national_id(c["national_id"]),
        "event": parse.one_of(c["event"].str.to_uppercase(), [str(e) for e in RegistryEvent], "event"),
        "effective_date": parse.date_iso(c["effective_date"]),
    }


def has_duplicates(values: pl.Series) -> bool:
    """Whether a non-null value repeats. Departments number their orders in order: a sorted column only
    needs its neighbours compared. Otherwise distinct 64-bit hashes prove the ids distinct, at a quarter of
    the cost of hashing the strings into a set; equal hashes (a repeat or a collision) are settled exactly."""
    values = values.drop_nulls()
    if values.is_sorted():
        return bool((values == values.shift(1)).any())
    if values.hash().n_unique() == values.len():
        return False
    return values.n_unique() < values.len()


def _parse(body: pl.DataFrame, parsers: dict[str, Parsed | Usual]) -> pl.DataFrame:
    """``body`` with each field's value as ``__f:<field>`` (and each ``Usual``'s test as ``__u:<field>``):
    the parsers in parallel (one ``with_columns`` for the tests, one for the values), then the general parser
    of each ``Usual`` on its other rows only."""
    usual = {
        f: p.usual.fill_null(False).alias(f"__u:{f}") for f, p in parsers.items() if isinstance(p, Usual)
    }
    # the tests first, so that each runs once; then every value, the usual ones where their test holds
    parsed = body.with_columns(usual.values()).with_columns(
        (pl.when(pl.col(f"__u:{f}")).then(p.value) if isinstance(p, Usual) else p.value).alias(f"__f:{f}")
        for f, p in parsers.items()
    )
    merged: list[pl.Expr] = []
    for f in usual:
        rows = parsed.get_column(f"__u:{f}").not_().arg_true()
        if rows.len() == 0:
            continue
        values = parsed.select(pl.all().gather(rows)).select(_general(parsers[f]).value).to_series()
        # each other row's position in ``values`` (a scatter of the values themselves has no list kernel)
        where = pl.repeat(None, parsed.height, dtype=pl.UInt32, eager=True)
        where.scatter(rows, pl.int_range(0, rows.len(), dtype=pl.UInt32, eager=True))
        merged.append(
            pl.when(pl.col(f"__u:{f}"))
            .then(pl.col(f"__f:{f}"))
            .otherwise(pl.lit(values).gather(where))
            .alias(f"__f:{f}")
        )
    return parsed.with_columns(merged) if merged else parsed


ParsersFor = Callable[[pl.DataFrame, dict[str, str]], dict[str, Parsed | Usual]]


def _load(
    raw: RawTable,
    columns: tuple[str, ...],
    optional: tuple[str, ...],
    schema: Schema,
    parsers_for: ParsersFor,
    *,
    allow_empty: bool,
) -> Loaded:
    path = raw.path
    headers = resolve_headers(raw.headers, {c: c for c in columns}, path.name)
    body = drop_blank_rows(raw.frame, raw.headers)
    if body.height == 0 and not allow_empty:
        raise InputError(f"{path.name}: the file has no rows; ask the department for the complete file.")
    parsers = parsers_for(body, headers)
    parsed = _parse(body, parsers)
    checks = [
        field_check(
            headers[f],
            pl.col(headers[f]),
            pl.col(f"__f:{f}"),
            parse.required(pl.col(headers[f]), _general(p), needed=f not in optional).reason,
            required=f not in optional,
        )
        for f, p in parsers.items()
    ]
    if "order_id" in parsers and has_duplicates(parsed.get_column("__f:order_id")):
        # depends on other rows: computed on the whole frame, not on the flagged rows only
        first_row = pl.col(ROW).min().over("__f:order_id")
        dup = pl.col("__f:order_id").is_not_null() & (pl.col(ROW) != first_row)
        parsed = parsed.with_columns(
            pl.when(dup).then(pl.format("duplicate order_id (first on row {})", first_row)).alias("__dup")
        )
        checks.append(Check(headers["order_id"], pl.col(headers["order_id"]), pl.col("__dup")))
    good, rejects = split(parsed, checks, path.name)
    frame = conform(good.select([pl.col(f"__f:{f}").alias(f) for f in schema]), schema)
    return Loaded(source=path, file_digest=raw.file_digest, frame=frame, rejects=rejects)


def load_orders(path: Path) -> Loaded:
    """An orders file with exactly the columns of ``ORDER_FILE_COLUMNS`` (extra columns are ignored)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        cells = _read_cells(path)
        tidy = _load_tidy(cells)
        if tidy is not None:
            return tidy
        raw = raw_table(cells)
    else:
        raw = _read(path)
    return _load(raw, ORDER_FILE_COLUMNS, _ORDER_OPTIONAL, ORDER_SCHEMA, _order_parsers, allow_empty=False)


def load_events(path: Path) -> Loaded:
    """A registry events file; a month without events may send a header-only file."""
    return _load(
        _read(Path(path)),
        tuple(EVENT_SCHEMA),
        _EVENT_OPTIONAL,
        EVENT_SCHEMA,
        lambda body, h: _event_parsers(h),
        allow_empty=True,
    )


# --- CSV orders files without a problem, fast ---

# Fields whose cells repeat from line to line (one or two periods, five provinces, a few hundred wards, two
# programs, a handful of allowances and tariff amounts, the arrears lists, the proxies' few expiry dates): the
# CSV is read with them dictionary-encoded, so that each distinct cell is cleaned and parsed once.
_DICTIONARY_FIELDS: Final = (
    "period",
    "province_code",
    "ward_code",
    "program",
    "allowance_code",
    "amount_vnd",
    "covers",
    "proxy_valid_until",
)
# Fields read as text and kept as they stand, but for the birth date: ~30,000 distinct dates would cost the
# reader more to intern than parsing them line by line costs.
_IDS: Final = ("order_id", "beneficiary_id")
_NATIONAL_IDS: Final = ("national_id", "proxy_national_id")
_NAMES: Final = ("full_name", "proxy_name")
_TEXT_FIELDS: Final = (*_IDS, *_NATIONAL_IDS, *_NAMES, "birth_date")


def _read_cells(path: Path) -> CsvCells:
    def dictionary(headers: tuple[str, ...]) -> list[str]:
        try:
            found = resolve_headers(headers, {c: c for c in ORDER_FILE_COLUMNS}, path.name)
        except InputError:
            return []  # reported by the full path
        return [found[f] for f in _DICTIONARY_FIELDS]

    return read_csv_cells(path, encoding="utf-8-sig", delimiter=",", header_row=1, dictionary=dictionary)


def _load_tidy(cells: CsvCells) -> Loaded | None:
    """The usual orders file, loaded fast: no cell to trim, normalise or reject, no order_id twice. Each test
    is a cheap proof that the full path (``_load`` on ``raw_table(cells)``) would keep a cell as it stands,
    or give it the value computed here; None as soon as one fails, and the full path then works on the same
    cells, so both paths always give the same result."""
    frame, source = cells.frame, cells.path.name
    try:
        h = resolve_headers(tuple(frame.columns), {c: c for c in ORDER_FILE_COLUMNS}, source)
    except InputError:
        return None  # raised again, in its order, by the full path
    dtypes = frame.schema
    if (
        frame.height == 0
        or any(not isinstance(dtypes[h[f]], pl.Categorical) for f in _DICTIONARY_FIELDS)
        or any(dtypes[h[f]] != pl.String for f in _TEXT_FIELDS)
        # a needed cell missing is a reject; and with every order_id there, no line is blank
        or any(frame.get_column(h[f]).null_count() for f in ORDER_FILE_COLUMNS if f not in _ORDER_OPTIONAL)
    ):
        return None
    tables: dict[str, pl.Series] = {}
    for f in _DICTIONARY_FIELDS:
        if f == "covers":
            continue  # depends on the period too: ``_tidy_covers``
        table = _distinct_values(f, h[f], dtypes[h[f]])
        if table is None:
            return None
        tables[f] = table
    values = {f: pl.lit(t).gather(pl.col(h[f]).to_physical()) for f, t in tables.items()}
    covers = _tidy_covers(h["covers"], dtypes[h["covers"]], h["period"], tables["period"])
    if covers is None:
        return None
    values["covers"] = covers
    # its usual value, right where every date is usual (a test below) and reads (checked after)
    values["birth_date"] = _date(pl.col(h["birth_date"])).value
    lines = frame.lazy()
    found, out = pl.collect_all(  # the tests and the canonical columns in one parallel pass
        [
            lines.select(**_tidy_tests(h, frame.get_column(h["order_id"]))),
            lines.select([(values[f] if f in values else pl.col(h[f])).alias(f) for f in ORDER_SCHEMA]),
        ]
    )
    tests = found.row(0, named=True)
    if (
        any(v for k, v in tests.items() if k != "repeats")
        # a birth date that does not read: rejected by the full path
        or out.get_column("birth_date").null_count() != frame.get_column(h["birth_date"]).null_count()
        or (tests["repeats"] and has_duplicates(out.get_column("order_id")))
    ):
        return None
    if out.schema != pl.Schema(ORDER_SCHEMA):  # what ``conform`` guarantees, here without a pass
        out = conform(out, ORDER_SCHEMA)
    # the gathered columns (one chunk each) cut like the text columns (as read): polars would realign
    # misaligned chunks on every later select, and slices cost nothing where a rechunk copies
    chunks = out.get_column("order_id").chunk_lengths()
    out = out.with_columns(chunked_like(s, chunks) for s in out.get_columns() if s.chunk_lengths() != chunks)
    return Loaded(source=cells.path, file_digest=cells.file_digest, frame=out, rejects=empty(REJECT_SCHEMA))


def _distinct_cells(header: str, dtype: pl.DataType) -> pl.DataFrame:
    """A dictionary-encoded column's distinct cells (under ``header``, in code order) as ``clean`` leaves
    them. ``clean`` decides per column from whether some cell needs a pass, and the distinct cells are the
    column's cells: cleaned alone, each is cleaned as in the whole file."""
    assert isinstance(dtype, pl.Categorical)
    return clean(pl.DataFrame({header: dtype.categories.to_series()}, schema={header: pl.String}))


def _distinct_values(field: str, header: str, dtype: pl.DataType) -> pl.Series | None:
    """The value of each distinct cell of a dictionary-encoded column, indexed by its code; None if the full
    path would reject one (it is on some line: the reader met it there)."""
    cells = _distinct_cells(header, dtype)
    raw = pl.col(header)
    parsed = _general(_order_parser(field, raw, cells, header))
    needed = field not in _ORDER_OPTIONAL
    reason = parse.required(raw, parsed, needed=needed).reason
    flag = field_check(header, raw, parsed.value, reason, required=needed).flag
    assert flag is not None
    out = cells.select(parsed.value.alias(field), flag.fill_null(False).alias("bad"))
    if out.get_column("bad").any():
        return None
    return out.get_column(field)


def _tidy_covers(header: str, dtype: pl.DataType, period_header: str, periods: pl.Series) -> pl.Expr | None:
    """Each line's ``covers``, or None if the full path rejects some covers cell. A line's covers depends on
    its period only where its cell lists none: they are looked up by (period code, covers code) pair. The
    lists are kept as text (periods joined by ","; none has a comma) until the lines have theirs: gathering
    strings costs a tenth of gathering lists, and most files list one period a line (no split at all)."""
    cells = _distinct_cells(header, dtype)
    raw = pl.col(header)
    items, ok = _covers_items(raw)
    listed = cells.select(
        pl.when(items.list.len() > 0).then(items.list.join(",")).alias("items"),
        (items.list.len() > 1).fill_null(False).alias("multi"),
        (raw.is_not_null() & ~ok).fill_null(False).alias("bad"),
    )
    if listed.get_column("bad").any():
        return None
    texts = pl.concat([listed.get_column("items"), pl.Series("items", [None], dtype=pl.String)])
    n = texts.len()  # covers code n - 1: no cell
    if periods.len() * n >= 1 << 32:
        return None  # a file of junk: not worth a wider key
    pair = pl.int_range(0, periods.len() * n, dtype=pl.UInt64, eager=True)
    table = pl.select(pl.coalesce(texts.gather(pair % n), periods.gather(pair // n))).to_series()
    key = pl.col(period_header).to_physical().cast(pl.UInt64) * n + pl.col(header).to_physical().cast(
        pl.UInt64
    ).fill_null(n - 1)
    text_value = pl.lit(table).gather(key)
    return text_value.str.split(",") if listed.get_column("multi").any() else _one_item(text_value)


def _tidy_tests(h: dict[str, str], order_ids: pl.Series) -> dict[str, pl.Expr]:
    """Whether ``clean`` or a parser would change a text cell of the lines (each true is a reason to take
    the full path), and whether an order_id may repeat (``has_duplicates`` then settles it)."""
    col = {f: pl.col(h[f]) for f in _TEXT_FIELDS}
    # the proxies' cells are mostly empty: dropping those first costs less than testing them
    cells = {f: col[f].drop_nulls() if f in _ORDER_OPTIONAL else col[f] for f in _TEXT_FIELDS}
    oid = col["order_id"]
    n = order_ids.len()
    return {
        # empty, or a space to trim at either end (``< "!"`` compares the views' inline prefix: cheap; it
        # also takes other leading control characters, which only sends such a file the full way)
        **{f"edge:{f}": ((col[f] < "!") | col[f].str.ends_with(" ")).any() for f in (*_IDS, "birth_date")},
        # a non-ASCII id may be changed by ``clean``'s NFC: the full path decides (a date that reads is
        # ASCII: ``_load_tidy`` tests that every one reads)
        **{f"ascii:{f}": (col[f].str.len_bytes() != col[f].str.len_chars()).any() for f in _IDS},
        "date:birth_date": (~_date(col["birth_date"]).usual).any(),
        **{f"nid:{f}": (~normal_national_id(cells[f])).any() for f in _NATIONAL_IDS},
        **{f"name:{f}": untidy_name(cells[f]).any() for f in _NAMES},
        # in order (the usual file; telling costs a fraction of a pass): equal neighbours; otherwise equal
        # 64-bit hashes, in this parallel pass
        "repeats": (
            (oid.slice(1) == oid.slice(0, n - 1)).any()
            if order_ids.is_sorted()
            else oid.hash().n_unique() < pl.len()
        ),
    }
