"""Payout result files of every dialect → PAYOUT_SCHEMA, driven only by the province profile."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from disburse.errors import InputError
from disburse.loaders import parse
from disburse.loaders.clean import (
    NFC_SUSPECTS,
    chunked_like,
    clean,
    has_padding,
    start_composing,
    start_matching,
    strip_all,
)
from disburse.loaders.columns import resolve_headers, split_footer
from disburse.loaders.model import LoadedPayouts
from disburse.loaders.parse import Parsed
from disburse.loaders.read import (
    ROW,
    CsvCells,
    RawTable,
    TypedKind,
    drop_blank_rows,
    raw_table,
    read_csv_cells,
    read_xlsx,
)
from disburse.loaders.rejects import Check, field_check, split
from disburse.loaders.scope import check_payout_scope
from disburse.profile import ProvinceProfile
from disburse.schema import CONTROL_TOTAL_SCHEMA, PAID_STATUSES, PAYOUT_SCHEMA, REJECT_SCHEMA, conform, empty

# Fields a line cannot do without (where the dialect has the column at all).
_REQUIRED = (
    "payout_id",
    "beneficiary_id",
    "national_id",
    "full_name",
    "amount_paid_vnd",
    "status",
    "ward_code",
    "post_office_code",
    "fee_vnd",
)
_OPTIONAL_HEADERS = ("row_number",)  # a missing STT column changes nothing


def _field(name: str) -> str:
    """Parsed values live under private names: a file header may itself be called ``payout_id``."""
    return f"__f:{name}"


def _typed_fields(profile: ProvinceProfile) -> dict[str, TypedKind]:
    """Spreadsheet columns whose cells are numbers/dates and must be read as such."""
    wanted: dict[str, TypedKind] = {}
    if profile.amount_format == "number":
        wanted |= {"amount_paid_vnd": "float", "fee_vnd": "float"}
    if profile.national_id_as_number:
        wanted |= {"national_id": "float", "receiver_national_id": "float"}
    if profile.date_format == "excel":
        wanted["paid_on"] = "date"
    return wanted


# Fields whose text is kept as is (the others are parsed into ASCII values): only they need NFC.
_TEXT_FIELDS = ("payout_id", "order_ref", "beneficiary_id", "full_name", "post_office_code")


def _read(path: Path, profile: ProvinceProfile, cells: CsvCells | None) -> RawTable:
    if cells is not None:

        def text_headers(headers: tuple[str, ...]) -> list[str]:
            found = resolve_headers(headers, profile.columns, path.name, optional=profile.columns.values())
            return [found[f] for f in _TEXT_FIELDS if f in found]

        def questions(headers: tuple[str, ...]) -> dict[str, pl.Expr]:
            """What the parsers will ask of the cells, answered in the reader's first pass (asked of the raw
            cells, before trimming, NFC and the footer split, a question can only be answered "yes" more
            often, which costs a pass but never a wrong value)."""
            found = resolve_headers(headers, profile.columns, path.name, optional=profile.columns.values())
            found.pop("row_number", None)
            recorder = parse.Probe(None)
            _build_parsers(found, None, profile, pl.DataFrame(), recorder)
            return recorder.questions

        return raw_table(cells, nfc_columns=text_headers, questions=questions)
    typed = _typed_fields(profile)

    def typed_headers(headers: tuple[str, ...]) -> dict[str, TypedKind]:
        found = resolve_headers(headers, profile.columns, path.name, optional=profile.columns.values())
        return {found[f]: kind for f, kind in typed.items() if f in found}

    return read_xlsx(
        path,
        sheet=profile.sheet,
        header_row=profile.header_row,
        typed=typed_headers,
        expected_headers=tuple(profile.columns),
    )


def _parser(
    field: str,
    raw: pl.Expr,
    typed: pl.Expr | None,
    profile: ProvinceProfile,
    frame: pl.DataFrame,
    header: str,
    probe: parse.Probe,
) -> Parsed:
    """The one place that knows how each canonical field is read; the profile picks the variant."""
    if field in ("amount_paid_vnd", "fee_vnd"):
        if typed is not None:
            return parse.amount_number(raw, typed)
        return parse.amount_text(raw, profile.amount_format, probe)
    if field == "paid_on":
        return parse.date_cell(raw, typed) if typed is not None else parse.date_text(raw, profile.date_format)
    if field in ("national_id", "receiver_national_id"):
        return parse.national_id(raw, typed, probe)
    if field == "full_name":
        return parse.name(raw, tcvn3=profile.name_encoding == "tcvn3", probe=probe)
    if field == "ward_code":
        return parse.ward_code(raw, probe)
    if field == "status":
        words = {w: str(s) for w, s in profile.status_words.items()}
        value = probe.once(f"status:{header}", lambda: parse.word_map(frame, header, words))
        reason = pl.when(raw.is_not_null() & value.is_null()).then(
            pl.lit(f"unknown status (expected one of {', '.join(profile.status_words)})")
        )
        return Parsed(value, reason)
    if field == "order_ref" and probe.any(raw.str.contains(r"\s\||\|\s")):
        return Parsed(raw.str.replace_all(r"\s*\|\s*", "|"), pl.lit(None, pl.String))
    return parse.plain_text(raw)


def _typed(raw: RawTable, header: str) -> pl.Expr | None:
    name = raw.typed.get(header)
    return pl.col(name) if name else None


def has_duplicates(values: pl.Series) -> bool:
    """Post offices number their lines in order: a sorted column only needs its neighbours compared,
    which is much cheaper than hashing 1M ids."""
    values = values.drop_nulls()
    if values.is_sorted():
        return bool((values == values.shift(1)).any())
    return values.n_unique() < values.len()


def _line_checks(headers: dict[str, str], frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Check]]:
    """Checks that need several parsed fields: status against amount and date, duplicate ids. The
    duplicate reason depends on other rows, so it is computed on the whole frame (only if there is one)."""
    checks = _status_checks(headers)
    pid = _field("payout_id")
    if has_duplicates(frame.get_column(pid)):
        first_row = pl.col(ROW).min().over(pid)
        dup = pl.col(pid).is_not_null() & (pl.col(ROW) != first_row)
        frame = frame.with_columns(
            pl.when(dup).then(pl.format("duplicate payout_id (first on row {})", first_row)).alias("__dup")
        )
        checks.append(Check(headers["payout_id"], pl.col(headers["payout_id"]), pl.col("__dup")))
    return frame, checks


def _status_checks(headers: dict[str, str]) -> list[Check]:
    """Status against amount and date (on the parsed fields)."""
    status = pl.col(_field("status"))
    paid = status.is_in(sorted(PAID_STATUSES))
    amount = pl.col(_field("amount_paid_vnd"))
    paid_zero = paid & (amount == 0)
    unpaid_money = status.is_not_null() & ~paid & (amount > 0)
    amount_header = headers["amount_paid_vnd"]
    reason = parse.reason_when(
        (paid_zero, "paid status with amount 0"), (unpaid_money, "unpaid status with an amount paid")
    )
    checks = [Check(amount_header, pl.col(amount_header), reason, paid_zero | unpaid_money)]
    if "paid_on" in headers:
        date_header = headers["paid_on"]
        missing_date = paid & pl.col(date_header).is_null()
        missing = pl.when(missing_date).then(pl.lit("missing value"))
        checks.append(Check(date_header, pl.col(date_header), missing, missing_date))
    return checks


def _control_totals(
    footer: pl.DataFrame | None,
    lines: pl.DataFrame,
    headers: dict[str, str],
    parsers: dict[str, Parsed],
    profile: ProvinceProfile,
    period: str,
    source: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(CONTROL_TOTAL_SCHEMA row, rejects of an unreadable footer)."""
    if footer is None:
        return empty(CONTROL_TOTAL_SCHEMA), empty(REJECT_SCHEMA)
    money = [f for f in ("amount_paid_vnd", "fee_vnd") if f in headers]
    checks = [
        Check(headers[f], pl.col(headers[f]), parse.required(pl.col(headers[f]), parsers[f]).reason)
        for f in money
    ]
    good, rejects = split(
        footer.with_columns([parsers[f].value.alias(_field(f)) for f in money]), checks, source
    )
    if good.height == 0:
        return empty(CONTROL_TOTAL_SCHEMA), rejects

    def total(f: str, frame: pl.DataFrame) -> int | None:
        return int(frame.get_column(_field(f)).sum()) if f in headers else None

    row = {
        "province_code": profile.province_code,
        "period": period,
        "source_name": source,
        "footer_paid_vnd": total("amount_paid_vnd", good),
        "footer_fee_vnd": total("fee_vnd", good),
        "lines_paid_vnd": int(lines.get_column("amount_paid_vnd").sum()),
        "lines_fee_vnd": int(lines.get_column("fee_vnd").sum()) if "fee_vnd" in headers else None,
    }
    return pl.DataFrame([row], schema=CONTROL_TOTAL_SCHEMA), rejects


