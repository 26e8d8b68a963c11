"""Alembic's version table replaces the hand-kept ``schema_version`` column.

Revision ID: s0003
Revises: s0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "s0003"
down_revision = "s0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("suppression_state") as batch:  # nothing refers to this table: safe to rebuild
        batch.drop_column("schema_version")


def downgrade() -> None:
    with op.batch_alter_table("suppression_state") as batch:
        batch.add_column(sa.Column("schema_version", sa.Integer, nullable=False, server_default="2"))
