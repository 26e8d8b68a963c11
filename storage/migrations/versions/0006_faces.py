"""Face boxes recorded at crawl time for stored images (``faces``), when each image's faces were looked for, and its
perceptual hash (so a rights request by URL finds resized and recompressed copies without decoding every file).

Never an encoding: a rights search re-encodes stored faces from these boxes.
Images stored before this revision have ``faces_searched_at`` NULL and are
searched on first need.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faces",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("image_sha256", sa.String(64), sa.ForeignKey("image_files.sha256", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("face_index", sa.Integer, nullable=False),
        sa.Column("top", sa.Integer, nullable=False),
        sa.Column("right", sa.Integer, nullable=False),
        sa.Column("bottom", sa.Integer, nullable=False),
        sa.Column("left", sa.Integer, nullable=False),
        sa.Column("detector", sa.String(16), nullable=False),
        sa.Column("landmark_model", sa.String(16), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_faces_sha256_index", "faces", ["image_sha256", "face_index"], unique=True)
    # add_column: a plain ALTER TABLE, image_files is never rebuilt (that would cascade into images)
    op.add_column("image_files", sa.Column("faces_searched_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("image_files", sa.Column("faces_search_complete", sa.Boolean, nullable=True))
    op.add_column("image_files", sa.Column("perceptual_hash", sa.BigInteger, nullable=True))


def downgrade() -> None:
    op.drop_column("image_files", "perceptual_hash")
    op.drop_column("image_files", "faces_search_complete")
    op.drop_column("image_files", "faces_searched_at")
    op.drop_index("ix_faces_sha256_index", "faces")
    op.drop_table("faces")
