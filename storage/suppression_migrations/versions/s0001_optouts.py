"""The suppression list as first shipped: opt-out entries, their encrypted templates, hashes and URLs, a revision.

A list made before the list had Alembic is adopted at this revision when its
``suppression_state`` has no ``key_check`` (see storage.suppression).

Revision ID: s0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "s0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "optouts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.Column("label", sa.LargeBinary),
    )
    for name in ("optout_templates", "optout_hashes", "optout_urls"):
        columns: list[sa.schema.SchemaItem] = [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("optout_id", sa.String(32), sa.ForeignKey("optouts.id"), nullable=False),
        ]
        if name == "optout_urls":
            columns.append(sa.Column("url_sha256", sa.String(64), nullable=False))
        op.create_table(name, *columns, sa.Column("ciphertext", sa.LargeBinary, nullable=False))
        op.create_index(f"ix_{name}_optout_id", name, ["optout_id"])
    op.create_index("ix_optout_urls_url_sha256", "optout_urls", ["url_sha256"])
    op.create_table(
        "suppression_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for name in ("suppression_state", "optout_urls", "optout_hashes", "optout_templates", "optouts"):
        op.drop_table(name)
