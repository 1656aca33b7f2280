"""Importing files as ledger batches: orders, registry events, payout files in their dialects."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import polars as pl

from disburse import profile as profiles
from disburse.errors import InputError
from disburse.ledger import BatchReceipt, Ledger
from disburse.loaders.columns import resolve_headers
from disburse.loaders.events import load_events
from disburse.loaders.model import Loaded, LoadedPayouts
from disburse.loaders.orders import load_orders
from disburse.loaders.payouts import load_payouts
from disburse.pipeline.settings import MAX_REJECTS_SHOWN, check_period, current_user


def _refuse_rejects(loaded: Loaded) -> None:
    """A file with unreadable rows is refused whole: nothing of it is imported."""
    if loaded.rejects.is_empty():
        return
    shown = loaded.rejects.head(MAX_REJECTS_SHOWN)
    lines = [
        f"  row {r['row']}, column {r['column']!r}, value {r['value']!r}: {r['reason']}"
        for r in shown.iter_rows(named=True)
    ]
    more = loaded.rejects.height - shown.height
    tail = [f"  ... and {more} more"] if more > 0 else []
    raise InputError(
        "\n".join(
            [
                f"{loaded.source}: {loaded.rejects.height} row(s) cannot be read, so nothing of the file "
                "was imported; correct them and import the file again:",
                *lines,
                *tail,
            ]
        )
    )


def province_code(code: str) -> str:
    """The current code of a province given by current or legacy code."""
    try:
        return profiles.current_code(code)
    except profiles.ProfileError as exc:
        raise InputError(f"{exc}.") from exc


@dataclass(frozen=True)
class ImportReport:
    source: Path
    kind: str
    receipt: BatchReceipt
    period: str | None
    province_code: str | None


def _single_period(loaded: Loaded) -> str:
    periods = loaded.frame["period"].unique().sort().to_list()
    if len(periods) != 1:
        raise InputError(
            f"{loaded.source}: an orders file must hold one period, this one holds {periods or 'none'}; "
            "split it by period."
        )
    return str(periods[0])


class Progress(Protocol):
    """Told where a long job stands: ``done`` of ``total`` steps of ``job``, now ``doing``. The CLI draws
    bars from it; scripts and tests pass nothing (``no_progress``)."""

    def __call__(self, job: str, done: int, total: int, doing: str) -> None: ...


def no_progress(job: str, done: int, total: int, doing: str) -> None:
    """The default: nobody is watching."""


def _existing_file(path: Path) -> Path:
    """Refuse a path that is not a file before any loader reads it, with the fix in the message."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file; give the path of the file inside it.")
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path and try again.")
    return path


def import_orders(
    ledger: Ledger, path: Path, *, supersedes: int | None = None, progress: Progress = no_progress
) -> ImportReport:
    job = f"import {path.name}"
    progress(job, 0, 2, "reading and checking every row")
    loaded = _load_canonical(_existing_file(path), "orders")
    _refuse_rejects(loaded)
    period = _single_period(loaded)
    provinces = loaded.frame["province_code"].unique().to_list()
    province = provinces[0] if len(provinces) == 1 else None
    progress(job, 1, 2, "storing in the ledger")
    receipt = ledger.import_batch(
        "orders", loaded, province_code=province, period=period, user=current_user(), supersedes=supersedes
    )
    progress(job, 2, 2, "done")
    return ImportReport(path, "orders", receipt, period, province)


def import_events(
    ledger: Ledger, path: Path, *, supersedes: int | None = None, progress: Progress = no_progress
) -> ImportReport:
    job = f"import {path.name}"
    progress(job, 0, 2, "reading and checking every row")
    loaded = _load_canonical(_existing_file(path), "events")
    _refuse_rejects(loaded)
    progress(job, 1, 2, "storing in the ledger")
    receipt = ledger.import_batch(
        "events", loaded, province_code=None, period=None, user=current_user(), supersedes=supersedes
    )
    progress(job, 2, 2, "done")
    return ImportReport(path, "events", receipt, None, None)


