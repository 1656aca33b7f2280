"""Department files: payment orders (ORDER_SCHEMA) and registry events (EVENT_SCHEMA), CSV/Parquet/XLSX."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from disburse.errors import InputError
from disburse.loaders import parse
from disburse.loaders.columns import resolve_headers
from disburse.loaders.model import Loaded
from disburse.loaders.parse import Parsed
from disburse.loaders.read import ROW, RawTable, drop_blank_rows, read_csv, read_parquet, read_xlsx
from disburse.loaders.rejects import Check, field_check, split
from disburse.profile import ProfileError, current_code
from disburse.schema import EVENT_SCHEMA, ORDER_FILE_COLUMNS, ORDER_SCHEMA, RegistryEvent, Schema, conform

_ORDER_OPTIONAL = ("proxy_national_id", "proxy_name", "proxy_valid_until", "covers", "birth_date")
_EVENT_OPTIONAL = ("national_id",)
_PROGRAMS = ["BTXH", "NCC"]


def _read(path: Path) -> RawTable:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, encoding="utf-8-sig", delimiter=",", header_row=1)
    if suffix == ".parquet":
        return read_parquet(path)
    if suffix == ".xlsx":
        return read_xlsx(path, sheet=None, header_row=1)
    raise InputError(f"{path.name}: unknown file type {suffix!r}; send the file as .csv, .parquet or .xlsx.")


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


def _covers(raw: pl.Expr, period: pl.Expr) -> Parsed:
    """Comma-separated periods; empty means the order's own period."""
    items = (
        raw.str.split(",")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    ok = items.list.eval(pl.element().str.contains(parse.PERIOD_RE)).list.all()
    own = pl.concat_list([period])
    value = pl.when(raw.is_null() | (items.list.len() == 0)).then(own).when(ok).then(items)
    return Parsed(
        value, pl.when(raw.is_not_null() & ~ok).then(pl.lit("covers must list periods (YYYY-MM,...)"))
    )


def _order_parsers(frame: pl.DataFrame, h: dict[str, str]) -> dict[str, Parsed]:
    c = {f: pl.col(header) for f, header in h.items()}
    period = parse.period(c["period"])
    parsers = {
        "order_id": parse.plain_text(c["order_id"]),
        "period": period,
        "province_code": _province(frame, h["province_code"]),
        "ward_code": parse.ward_code(c["ward_code"]),
        "beneficiary_id": parse.plain_text(c["beneficiary_id"]),
        "national_id": parse.national_id(c["national_id"]),
        "full_name": parse.name(c["full_name"]),
        "birth_date": parse.date_iso(c["birth_date"]),
        "program": parse.one_of(c["program"], _PROGRAMS, "program"),
        "allowance_code": parse.plain_text(c["allowance_code"]),
        "amount_vnd": _positive(parse.amount_text(c["amount_vnd"], "plain"), c["amount_vnd"]),
        "covers": _covers(c["covers"], period.value),
        "proxy_national_id": parse.national_id(c["proxy_national_id"]),
        "proxy_name": parse.name(c["proxy_name"]),
        "proxy_valid_until": parse.date_iso(c["proxy_valid_until"]),
    }
    return parsers


def _positive(parsed: Parsed, raw: pl.Expr) -> Parsed:
    zero = raw.is_not_null() & (parsed.value == 0)
    reason = pl.when(zero).then(pl.lit("an order's amount must be > 0")).otherwise(parsed.reason)
    return Parsed(pl.when(~zero).then(parsed.value), reason)  # no value where there is a reason


def _event_parsers(h: dict[str, str]) -> dict[str, Parsed]:
    c = {f: pl.col(header) for f, header in h.items()}
    return {
        "beneficiary_id": parse.plain_text(c["beneficiary_id"]),
        "national_id": parse.national_id(c["national_id"]),
        "event": parse.one_of(c["event"].str.to_uppercase(), [str(e) for e in RegistryEvent], "event"),
        "effective_date": parse.date_iso(c["effective_date"]),
    }


ParsersFor = Callable[[pl.DataFrame, dict[str, str]], dict[str, Parsed]]


def _load(
    path: Path,
    columns: tuple[str, ...],
    optional: tuple[str, ...],
    schema: Schema,
    parsers_for: ParsersFor,
    *,
    allow_empty: bool,
) -> Loaded:
    path = Path(path)
    raw = _read(path)
    headers = resolve_headers(raw.headers, {c: c for c in columns}, path.name)
    body = drop_blank_rows(raw.frame, raw.headers)
    if body.height == 0 and not allow_empty:
        raise InputError(f"{path.name}: the file has no rows; ask the department for the complete file.")
    parsers = parsers_for(body, headers)
    parsed = body.with_columns([p.value.alias(f"__f:{f}") for f, p in parsers.items()])
    checks = [
        field_check(
            headers[f],
            pl.col(headers[f]),
            pl.col(f"__f:{f}"),
            parse.required(pl.col(headers[f]), p, needed=f not in optional).reason,
            required=f not in optional,
        )
        for f, p in parsers.items()
    ]
    if "order_id" in parsers and parsed.get_column("__f:order_id").is_duplicated().any():
        # depends on other rows: computed on the whole frame, not on the flagged rows only
        first_row = pl.col(ROW).min().over("__f:order_id")
        dup = pl.col("__f:order_id").is_not_null() & (pl.col(ROW) != first_row)
        parsed = parsed.with_columns(
            pl.when(dup).then(pl.format("duplicate order_id (first on row {})", first_row)).alias("__dup")
        )
        checks.append(Check(headers["order_id"], pl.col(headers["order_id"]), pl.col("__dup")))
    good, rejects = split(parsed, checks, path.name)
    frame = conform(good.select([pl.col(f"__f:{f}").alias(f) for f in schema]), schema)
    return Loaded(source=path, sha256=raw.sha256, frame=frame, rejects=rejects)


def load_orders(path: Path) -> Loaded:
    """An orders file with exactly the columns of ``ORDER_FILE_COLUMNS`` (extra columns are ignored)."""
    return _load(
        path,
        ORDER_FILE_COLUMNS,
        _ORDER_OPTIONAL,
        ORDER_SCHEMA,
        lambda body, h: _order_parsers(body, h),
        allow_empty=False,
    )


def load_events(path: Path) -> Loaded:
    """A registry events file; a month without events may send a header-only file."""
    return _load(
        path,
        tuple(EVENT_SCHEMA),
        _EVENT_OPTIONAL,
        EVENT_SCHEMA,
        lambda body, h: _event_parsers(h),
        allow_empty=True,
    )