def _fast_lines(
    body: pl.DataFrame, values: list[pl.Expr], headers: dict[str, str], profile: ProvinceProfile, period: str
) -> pl.DataFrame | None:
    """The canonical frame in one pass over the lines (polars runs the columns' parsers in parallel), with
    every check's cheap flag (see ``rejects.Check``) evaluated on the way, or None if some row is flagged or
    a payout_id repeats: then the reasons are worked out the slow way (``rejects.split``)."""
    flags = [
        (pl.col(header).is_not_null() & pl.col(_field(f)).is_null())
        | (pl.col(header).is_null() if f in _REQUIRED else pl.lit(False))
        for f, header in headers.items()
    ]
    flags += [c.flag if c.flag is not None else c.reason.is_not_null() for c in _status_checks(headers)]
    out = (
        body.lazy()
        .with_columns(values)
        .select(
            *_canonical(headers, profile, period),
            pl.any_horizontal([flag.fill_null(False) for flag in flags]).alias("__bad"),
        )
        .collect()
    )
    if out.get_column("__bad").any() or has_duplicates(out.get_column("payout_id")):
        return None
    return out.drop("__bad")


def _canonical(headers: dict[str, str], profile: ProvinceProfile, period: str) -> list[pl.Expr]:
    """PAYOUT_SCHEMA's columns, in order and type, from the parsed fields (under their private names)."""
    return [
        (
            pl.lit(profile.province_code)
            if f == "province_code"
            else pl.lit(period)
            if f == "period"
            else pl.col(_field(f))
            if f in headers
            else pl.lit(None)
        )
        .cast(dtype, strict=True)
        .alias(f)
        for f, dtype in PAYOUT_SCHEMA.items()
    ]


