"""Payout result files of every dialect → PAYOUT_SCHEMA, driven only by the province profile."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from disburse.errors import InputError
from disburse.loaders import parse
from disburse.loaders.clean import has_padding, strip_all
from disburse.loaders.columns import resolve_headers, split_footer
from disburse.loaders.model import LoadedPayouts
from disburse.loaders.parse import Parsed
from disburse.loaders.read import ROW, RawTable, TypedKind, drop_blank_rows, read_csv, read_xlsx
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


def _read(path: Path, profile: ProvinceProfile) -> RawTable:
    if profile.container == "csv":

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

        return read_csv(
            path,
            encoding=profile.encoding,
            delimiter=profile.delimiter,
            header_row=profile.header_row,
            nfc_columns=text_headers,
            questions=questions,
        )
    typed = _typed_fields(profile)

    def typed_headers(headers: tuple[str, ...]) -> dict[str, TypedKind]:
        found = resolve_headers(headers, profile.columns, path.name, optional=profile.columns.values())
        return {found[f]: kind for f, kind in typed.items() if f in found}

    return read_xlsx(path, sheet=profile.sheet, header_row=profile.header_row, typed=typed_headers)


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
            *[
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
            ],
            pl.any_horizontal([flag.fill_null(False) for flag in flags]).alias("__bad"),
        )
        .collect()
    )
    if out.get_column("__bad").any() or has_duplicates(out.get_column("payout_id")):
        return None
    return out.drop("__bad")


def load_payouts(
    path: Path, profile: ProvinceProfile, period: str, *, check_scope: bool = False
) -> LoadedPayouts:
    """Read one payout result file in ``profile``'s dialect. Every data row ends up either in ``frame`` or
    (once per problem) in ``rejects``; a footer carrying control totals goes to ``control_totals``.
    ``check_scope``: InputError when most lines are of another province or period (see ``scope``)."""
    path = Path(path)
    raw = _read(path, profile)
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
            source=path, sha256=raw.sha256, frame=fast, rejects=footer_rejects, control_totals=totals
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
    return LoadedPayouts(source=path, sha256=raw.sha256, frame=frame, rejects=rejects, control_totals=totals)