def import_payouts(
    ledger: Ledger,
    path: Path,
    *,
    province: str,
    period: str,
    dialect: str | None = None,
    supersedes: int | None = None,
    progress: Progress = no_progress,
) -> ImportReport:
    check_period(period)
    try:
        province_profile = profiles.profile_for(province, dialect)
    except profiles.ProfileError as exc:
        raise InputError(f"{path}: {exc}.") from exc
    job = f"import {path.name}"
    progress(job, 0, 2, "reading and checking every row")
    loaded = _load_payouts_of(_existing_file(path), province_profile, period)
    _refuse_rejects(loaded)
    progress(job, 1, 2, "storing in the ledger")
    receipt = ledger.import_batch(
        "payouts",
        loaded,
        province_code=province_profile.province_code,
        period=period,
        user=current_user(),
        supersedes=supersedes,
    )
    progress(job, 2, 2, "done")
    return ImportReport(path, "payouts", receipt, period, province_profile.province_code)


def _load_payouts_of(path: Path, profile: profiles.ProvinceProfile, period: str) -> LoadedPayouts:
    """Load in ``profile``'s dialect; a file that cannot be read so but whose header is another
    province's is named as that province's file: the usual slip is the wrong --province."""
    try:
        return load_payouts(path, profile, period, check_scope=True)
    except InputError as exc:
        kind = _canonical_kind(path)
        if kind is not None:
            raise InputError(
                f"{path}: this is an {kind} file, not a payout result file; "
                f"import it with `disburse import {kind} {path}`."
            ) from exc
        other = _dialect_of(path)
        if other is None or other.dialect == profile.dialect:
            raise
        raise InputError(
            f"{path}: this is a payout file in the {other.dialect} format of province "
            f"{other.province_code} ({other.province_name}), not in the {profile.dialect} format of province "
            f"{profile.province_code} ({profile.province_name}); import it with --province "
            f"{other.province_code}, or ask province {profile.province_code} for its own file."
        ) from exc


def _load_canonical(path: Path, kind: str) -> Loaded:
    """An orders or events file; a payout result file given by mistake is named as such."""
    try:
        return load_orders(path) if kind == "orders" else load_events(path)
    except InputError as exc:
        payout = _dialect_of(path)
        if payout is None:
            raise
        raise InputError(
            f"{path}: this is a payout result file in the {payout.dialect} format of province "
            f"{payout.province_code} ({payout.province_name}), not an {kind} file; import it with "
            f"`disburse import payouts {path} --province {payout.province_code} --period YYYY-MM`."
        ) from exc


# Columns that tell the canonical files apart (DOMAIN.md "Canonical records").
_CANONICAL_MARKERS = {"orders": {"order_id", "amount_vnd"}, "events": {"event", "effective_date"}}


def _canonical_kind(path: Path) -> str | None:
    """ "orders" or "events" when the file carries that canonical header, else None."""
    try:
        if path.suffix.lower() == ".parquet":
            headers: set[str] = set(pl.read_parquet_schema(path))
        elif path.suffix.lower() == ".xlsx":
            import fastexcel

            sheet = fastexcel.read_excel(path).load_sheet(0, header_row=0, n_rows=0)
            headers = {str(c.name) for c in sheet.available_columns()}
        else:
            with path.open("rb") as handle:
                first = handle.read(1 << 16).decode("utf-8-sig", errors="replace").splitlines()[:1]
            headers = set(next(csv.reader(first), []))
    except Exception:  # unreadable as a canonical file: then it is not one
        return None
    return next((kind for kind, marks in _CANONICAL_MARKERS.items() if marks <= headers), None)


def _dialect_of(path: Path) -> profiles.ProvinceProfile | None:
    """The first profile whose header the file carries, reading only the header (this runs only after a
    file failed to load, so its cost is paid on the error path alone)."""
    for candidate in profiles.all_profiles().values():
        try:
            headers = _header_in(path, candidate)
            resolve_headers(headers, candidate.columns, path.name, optional=("row_number",))
        except Exception:  # unreadable in this dialect, or another header: "not this dialect"
            continue
        return candidate
    return None


def _header_in(path: Path, candidate: profiles.ProvinceProfile) -> tuple[str, ...]:
    if candidate.container == "xlsx":
        import fastexcel  # the XLSX reader the loaders use; only the header row is read here

        reader = fastexcel.read_excel(path)
        sheet: str | int = candidate.sheet if candidate.sheet is not None else 0
        loaded = reader.load_sheet(sheet, header_row=candidate.header_row - 1, n_rows=0)
        return tuple(str(c.name) for c in loaded.available_columns())
    with path.open("rb") as handle:
        head = handle.read(1 << 16).decode(candidate.encoding, errors="replace")
    rows = list(csv.reader(io.StringIO(head), delimiter=candidate.delimiter))
    return tuple(rows[candidate.header_row - 1]) if len(rows) >= candidate.header_row else ()
