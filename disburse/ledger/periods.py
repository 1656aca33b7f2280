"""Period close / reopen per province as append-only events; a (period, province)'s latest event rules."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, insert, select

from disburse.errors import LedgerError
from disburse.ledger import audit
from disburse.ledger.models import PeriodEvent

CLOSE = "close"
REOPEN = "reopen"


def closed_provinces(conn: Connection, period: str) -> set[str]:
    """Provinces whose ``period`` is closed now."""
    state: dict[str, str] = {}
    rows = conn.execute(
        select(PeriodEvent.province_code, PeriodEvent.action)
        .where(PeriodEvent.period == period)
        .order_by(PeriodEvent.id)
    )
    for province, action in rows:
        state[province] = action
    return {province for province, action in state.items() if action == CLOSE}


def refuse_if_closed(conn: Connection, pairs: Iterable[tuple[str | None, str]], *, doing: str) -> None:
    """LedgerError naming the first closed (province, period) of ``pairs``; province None = any province."""
    cache: dict[str, set[str]] = {}
    for province, period in sorted(pairs, key=lambda p: (p[1], p[0] or "")):
        closed = cache.setdefault(period, closed_provinces(conn, period))
        hit = sorted(closed) if province is None else ([province] if province in closed else [])
        if hit:
            raise LedgerError(
                f"Cannot {doing}: period {period} is closed for province {hit[0]}; "
                "reopen the period for that province, giving a reason, if it must change."
            )


def close(conn: Connection, period: str, province_code: str, *, user: str) -> bool:
    """Close the period; False (nothing written) if it already is."""
    if province_code in closed_provinces(conn, period):
        return False
    _event(conn, period, province_code, CLOSE, "closed", user)
    return True


def reopen(conn: Connection, period: str, province_code: str, *, reason: str, user: str) -> None:
    if not reason.strip():
        raise LedgerError(f"Reopening period {period} of province {province_code} needs a reason.")
    if province_code not in closed_provinces(conn, period):
        raise LedgerError(
            f"Period {period} of province {province_code} is not closed, so it cannot be reopened."
        )
    _event(conn, period, province_code, REOPEN, reason, user)


def _event(conn: Connection, period: str, province_code: str, action: str, reason: str, user: str) -> None:
    conn.execute(
        insert(PeriodEvent).values(
            period=period,
            province_code=province_code,
            action=action,
            reason=reason,
            at=audit.now_utc(),
            actor=user,
        )
    )
    audit.append(
        conn,
        actor=user,
        action=f"{action}_period",
        subject=f"period:{period}:{province_code}",
        detail={"period": period, "province_code": province_code, "reason": reason},
    )
