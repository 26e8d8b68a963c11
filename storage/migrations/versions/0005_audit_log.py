"""The append-only, hash-chained audit log, replacing the plain audit_events table (its rows move into the chain).

Each entry's hash covers (seq, at, action, details, prev_hash) in a canonical
JSON encoding; the same encoding as ``storage.audit`` (copied here, so this
migration does not change when that module does).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _at_text(value: Any) -> str:
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _entry_hash(seq: int, at: str, action: str, details: Any, prev_hash: str) -> str:
    canonical = json.dumps({"seq": seq, "at": at, "action": action, "details": details, "prev_hash": prev_hash},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def upgrade() -> None:
    audit_log = op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    connection = op.get_bind()
    old = connection.execute(sa.text("select at, action, details from audit_events order by id")).all()
    previous = GENESIS
    rows = []
    for seq, (at, action, details) in enumerate(old, start=1):
        details = json.loads(details) if isinstance(details, str) else details
        at_text = _at_text(at)
        entry_hash = _entry_hash(seq, at_text, action, details, previous)
        rows.append({"seq": seq, "at": datetime.fromisoformat(at_text), "action": action, "details": details,
                     "prev_hash": previous, "entry_hash": entry_hash})
        previous = entry_hash
    if rows:
        op.bulk_insert(audit_log, rows)
    op.drop_table("audit_events")


def downgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.execute("insert into audit_events (at, action, details) select at, action, details from audit_log order by seq")
    op.drop_table("audit_log")
