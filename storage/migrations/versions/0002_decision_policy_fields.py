"""Policy fields: decision breaches and summary, the pack's description, tdmrep.json and ai.txt states.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("breaches", sa.JSON, nullable=True))
        batch.add_column(sa.Column("policy_summary", sa.Text, nullable=True))
        batch.add_column(sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True))
        # the source now carries its evidence ("site-registry: shop.example.com: imprint reviewed ...")
        batch.alter_column("jurisdiction_source", type_=sa.Text, existing_type=sa.String(64))
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("policy_description", sa.Text, nullable=True))
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("tdmrep_state", sa.Text, nullable=True))
        batch.add_column(sa.Column("ai_txt_state", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.alter_column("jurisdiction_source", type_=sa.String(64), existing_type=sa.Text)
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("ai_txt_state")
        batch.drop_column("tdmrep_state")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("policy_description")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("fetched_at")
        batch.drop_column("policy_summary")
        batch.drop_column("breaches")
