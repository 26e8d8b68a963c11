"""A known value encrypted with the list's key, so a wrong key fails when the list is opened, not mid-crawl.

The column is filled by storage.suppression when it opens the list (a
migration has no key); a list made before Alembic with this column is adopted
at this revision.

Revision ID: s0002
Revises: s0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("suppression_state", sa.Column("key_check", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("suppression_state") as batch:
        batch.drop_column("key_check")
