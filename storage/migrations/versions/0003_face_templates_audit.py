"""Face templates kept where the policy allowed ``persist``, and an audit trail of what the machine changed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_templates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("image_sha256", sa.String(64), nullable=False),
        sa.Column("face_index", sa.Integer, nullable=False),
        sa.Column("box", sa.JSON, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("landmark_model", sa.String(16), nullable=False),
        sa.Column("allowed_by", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retention_until", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_face_templates_retention", "face_templates", ["retention_until"])
    op.create_index("ix_face_templates_sha256", "face_templates", ["image_sha256"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("face_templates")
