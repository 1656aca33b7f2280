"""Canonical records: the only shapes that cross module boundaries.

Every loader produces these frames, the ledger stores and returns them, and the reconcile core consumes them.
Money is ``Int64`` whole VND; text is NFC; national IDs are normalised (see ``disburse.text``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import polars as pl

Schema = dict[str, pl.DataType]

ORDER_SCHEMA: Final[Schema] = {
    "order_id": pl.String(),
    "period": pl.String(),  # YYYY-MM, the month being paid
    "province_code": pl.String(),  # current 2-digit GSO code (legacy codes mapped on load)
    "ward_code": pl.String(),  # 5-digit GSO code
    "beneficiary_id": pl.String(),
    "national_id": pl.String(),  # normalised
    "full_name": pl.String(),
    "birth_date": pl.Date(),
    "program": pl.String(),  # NCC | BTXH
    "allowance_code": pl.String(),
    "amount_vnd": pl.Int64(),
    "covers": pl.List(pl.String()),  # periods paid by this line; never empty (defaults to [period])
    "proxy_national_id": pl.String(),  # nullable
    "proxy_name": pl.String(),  # nullable
    "proxy_valid_until": pl.Date(),  # nullable
}

# Column order of the orders file (CSV / Parquet / XLSX); `covers` is comma-separated text there.
ORDER_FILE_COLUMNS: Final[tuple[str, ...]] = tuple(ORDER_SCHEMA)

EVENT_SCHEMA: Final[Schema] = {
    "beneficiary_id": pl.String(),
    "national_id": pl.String(),
    "event": pl.String(),  # RegistryEvent
    "effective_date": pl.Date(),
}

PAYOUT_SCHEMA: Final[Schema] = {
    "province_code": pl.String(),  # of the file (from the import), current code
    "period": pl.String(),  # of the file (from the import)
    "payout_id": pl.String(),  # the post office's reference, unique in its file
    "order_ref": pl.String(),  # one order_id, several joined by "|", or null (thainguyen)
    "beneficiary_id": pl.String(),
    "national_id": pl.String(),  # normalised
    "full_name": pl.String(),  # NFC, TCVN3 decoded
    "amount_paid_vnd": pl.Int64(),  # 0 when unpaid
    "fee_vnd": pl.Int64(),  # null where the dialect has no fee column
    "paid_on": pl.Date(),  # null allowed on unpaid lines
    "status": pl.String(),  # PayoutStatus
    "receiver_national_id": pl.String(),  # normalised, proxy payments only
    "ward_code": pl.String(),
    "post_office_code": pl.String(),
}

# One row per file whose footer carries control totals.
CONTROL_TOTAL_SCHEMA: Final[Schema] = {
    "province_code": pl.String(),
    "period": pl.String(),
    "source_name": pl.String(),
    "footer_paid_vnd": pl.Int64(),
    "footer_fee_vnd": pl.Int64(),
    "lines_paid_vnd": pl.Int64(),
    "lines_fee_vnd": pl.Int64(),
}

# Rows a loader could not read. `row` is the 1-based line/row number in the source file as a person opening
# it would count (header rows included).
REJECT_SCHEMA: Final[Schema] = {
    "file": pl.String(),
    "row": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
}

EXCEPTION_SCHEMA: Final[Schema] = {
    "province_code": pl.String(),
    "period": pl.String(),
    "code": pl.String(),
    "severity": pl.String(),
    "order_id": pl.String(),
    "payout_id": pl.String(),
    "beneficiary_id": pl.String(),
    "national_id": pl.String(),
    "ordered_vnd": pl.Int64(),
    "paid_vnd": pl.Int64(),
    "difference_vnd": pl.Int64(),
    "detail": pl.String(),
}

EXPECTED_SCHEMA: Final[Schema] = {
    "code": pl.String(),
    "order_id": pl.String(),
    "payout_id": pl.String(),
}


class PayoutStatus(StrEnum):
    PAID = "PAID"
    PAID_PROXY = "PAID_PROXY"
    PAID_HOME = "PAID_HOME"
    UNPAID_ABSENT = "UNPAID_ABSENT"
    UNPAID_MOVED = "UNPAID_MOVED"
    UNPAID_DECEASED = "UNPAID_DECEASED"
    UNPAID_REFUSED = "UNPAID_REFUSED"


PAID_STATUSES: Final[frozenset[str]] = frozenset({"PAID", "PAID_PROXY", "PAID_HOME"})


class RegistryEvent(StrEnum):
    DECEASED = "DECEASED"
    MOVED = "MOVED"
    IMPRISONED = "IMPRISONED"
    SUSPENDED = "SUSPENDED"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"
    INFO = "info"


SEVERITY_RANK: Final[dict[str, int]] = {"critical": 0, "high": 1, "warning": 2, "info": 3}


class Code(StrEnum):
    PHANTOM_PAYOUT = "PHANTOM_PAYOUT"
    DUPLICATE_PAYOUT = "DUPLICATE_PAYOUT"
    OVERPAID = "OVERPAID"
    PAID_AFTER_DEATH = "PAID_AFTER_DEATH"
    PROXY_UNAUTHORIZED = "PROXY_UNAUTHORIZED"
    ID_MISMATCH = "ID_MISMATCH"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    CONTROL_TOTAL_MISMATCH = "CONTROL_TOTAL_MISMATCH"
    UNDERPAID = "UNDERPAID"
    MISSING_RESULT = "MISSING_RESULT"
    PROXY_EXPIRED = "PROXY_EXPIRED"
    FEE_MISMATCH = "FEE_MISMATCH"
    PAID_LATE = "PAID_LATE"
    NAME_MISMATCH = "NAME_MISMATCH"
    LOCATION_MISMATCH = "LOCATION_MISMATCH"
    UNCOLLECTED_3_MONTHS = "UNCOLLECTED_3_MONTHS"
    UNPAID = "UNPAID"


SEVERITY: Final[dict[str, str]] = {
    Code.PHANTOM_PAYOUT: Severity.CRITICAL,
    Code.DUPLICATE_PAYOUT: Severity.CRITICAL,
    Code.OVERPAID: Severity.CRITICAL,
    Code.PAID_AFTER_DEATH: Severity.CRITICAL,
    Code.PROXY_UNAUTHORIZED: Severity.CRITICAL,
    Code.ID_MISMATCH: Severity.CRITICAL,
    Code.DUPLICATE_ORDER: Severity.CRITICAL,
    Code.CONTROL_TOTAL_MISMATCH: Severity.CRITICAL,
    Code.UNDERPAID: Severity.HIGH,
    Code.MISSING_RESULT: Severity.HIGH,
    Code.PROXY_EXPIRED: Severity.HIGH,
    Code.FEE_MISMATCH: Severity.HIGH,
    Code.PAID_LATE: Severity.WARNING,
    Code.NAME_MISMATCH: Severity.WARNING,
    Code.LOCATION_MISMATCH: Severity.WARNING,
    Code.UNCOLLECTED_3_MONTHS: Severity.WARNING,
    Code.UNPAID: Severity.INFO,
}


def empty(schema: Schema) -> pl.DataFrame:
    """An empty frame of a canonical schema."""
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame, schema: Schema) -> pl.DataFrame:
    """Select exactly the schema's columns, in order, cast to its types (strict: a bad cast raises)."""
    return frame.select([pl.col(name).cast(dtype, strict=True) for name, dtype in schema.items()])


