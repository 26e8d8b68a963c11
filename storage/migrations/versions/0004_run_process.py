"""Which process runs a crawl (pid, host, start time), so a run whose process died can be marked interrupted.

``process_start_ticks`` is the process's start time in clock ticks since boot
(``/proc/<pid>/stat`` field 22 on Linux): with it a reused pid is not mistaken
for the crawl. ``finish_reason`` becomes text so the reason a run was marked
interrupted (who found the process dead, and when) fits in it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # add_column is a plain ALTER TABLE on SQLite too: crawl_runs is never rebuilt (rebuilding it would
    # drop the table, and with foreign keys on, cascade-delete every decision of every run)
    op.add_column("crawl_runs", sa.Column("pid", sa.Integer, nullable=True))
    op.add_column("crawl_runs", sa.Column("hostname", sa.String(255), nullable=True))
    op.add_column("crawl_runs", sa.Column("process_start_ticks", sa.BigInteger, nullable=True))
    if op.get_bind().dialect.name != "sqlite":  # SQLite does not enforce lengths: nothing to widen there
        op.alter_column("crawl_runs", "finish_reason", type_=sa.Text, existing_type=sa.String(64))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("crawl_runs", "finish_reason", type_=sa.String(64), existing_type=sa.Text)
    for column in ("process_start_ticks", "hostname", "pid"):
        op.drop_column("crawl_runs", column)
