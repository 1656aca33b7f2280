"""Append-only, hash-chained audit log.

Each row stores ``hash = sha256(prev_hash + canonical_json(event))`` where the event is the row's own columns
(seq, at, actor, action, subject, detail). Rewriting any row, or deleting one in the middle, breaks the chain
from that row on; ``verify_chain`` reports the first row that does not check out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from disburse.ledger.models import AuditLog

GENESIS = "0" * 64


def canonical_json(value: object) -> str:
    """Sorted keys, no spaces, Unicode kept: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(
    prev_hash: str, seq: int, at: str, actor: str, action: str, subject: str, detail_json: str
) -> str:
    event = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "detail": json.loads(detail_json),
    }
    return hashlib.sha256((prev_hash + canonical_json(event)).encode()).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)


def naive_utc(value: object) -> object:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: make both naive UTC for frames."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def append(conn: Connection, *, actor: str, action: str, subject: str, detail: Mapping[str, Any]) -> str:
    """Append one event inside the caller's write transaction (which holds the writer lock); its hash."""
    head = conn.execute(select(AuditLog.seq, AuditLog.hash).order_by(AuditLog.seq.desc()).limit(1)).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    at = now_utc().isoformat(timespec="microseconds")
    detail_json = canonical_json(dict(detail))
    digest = chain_hash(prev, seq, at, actor, action, subject, detail_json)
    conn.execute(
        insert(AuditLog).values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            detail_json=detail_json,
            prev_hash=prev,
            hash=digest,
        )
    )
    return digest


def verify_chain(conn: Connection) -> list[str]:
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    rows = conn.execute(
        select(
            AuditLog.seq,
            AuditLog.at,
            AuditLog.actor,
            AuditLog.action,
            AuditLog.subject,
            AuditLog.detail_json,
            AuditLog.prev_hash,
            AuditLog.hash,
        ).order_by(AuditLog.seq)
    )
    for seq, at, actor, action, subject, detail_json, prev_hash, stored_hash in rows:
        if seq != expected_seq:
            problems.append(f"audit log: entry {expected_seq} is missing (next is {seq})")
        if prev_hash != prev:
            problems.append(f"audit log: entry {seq} does not follow the entry before it (chain broken)")
        try:
            recomputed = chain_hash(prev_hash, seq, at, actor, action, subject, detail_json)
        except (ValueError, TypeError):
            recomputed = ""
        if recomputed != stored_hash:
            problems.append(f"audit log: entry {seq} ({action} {subject}) was altered after it was written")
        prev = stored_hash
        expected_seq = seq + 1
        if len(problems) > 20:
            problems.append("audit log: further problems not listed")
            break
    return problems


def events(conn: Connection, action: str) -> list[tuple[str, dict[str, Any]]]:
    """(subject, detail) of every event of one action, in order."""
    rows = conn.execute(
        select(AuditLog.subject, AuditLog.detail_json).where(AuditLog.action == action).order_by(AuditLog.seq)
    )
    return [(subject, json.loads(detail_json)) for subject, detail_json in rows]