def load_payouts(
    path: Path, profile: ProvinceProfile, period: str, *, check_scope: bool = False
) -> LoadedPayouts:
    """Read one payout result file in ``profile``'s dialect. Every data row ends up either in ``frame`` or
    (once per problem) in ``rejects``; a footer carrying control totals goes to ``control_totals``.
    ``check_scope``: InputError when most lines are of another province or period (see ``scope``)."""
    path = Path(path)
    cells = _read_cells(path, profile) if profile.container == "csv" else None
    loaded = _load_tidy(cells, profile, period) if cells is not None else None
    if loaded is None:
        raw = _read(path, profile, cells)
        headers = resolve_headers(raw.headers, profile.columns, path.name, optional=_OPTIONAL_HEADERS)
        headers.pop("row_number", None)
        body = drop_blank_rows(raw.frame, raw.headers)
        loaded = _load_lines(body, raw, headers, profile, period, raw.answers)
        if loaded.rejects.height and has_padding(loaded.rejects.get_column("value").drop_nulls()):
            # Cells padded with spaces: read them trimmed rather than reject them (the rare, slower path).
            loaded = _load_lines(strip_all(body), raw, headers, profile, period, None)
    if check_scope and loaded.rejects.is_empty():
        check_payout_scope(loaded, profile, period)
    return loaded


def _build_parsers(
    headers: dict[str, str],
    raw: RawTable | None,
    profile: ProvinceProfile,
    body: pl.DataFrame,
    probe: parse.Probe,
) -> dict[str, Parsed]:
    return {
        field: _parser(
            field, pl.col(header), _typed(raw, header) if raw else None, profile, body, header, probe
        )
        for field, header in headers.items()
    }


