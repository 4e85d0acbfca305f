"""filesets and pixels

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 01:19:12.074828
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "fileset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("directory", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=64), nullable=False),
        sa.Column("transfer", sa.String(length=16), nullable=False),
        sa.Column("timings", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_fileset_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_fileset_owner_id_experimenter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fileset")),
        sa.UniqueConstraint("directory", name=op.f("uq_fileset_directory")),
    )
    with op.batch_alter_table("fileset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fileset_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fileset_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fileset_state"), ["state"], unique=False)

    op.create_table(
        "fileset_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fileset_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("original_file_id", sa.Integer(), nullable=False),
        sa.Column("client_path", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fileset_id"],
            ["fileset.id"],
            name=op.f("fk_fileset_entry_fileset_id_fileset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["original_file_id"],
            ["original_file.id"],
            name=op.f("fk_fileset_entry_original_file_id_original_file"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fileset_entry")),
        sa.UniqueConstraint("fileset_id", "position", name=op.f("uq_fileset_entry_fileset_id")),
    )
    with op.batch_alter_table("fileset_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fileset_entry_fileset_id"), ["fileset_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fileset_entry_original_file_id"), ["original_file_id"], unique=False
        )

    op.create_table(
        "pixels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("size_x", sa.Integer(), nullable=False),
        sa.Column("size_y", sa.Integer(), nullable=False),
        sa.Column("size_z", sa.Integer(), nullable=False),
        sa.Column("size_c", sa.Integer(), nullable=False),
        sa.Column("size_t", sa.Integer(), nullable=False),
        sa.Column("pixel_type", sa.String(length=16), nullable=False),
        sa.Column("significant_bits", sa.Integer(), nullable=False),
        sa.Column("physical_size_x", sa.Float(), nullable=True),
        sa.Column("physical_size_y", sa.Float(), nullable=True),
        sa.Column("physical_size_z", sa.Float(), nullable=True),
        sa.Column("time_increment", sa.Float(), nullable=True),
        sa.Column("levels", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["image.id"], name=op.f("fk_pixels_image_id_image"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pixels")),
        sa.UniqueConstraint("image_id", name=op.f("uq_pixels_image_id")),
    )
    op.create_table(
        "channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pixels_id", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("emission_wavelength", sa.Float(), nullable=True),
        sa.Column("excitation_wavelength", sa.Float(), nullable=True),
        sa.Column("color", sa.Integer(), nullable=True),
        sa.Column("min", sa.Float(), nullable=True),
        sa.Column("max", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pixels_id"],
            ["pixels.id"],
            name=op.f("fk_channel_pixels_id_pixels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel")),
        sa.UniqueConstraint("pixels_id", "index", name=op.f("uq_channel_pixels_id")),
    )
    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channel_pixels_id"), ["pixels_id"], unique=False)

    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fileset_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("series", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("acquisition_date", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_image_fileset_id"), ["fileset_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_image_fileset_id_fileset"),
            "fileset",
            ["fileset_id"],
            ["id"],
            ondelete="CASCADE",
        )



def downgrade() -> None:

    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_image_fileset_id_fileset"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_image_fileset_id"))
        batch_op.drop_column("acquisition_date")
        batch_op.drop_column("series")
        batch_op.drop_column("fileset_id")

    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_pixels_id"))

    op.drop_table("channel")
    op.drop_table("pixels")
    with op.batch_alter_table("fileset_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fileset_entry_original_file_id"))
        batch_op.drop_index(batch_op.f("ix_fileset_entry_fileset_id"))

    op.drop_table("fileset_entry")
    with op.batch_alter_table("fileset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fileset_state"))
        batch_op.drop_index(batch_op.f("ix_fileset_owner_id"))
        batch_op.drop_index(batch_op.f("ix_fileset_group_id"))

    op.drop_table("fileset")