# --- reconcile core I/O -------------------------------------------------------------------------------------

class OrderState(StrEnum):
    OPEN = "OPEN"  # unpaid (UNPAID or MISSING_RESULT) and not superseded: may be paid in a later period
    PAID = "PAID"  # matched by a paid line (any amount > 0)
    SUPERSEDED = "SUPERSEDED"  # replaced by an arrears order whose `covers` includes its months


# Orders of earlier periods as the ledger knows them before this run.
PRIOR_ORDER_SCHEMA: Final[Schema] = {
    **ORDER_SCHEMA,
    "state": pl.String(),  # OrderState after the latest run that touched it
    "unpaid_in_own_period": pl.Boolean(),  # its own period's run found it UNPAID or MISSING_RESULT
}

# One row per order of the period and per prior order the run touched (paid now, superseded now, or still
# open): what the ledger stores so the next period knows what is open.
OUTCOME_SCHEMA: Final[Schema] = {
    "order_id": pl.String(),
    "period": pl.String(),  # the order's own period
    "province_code": pl.String(),
    "beneficiary_id": pl.String(),
    "allowance_code": pl.String(),
    "amount_vnd": pl.Int64(),
    "state": pl.String(),  # OrderState after this run
    "paid_vnd": pl.Int64(),  # allocated to this order by its matching line (0 if none)
    "payout_id": pl.String(),  # the matching line, null if none
    "unpaid_in_own_period": pl.Boolean(),
}

# Money per province and period. ordered = matched_paid + underpaid_gap + unpaid + missing;
# residual = advance + carried_in - paid_out - returned - carried_out (positive: cash the post office
# should still hold; negative: paid beyond the orders).
SUMMARY_SCHEMA: Final[Schema] = {
    "province_code": pl.String(),
    "period": pl.String(),
    "orders": pl.Int64(),
    "payout_lines": pl.Int64(),
    "ordered_vnd": pl.Int64(),
    "matched_paid_vnd": pl.Int64(),  # paid on matched orders, capped at what each order asked
    "underpaid_gap_vnd": pl.Int64(),
    "unpaid_vnd": pl.Int64(),
    "missing_vnd": pl.Int64(),
    "phantom_vnd": pl.Int64(),
    "duplicate_vnd": pl.Int64(),
    "overpaid_vnd": pl.Int64(),
    "paid_out_vnd": pl.Int64(),  # every paid line of the period's files
    "fee_vnd": pl.Int64(),  # as reported, or from the tariff where the dialect has no fee
    "advance_vnd": pl.Int64(),  # this period's orders
    "carried_in_vnd": pl.Int64(),  # open orders of earlier periods
    "returned_vnd": pl.Int64(),  # open orders superseded by arrears orders this period
    "carried_out_vnd": pl.Int64(),  # orders still open after this run
    "residual_vnd": pl.Int64(),
}
