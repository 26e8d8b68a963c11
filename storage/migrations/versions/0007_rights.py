"""The rights service: requests, one task per store per request, probe templates while a request runs, receipts;
and a tombstone marker on decisions emptied by a deletion.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rights_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("jurisdiction", sa.String(16), nullable=False),
        sa.Column("jurisdiction_source", sa.String(16), nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("optout", sa.Boolean, nullable=False),
        sa.Column("subject", sa.JSON, nullable=False),
        sa.Column("identified", sa.JSON, nullable=True),
        sa.Column("answer", sa.JSON, nullable=True),
        sa.Column("failure", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("optout_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_rights_requests_status", "rights_requests", ["status"])
    op.create_table(
        "rights_tasks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(32), sa.ForeignKey("rights_requests.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("store", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("removed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_rights_tasks_request_store", "rights_tasks", ["request_id", "store"], unique=True)
    op.create_table(
        "rights_probes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(32), sa.ForeignKey("rights_requests.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rights_probes_request_id", "rights_probes", ["request_id"])
    op.create_table(
        "rights_receipts",
        sa.Column("request_id", sa.String(32), sa.ForeignKey("rights_requests.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("decisions", sa.Column("deleted_by_request", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("decisions", "deleted_by_request")
    for table in ("rights_receipts", "rights_probes", "rights_tasks", "rights_requests"):
        op.drop_table(table)
