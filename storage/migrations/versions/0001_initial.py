"""Initial schema: crawl runs, sites, pages, image files, images, decisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("finish_reason", sa.String(64)),
        sa.Column("policy_name", sa.String(64), nullable=False),
        sa.Column("policy_revision", sa.String(64), nullable=False),
        sa.Column("product_token", sa.String(64), nullable=False),
        sa.Column("testsites", sa.Boolean, nullable=False),
        sa.Column("start_urls", sa.JSON, nullable=False),
        sa.Column("stats", sa.JSON),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("crawl_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("decided_at", TZ, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("final_url", sa.Text),
        sa.Column("page_url", sa.Text),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("policy_revision", sa.String(64), nullable=False),
        sa.Column("jurisdiction", sa.String(16)),
        sa.Column("jurisdiction_source", sa.String(64)),
        sa.Column("signals", sa.JSON, nullable=False),
        sa.Column("matched_rules", sa.JSON, nullable=False),
        sa.Column("effect", sa.String(8), nullable=False),
        sa.Column("obligations", sa.JSON, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
    )
    op.create_index("ix_decisions_run_kind_outcome", "decisions", ["run_id", "kind", "outcome"])
    op.create_index("ix_decisions_url", "decisions", ["url"])
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("crawl_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("origin", sa.String(512), nullable=False),
        sa.Column("robots_url", sa.Text, nullable=False),
        sa.Column("robots_availability", sa.String(16), nullable=False),
        sa.Column("robots_note", sa.Text, nullable=False),
        sa.Column("crawl_delay_seconds", sa.Float),
        sa.Column("fetched_at", TZ, nullable=False),
    )
    op.create_index("ix_sites_run_origin", "sites", ["run_id", "origin"], unique=True)
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("crawl_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("fetched_at", TZ, nullable=False),
        sa.Column("links_found", sa.Integer, nullable=False),
        sa.Column("images_found", sa.Integer, nullable=False),
    )
    op.create_index("ix_pages_run_id", "pages", ["run_id"])
    op.create_table(
        "image_files",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("byte_size", sa.BigInteger, nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("first_stored_at", TZ, nullable=False),
    )
    op.create_table(
        "images",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("crawl_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("page_url", sa.Text),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("image_files.sha256"), nullable=False),
        sa.Column("content_type", sa.String(128)),
        sa.Column("stored_at", TZ, nullable=False),
    )
    op.create_index("ix_images_run_id", "images", ["run_id"])
    op.create_index("ix_images_sha256", "images", ["sha256"])


def downgrade() -> None:
    for table in ("images", "image_files", "pages", "sites", "decisions", "crawl_runs"):
        op.drop_table(table)
