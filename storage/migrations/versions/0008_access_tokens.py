"""Requester tokens of the HTTP API: the SHA-256 of the token that opens one rights request or one opt-out.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_access_tokens_subject", "access_tokens", ["subject_kind", "subject_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_access_tokens_subject", "access_tokens")
    op.drop_table("access_tokens")
