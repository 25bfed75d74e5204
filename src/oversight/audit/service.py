"""Append to and verify the hash-chained audit log.

``record()`` queues an entry on the session; the entries are chained and written just
before the session commits, under a lock on the single ``audit_head`` row (a row lock
on PostgreSQL, the database write lock on SQLite), so concurrent writers never fork the
chain.  Each entry's hash covers its content and the previous entry's hash, and the head
keeps the last sequence number and hash: ``verify()`` therefore detects an edited entry
(hash mismatch), a removed one (gap in the sequence or broken link), a reordered one
(broken link) and a truncated tail (head mismatch).

``record_later()`` is for views of protected data: the entry is queued for the process's
background writer (``writer.py``), which appends batches through the same ``append_entries``,
so a reader does not wait on the chain lock.  ``verify()`` and the ``/audit`` reader first wait
for this process's queued entries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from .models import AuditEntry, AuditHead

GENESIS = "0" * 64
_PENDING = "oversight_audit_pending"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def entry_hash(fields: dict[str, Any]) -> str:
    payload = {k: fields.get(k) for k in (
        "seq", "at", "actor_id", "actor", "action", "outcome", "object_type", "object_id",
        "region_code", "before", "after", "comment", "prev_hash")}
    if isinstance(payload["at"], dt.datetime):
        payload["at"] = payload["at"].isoformat(timespec="microseconds")
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _fields(action: str, actor: Any, outcome: str, object_type: str, object_id: str, region_code: str | None,
            before: dict | None, after: dict | None, comment: str) -> dict[str, Any]:
    if actor is None:
        actor_id, actor_name = None, ""
    elif isinstance(actor, str):
        actor_id, actor_name = None, actor
    else:
        actor_id, actor_name = actor.id, actor.username
    return {"at": _now(), "actor_id": actor_id, "actor": actor_name[:64], "action": action, "outcome": outcome,
            "object_type": object_type, "object_id": str(object_id)[:64], "region_code": region_code,
            "before": _jsonable(before), "after": _jsonable(after), "comment": comment or ""}


def record(session: Session, action: str, *, actor: Any = None, outcome: str = "ok",
           object_type: str = "", object_id: str = "", region_code: str | None = None,
           before: dict | None = None, after: dict | None = None, comment: str = "") -> None:
    """Queue one audit entry; it is written with the session's next commit (or dropped on rollback).

    ``actor`` is a user (anything with ``id`` and ``username``), a string (``system``, a
    username that failed to log in) or None.
    """
    session.info.setdefault(_PENDING, []).append(
        _fields(action, actor, outcome, object_type, object_id, region_code, before, after, comment))


def record_later(session: Session, action: str, *, actor: Any = None, outcome: str = "ok",
                 object_type: str = "", object_id: str = "", region_code: str | None = None,
                 before: dict | None = None, after: dict | None = None, comment: str = "") -> None:
    """Hand one entry to the background writer of ``session``'s database (see ``writer.py``).

    For reads of protected data: the entry does not depend on the session's transaction and
    is written within ``[audit] view_flush_ms`` (or at the latest when the app shuts down).
    """
    from . import writer

    fields = _fields(action, actor, outcome, object_type, object_id, region_code, before, after, comment)
    writer.submit(session.get_bind().engine, fields)


def flush_later(session: Session, timeout: float | None = 30.0) -> bool:
    """Wait until this process's queued entries for ``session``'s database are in the chain."""
    from . import writer

    return writer.flush(session.get_bind().engine, timeout)


def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        append_entries(session, pending)


def append_entries(session: Session, pending: list[dict[str, Any]]) -> None:
    """Chain ``pending`` onto the log in ``session``'s transaction (the caller commits)."""
    # take the chain lock first: the UPDATE row-locks the head (PostgreSQL) / takes the write lock (SQLite)
    res = session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    if res.rowcount == 0:
        session.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS))
    seq, prev = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    rows = []
    for fields in pending:
        seq += 1
        fields = dict(fields, seq=seq, prev_hash=prev)
        fields["hash"] = prev = entry_hash(fields)
        rows.append(fields)
    session.execute(insert(AuditEntry), rows)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        _write_pending(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def discard_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


@dataclass
class Problem:
    seq: int | None
    kind: str            # edited | removed | reordered | truncated | head
    message: str


@dataclass
class VerifyReport:
    entries: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, batch: int = 5000) -> VerifyReport:
    """Walk the chain in sequence order and report every break."""
    flush_later(session)
    report = VerifyReport()
    expected_seq, prev = 1, GENESIS
    last_seq = 0
    offset_seq = 0
    while True:
        chunk = session.scalars(select(AuditEntry).where(AuditEntry.seq > offset_seq)
                                .order_by(AuditEntry.seq).limit(batch)).all()
        if not chunk:
            break
        for e in chunk:
            report.entries += 1
            fields = {c: getattr(e, c) for c in ("seq", "at", "actor_id", "actor", "action", "outcome",
                                                 "object_type", "object_id", "region_code", "before",
                                                 "after", "comment", "prev_hash")}
            if e.seq != expected_seq:
                report.problems.append(Problem(e.seq, "removed",
                                               f"entries {expected_seq}..{e.seq - 1} are missing"))
            if e.prev_hash != prev:
                kind = "reordered" if e.seq == expected_seq else "removed"
                report.problems.append(Problem(e.seq, kind,
                                               f"entry {e.seq} does not follow the entry before it "
                                               f"(link {e.prev_hash[:12]}… ≠ {prev[:12]}…)"))
            actual = entry_hash(fields)
            if actual != e.hash:
                report.problems.append(Problem(e.seq, "edited",
                                               f"entry {e.seq} was changed after it was written "
                                               f"(content hash {actual[:12]}… ≠ stored {e.hash[:12]}…)"))
            prev, expected_seq, last_seq = e.hash, e.seq + 1, e.seq
        offset_seq = chunk[-1].seq
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last_seq or head.hash != prev):
        report.problems.append(Problem(head.seq, "truncated",
                                       f"the chain ends at entry {last_seq} but its head says {head.seq}: "
                                       "entries at the end were removed or the head was changed"))
    return report