def _load_lines(
    body: pl.DataFrame,
    raw: RawTable,
    headers: dict[str, str],
    profile: ProvinceProfile,
    period: str,
    answers: dict[str, bool] | None,
) -> LoadedPayouts:
    """``answers``: the probe's questions as the reader answered them (None: ask them here)."""
    path = raw.path
    label = profile.control_footer.label if profile.control_footer else None
    gaps = [headers[f] for f in ("beneficiary_id", "national_id", "full_name", "status") if f in headers]
    body, footer = split_footer(body, raw.headers, label, gaps)
    if body.height == 0:
        raise InputError(
            f"{path.name}: the file has no payout lines; ask the post office for the complete file."
        )

    if answers:
        probe = parse.Probe(body, answers)
    else:
        probe = parse.Probe(body)
        _build_parsers(headers, raw, profile, body, probe)  # records the probe's questions
        probe.resolve()
    parsers = _build_parsers(headers, raw, profile, body, probe)
    values = [p.value.alias(_field(f)) for f, p in parsers.items()]
    fast = _fast_lines(body, values, headers, profile, period)
    if fast is not None:
        totals, footer_rejects = _control_totals(footer, fast, headers, parsers, profile, period, path.name)
        return LoadedPayouts(
            source=path,
            file_digest=raw.file_digest,
            frame=fast,
            rejects=footer_rejects,
            control_totals=totals,
        )
    parsed = body.with_columns(values)
    checks = [
        field_check(
            header,
            pl.col(header),
            pl.col(_field(f)),
            parse.required(pl.col(header), parsers[f], needed=f in _REQUIRED).reason,
            required=f in _REQUIRED,
        )
        for f, header in headers.items()
    ]
    parsed, more = _line_checks(headers, parsed)
    checks += more
    good, rejects = split(parsed, checks, path.name)

    frame = conform(
        good.select(
            pl.lit(profile.province_code).alias("province_code"),
            pl.lit(period).alias("period"),
            *[
                (pl.col(_field(f)) if f in headers else pl.lit(None)).alias(f)
                for f in PAYOUT_SCHEMA
                if f not in ("province_code", "period")
            ],
        ),
        PAYOUT_SCHEMA,
    )
    totals, footer_rejects = _control_totals(footer, frame, headers, parsers, profile, period, path.name)
    if footer_rejects.height:
        rejects = pl.concat([rejects, footer_rejects]).sort("row", maintain_order=True)
    return LoadedPayouts(
        source=path, file_digest=raw.file_digest, frame=frame, rejects=rejects, control_totals=totals
    )


# --- CSV files without a problem, fast ---

# Fields whose cells repeat from line to line (tariff amounts, the days of the payment window, a handful of
# statuses, the province's wards and post offices, the few proxies): a CSV is read with them
# dictionary-encoded, so that each distinct cell is parsed once.
_DICTIONARY_FIELDS = (
    "amount_paid_vnd",
    "fee_vnd",
    "paid_on",
    "status",
    "receiver_national_id",
    "ward_code",
    "post_office_code",
)
# A name this matches is changed by the full path: empty or a space to trim (``clean``), runs of white space
# (``parse.name``), a mark to compose (``clean``). One regex pass (over the composed names, for names written
# decomposed: composing changes no white space).
_UNTIDY_NAME = rf"^$|^ | $|\s\s|[^\S ]|{NFC_SUSPECTS}"


def _read_cells(path: Path, profile: ProvinceProfile) -> CsvCells:
    def dictionary(headers: tuple[str, ...]) -> list[str]:
        try:
            found = resolve_headers(headers, profile.columns, path.name, optional=profile.columns.values())
        except InputError:
            return []  # reported by the full path, in its order
        return [found[f] for f in _DICTIONARY_FIELDS if f in found]

    return read_csv_cells(
        path,
        encoding=profile.encoding,
        delimiter=profile.delimiter,
        header_row=profile.header_row,
        dictionary=dictionary,
    )


