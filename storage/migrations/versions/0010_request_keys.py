"""One decision per request and run, whichever worker made it: decisions.request_key with a unique index per run,
and one page row and one image row per decision (crawler.frontier: a request retried after its worker died).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as table:
        table.add_column(sa.Column("request_key", sa.String(64), nullable=True))
        table.create_index("ix_decisions_run_request_key", ["run_id", "request_key"], unique=True)
    with op.batch_alter_table("pages") as table:
        table.create_index("ix_pages_decision", ["decision_id"], unique=True)
    with op.batch_alter_table("images") as table:
        table.create_index("ix_images_decision", ["decision_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("images") as table:
        table.drop_index("ix_images_decision")
    with op.batch_alter_table("pages") as table:
        table.drop_index("ix_pages_decision")
    with op.batch_alter_table("decisions") as table:
        table.drop_index("ix_decisions_run_request_key")
        table.drop_column("request_key")
