"""Face templates keep the law's own clock: what they are kept for, when that purpose ends, and the person's last
interaction (740 ILCS 14/15(a); Tex. Bus. & Com. Code §503.001(c)(3)).

Revision ID: 0009
Revises: 0007 (to be re-chained onto 0008, the api_tokens migration, when both are merged)
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("face_templates") as table:
        table.add_column(sa.Column("purpose", sa.String(200), nullable=True))
        table.add_column(sa.Column("purpose_ends_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("last_interaction_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("face_templates") as table:
        table.drop_column("last_interaction_at")
        table.drop_column("purpose_ends_at")
        table.drop_column("purpose")