def _load_tidy(cells: CsvCells, profile: ProvinceProfile, period: str) -> LoadedPayouts | None:
    """The usual file, loaded fast: no cell to trim, none to reject, no payout_id twice. Each test here is a
    cheap proof that the full path (``_load_lines``) would keep a cell as it stands, or give it the value
    computed here: the dictionary-encoded columns go through the full path's parsers once per distinct
    cell, the other columns are tested in one parallel pass over the lines. None as soon as a test fails:
    the full path then works on the same cells, so both paths always give the same result."""
    frame, source = cells.frame, cells.path.name
    headers = _tidy_headers(frame, profile, source)
    split = _split_tidy_footer(cells, headers, profile) if headers is not None else None
    if headers is None or split is None:
        return None
    body, footer = split
    if body.height == 0 or any(body.get_column(headers[f]).null_count() for f in _REQUIRED if f in headers):
        return None
    # The names, on threads while the other columns are checked here: composed if written decomposed (NFD,
    # cp1258), then tested (a file that fails a test here leaves them to finish unused).
    names = body.get_column(headers["full_name"]) if "full_name" in headers else None
    composing = matching = None
    if names is not None and _decomposed(names):
        composing = start_composing(names, _UNTIDY_NAME)
    elif names is not None:
        matching = start_matching(names, _UNTIDY_NAME)
    tables: dict[str, pl.Series] = {}
    for f, h in headers.items():
        table = _distinct_values(f, h, frame.schema[h], profile) if f in _DICTIONARY_FIELDS else None
        if table is not None:
            tables[f] = table
        elif f in _DICTIONARY_FIELDS:
            return None
    if not _tidy(body, headers, tables) or not _status_ok(body, headers, tables):
        return None
    if matching is not None and matching():
        return None
    if composing is not None:
        composed, untidy = composing()
        if untidy:
            return None
        body = body.with_columns(composed)
    out = _tidy_frame(body, headers, tables, profile, period)
    parsers: dict[str, Parsed] = {}
    if footer is not None:
        probe = parse.Probe(footer, {})
        money = [f for f in ("amount_paid_vnd", "fee_vnd") if f in headers]
        parsers = {f: _parser(f, pl.col(headers[f]), None, profile, footer, headers[f], probe) for f in money}
    totals, footer_rejects = _control_totals(footer, out, headers, parsers, profile, period, source)
    if footer_rejects.height:
        return None
    return LoadedPayouts(
        source=cells.path,
        file_digest=cells.file_digest,
        frame=out,
        rejects=footer_rejects,
        control_totals=totals,
    )


def _tidy_headers(frame: pl.DataFrame, profile: ProvinceProfile, source: str) -> dict[str, str] | None:
    """field -> header, if the fast path applies: the dictionary fields read as such, the others as text."""
    try:
        headers = resolve_headers(tuple(frame.columns), profile.columns, source, optional=_OPTIONAL_HEADERS)
    except InputError:
        return None
    headers.pop("row_number", None)
    dtypes = frame.schema
    if (
        profile.name_encoding != "unicode"
        or "status" not in headers
        or "amount_paid_vnd" not in headers
        or any(
            not isinstance(dtypes[h], pl.Categorical) if f in _DICTIONARY_FIELDS else dtypes[h] != pl.String
            for f, h in headers.items()
        )
    ):
        return None
    return headers


def _split_tidy_footer(
    cells: CsvCells, headers: dict[str, str], profile: ProvinceProfile
) -> tuple[pl.DataFrame, pl.DataFrame | None] | None:
    """(lines, footer row or None) as ``drop_blank_rows`` and ``split_footer`` would give them, or None
    unless every line fills the columns a footer leaves empty and the footer, if any, is the last line."""
    frame = cells.frame
    gaps = [headers[f] for f in ("beneficiary_id", "national_id", "full_name", "status") if f in headers]
    n = frame.height
    if not gaps or n == 0:
        return None
    gappy = frame.select(pl.any_horizontal([pl.col(g).is_null() for g in gaps]).arg_true()).to_series()
    if gappy.len() == 0:
        return frame, None
    label = profile.control_footer.label if profile.control_footer else None
    if label is None or gappy.len() > 1 or gappy[0] != n - 1:
        return None  # lines without a needed cell (or blank): rejected (dropped) by the full path
    texts = [headers[f] for f in _TEXT_FIELDS if f in headers]
    last = (
        frame.slice(n - 1)
        .with_columns([pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t != pl.String])
        .with_row_index(ROW, offset=cells.header_row + n)
        .with_columns(pl.col(ROW).cast(pl.Int64))
    )
    # ``clean`` decides per column: with no cell to trim or empty anywhere (the lines are tested for that
    # in ``_tidy``) it treats the footer's cells alone as it treats them in the whole column
    if last.select(pl.any_horizontal([_untidy(pl.col(c)) for c in texts]).fill_null(False)).item():
        return None
    _, footer = split_footer(clean(last, texts), tuple(frame.columns), label, gaps)
    if footer is None:
        return None
    return frame.slice(0, n - 1), footer


