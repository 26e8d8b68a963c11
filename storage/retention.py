"""Retention: delete persisted face templates past their ``retention_until``, and say so in the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import CursorResult, delete, func, select

from storage.audit import append_in
from storage.database import Database
from storage.models import FaceTemplate


def expire_templates(database: Database, now: datetime | None = None) -> int:
    """Delete every template whose retention has ended; returns how many, recorded as an audit event."""
    now = now or datetime.now(UTC)
    with database.session() as session, session.begin():
        due = session.scalar(select(func.count()).select_from(FaceTemplate).where(FaceTemplate.retention_until <= now))
        removed = 0
        if due:
            result = session.execute(delete(FaceTemplate).where(FaceTemplate.retention_until <= now))
            removed = result.rowcount if isinstance(result, CursorResult) else int(due)
        append_in(session, "templates.expired", {"removed": removed, "cutoff": now.isoformat()}, at=now)
    return int(removed)
