"""The audit log: append-only and hash-chained, so a changed, removed or reordered entry is found.

Each entry holds the hash of the one before it; its own hash is the SHA-256
of a canonical JSON encoding (sorted keys, no spaces, UTF-8) of its sequence
number, time, action, details and that previous hash. Appends are serialised
by the database (SQLite's write lock, PostgreSQL's lock on the table), so two
processes never fork the chain. Entries name requests, runs and counts, never
URLs of deleted images or biometric data: callers pass only such details.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from storage.connecting import translated
from storage.database import Database
from storage.models import AuditEntry

GENESIS_HASH = "0" * 64


def _at_text(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(seq: int, at: datetime, action: str, details: Any, prev_hash: str) -> str:
    """The hash of one entry over its canonical JSON encoding."""
    canonical = json.dumps({"seq": seq, "at": _at_text(at), "action": action, "details": details,
                            "prev_hash": prev_hash}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append(database: Database, action: str, details: dict[str, Any], at: datetime | None = None) -> int:
    """Add one entry at the end of the chain; returns its sequence number."""
    with translated(database.target), database.session() as session, session.begin():
        return append_in(session, action, details, at)


def append_in(session: Session, action: str, details: dict[str, Any], at: datetime | None = None) -> int:
    """Add one entry within the caller's transaction (so the entry and the change it records commit together)."""
    _lock(session)
    last = session.execute(select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq = (last[0] if last else 0) + 1
    prev_hash = last[1] if last else GENESIS_HASH
    at = at or datetime.now(UTC)
    details = json.loads(json.dumps(details, default=str))  # exactly what the JSON column will give back
    session.add(AuditEntry(seq=seq, at=at, action=action, details=details, prev_hash=prev_hash,
                           entry_hash=entry_hash(seq, at, action, details, prev_hash)))
    session.flush()
    return seq


def _lock(session: Session) -> None:
    """Serialise appends: the next sequence number and the previous hash must be read by one writer at a time."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
    elif dialect == "sqlite":
        # A write first makes SQLite take its database write lock for the rest of this transaction.
        session.execute(text("UPDATE audit_log SET seq = seq WHERE 0"))


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The outcome of checking the chain: ``first_bad`` is the first entry that does not fit, and why."""

    entries: int
    first_bad: int | None
    problem: str | None

    @property
    def intact(self) -> bool:
        return self.first_bad is None

    def as_dict(self) -> dict[str, Any]:
        return {"intact": self.intact, "entries": self.entries, "first_bad": self.first_bad, "problem": self.problem}


def verify(database: Database) -> ChainCheck:
    """Walk the chain in order: every entry must follow the last (seq + 1, its prev_hash) and hash to itself."""
    with translated(database.target), database.session() as session:
        count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        previous_hash, expected_seq = GENESIS_HASH, 1
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
            if entry.seq != expected_seq:
                removed = "removed" if entry.seq > expected_seq else "repeated"
                return ChainCheck(count, expected_seq, f"entry {expected_seq} is {removed} (the next one is {entry.seq})")
            if entry.prev_hash != previous_hash:
                return ChainCheck(count, entry.seq, f"entry {entry.seq} does not follow entry {entry.seq - 1} "
                                                    "(its previous hash differs: removed, reordered or changed)")
            if entry_hash(entry.seq, entry.at, entry.action, entry.details, entry.prev_hash) != entry.entry_hash:
                return ChainCheck(count, entry.seq, f"entry {entry.seq} was changed (its content no longer hashes "
                                                    "to its recorded hash)")
            previous_hash, expected_seq = entry.entry_hash, expected_seq + 1
    return ChainCheck(count, None, None)