def _distinct_values(
    field: str, header: str, dtype: pl.DataType, profile: ProvinceProfile
) -> pl.Series | None:
    """The value of each distinct cell of a dictionary-encoded column, indexed by its code; null where the
    full path rejects the cell. None if ``clean`` would change some cell (kept-as-is text)."""
    assert isinstance(dtype, pl.Categorical)
    # the column's own categories (its distinct cells), in code order
    distinct = pl.DataFrame({header: dtype.categories.to_series()})
    raw = pl.col(header)
    if (
        field in _TEXT_FIELDS
        and distinct.select((_untidy(raw) | raw.str.contains(NFC_SUSPECTS)).any()).item()
    ):
        return None
    parsed = _parser(field, raw, None, profile, distinct, header, parse.Probe(distinct, {}))
    return distinct.select(pl.when(parsed.reason.is_null()).then(parsed.value)).to_series()


def _decomposed(names: pl.Series) -> bool:
    """Whether the names are written decomposed (NFD, cp1258), judging by the first ones: then they are
    composed, else only tested."""
    return bool(names.head(1000).str.contains(NFC_SUSPECTS).any())


def _tidy_frame(
    body: pl.DataFrame,
    headers: dict[str, str],
    tables: dict[str, pl.Series],
    profile: ProvinceProfile,
    period: str,
) -> pl.DataFrame:
    """PAYOUT_SCHEMA's columns (as ``_canonical`` gives them) from the lines: text cells as read, dictionary
    codes turned into their values. One lazy select (polars gathers the columns in parallel: half the time
    of gathering them in an eager select and building the rest one by one), then every column chunked like
    the text columns: polars realigns misaligned chunks on every select."""

    def column(f: str, dtype: pl.DataType) -> pl.Expr:
        if f in tables:
            return pl.lit(tables[f].cast(dtype, strict=True)).gather(pl.col(headers[f]).to_physical())
        if f in headers:
            return pl.col(headers[f]).cast(dtype, strict=True)
        value = profile.province_code if f == "province_code" else period if f == "period" else None
        return pl.lit(value, dtype=dtype)

    out = body.lazy().select([column(f, dtype).alias(f) for f, dtype in PAYOUT_SCHEMA.items()]).collect()
    chunks = body.get_column(headers["payout_id"]).chunk_lengths()
    return pl.DataFrame(
        [c if c.chunk_lengths() == chunks else chunked_like(c.rechunk(), chunks) for c in out.get_columns()]
    )


def _untidy(cell: pl.Expr) -> pl.Expr:
    """A cell that ``clean`` would change (trim; empty -> null) in a kept-as-is text column."""
    return cell.str.starts_with(" ") | cell.str.ends_with(" ") | (cell.str.len_bytes() == 0)


def _tidy(body: pl.DataFrame, headers: dict[str, str], tables: dict[str, pl.Series]) -> bool:
    """Whether the full path would take every text cell of ``body`` but the names (tested on their own) as
    it stands, find a value for every dictionary cell, and find no payout_id twice. One pass of the
    streaming engine (a morsel of rows goes through every test while in cache: a fifth less CPU than a
    column at a time), one test a column (a regex costs about 30 ns a cell whatever its pattern, the cheap
    tests 1-10 ns); the costly follow-up only where a cheap test fails."""
    col = {f: pl.col(h) for f, h in headers.items()}
    ids = [f for f in ("payout_id", "beneficiary_id") if f in headers]
    tests = {
        # empty, or a space to trim at either end (``< "!"`` compares the views' inline prefix: cheap; it
        # also takes other leading control characters, which only sends such a file the full way)
        **{f"edge:{f}": ((col[f] < "!") | col[f].str.ends_with(" ")).any() for f in ids},
        **{f"ascii:{f}": (col[f].str.len_bytes() != col[f].str.len_chars()).any() for f in ids},
        # a cell whose distinct value the full path rejects (``_distinct_values``: null)
        **{
            f"void:{f}": col[f].to_physical().is_in(t.is_null().arg_true().implode()).any()
            for f, t in tables.items()
            if t.null_count()
        },
    }
    # Post offices number their lines in order: sorted ids repeat only next to each other. Both asked in the
    # parallel pass (``Series.is_sorted`` is one thread's work).
    pid = col["payout_id"]
    tests["repeat"] = (pid == pid.shift(1)).any()
    tests["sorted"] = (pid >= pid.shift(1)).all()
    if "order_ref" in headers:  # also spaces around "|" (``_parser``)
        tests["order_ref"] = col["order_ref"].str.contains(rf"^$|^ | $|\s\||\|\s|{NFC_SUSPECTS}").any()
    if "national_id" in headers:
        # 9 or 12 ASCII digits, normal: kept as it stands. An unsigned cast reads ASCII digits after an
        # optional "+", which ``>= "0"`` excludes; cheaper than the regex.
        nid = col["national_id"]
        size = nid.str.len_bytes()
        digits = nid.cast(pl.UInt64, strict=False).is_not_null() & (nid >= "0")
        tests["national_id"] = ~(((size == 9) | (size == 12)) & digits).all()
    found = body.lazy().select(**tests).collect(engine="streaming").row(0, named=True)
    ordered = found.pop("sorted")
    if not ordered:
        found.pop("repeat")
    if any(v for k, v in found.items() if not k.startswith("ascii:")):
        return False
    if any(found[f"ascii:{f}"] and parse.any_row(body, col[f].str.contains(NFC_SUSPECTS)) for f in ids):
        return False
    return ordered or not has_duplicates(body.get_column(headers["payout_id"]))


def _status_ok(body: pl.DataFrame, headers: dict[str, str], tables: dict[str, pl.Series]) -> bool:
    """``_status_checks`` find no line at fault, asked of (status, amount, date missing) combinations of the
    lines' codes rather than of each line: of every possible combination when there are fewer than lines
    (then each line only looks its combination up, cheaper than finding the distinct ones), else of the
    distinct combinations of the lines."""
    status, amount = (pl.col(headers[f]).to_physical() for f in ("status", "amount_paid_vnd"))
    undated = pl.col(headers["paid_on"]).is_null() if "paid_on" in headers else pl.lit(False)
    n_amounts = tables["amount_paid_vnd"].len()
    n_combos = 2 * tables["status"].len() * n_amounts
    wide = pl.UInt32 if n_combos < 2**32 else pl.UInt64  # narrow hashes faster
    key = (status.cast(wide) * n_amounts + amount.cast(wide)) * 2 + undated.cast(wide)
    every = n_combos <= body.height
    keys = (
        pl.int_range(0, n_combos, dtype=wide, eager=True) if every else body.select(key.unique()).to_series()
    )
    k = pl.col("k")
    combos = pl.DataFrame({"k": keys}).select(
        pl.lit(tables["status"]).gather(k // 2 // n_amounts).alias(_field("status")),
        pl.lit(tables["amount_paid_vnd"]).gather(k // 2 % n_amounts).alias(_field("amount_paid_vnd")),
        pl.when(k % 2 == 0).then(pl.lit(True)).alias(_field("paid_on")),  # null: the line has no date
    )
    flags = [c.flag for c in _status_checks({**headers, "paid_on": _field("paid_on")}) if c.flag is not None]
    faulty = combos.select(pl.any_horizontal(flags).fill_null(False)).to_series()
    if not every or not faulty.any():
        return not faulty.any()
    return not body.select(pl.lit(faulty).gather(key).any()).item()
