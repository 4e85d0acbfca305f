"""regions of interest; screens, plates, wells and fields

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:54:50.228931
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pixelvault.catalog import triggers

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


# What a changed row means for the search index: a ROI's name and its shapes' text
# are part of its image's document (the service touches the ROI when its shapes
# change, so shapes need no trigger of their own).
TRIGGERS: dict[str, triggers.Events] = {
    "roi": [("'image'", "R.image_id")],
    "screen": [("'screen'", "R.id")],
    "plate": [("'plate'", "R.id")],
    "screen_plate_link": [("'screen'", "R.parent_id"), ("'plate'", "R.child_id")],
    "well": [("'well'", "R.id")],
    "well_sample": [("'well'", "R.well_id")],
}


def upgrade() -> None:
    op.create_table(
        "screen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_screen_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_screen_owner_id_experimenter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screen")),
    )
    with op.batch_alter_table("screen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screen_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_screen_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "plate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("fileset_id", sa.Integer(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("columns", sa.Integer(), nullable=False),
        sa.Column("row_naming", sa.String(length=16), nullable=False),
        sa.Column("column_naming", sa.String(length=16), nullable=False),
        sa.Column("field_index", sa.Integer(), nullable=False),
        sa.Column("external_identifier", sa.String(length=1024), nullable=False),
        sa.Column("status", sa.String(length=1024), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fileset_id"],
            ["fileset.id"],
            name=op.f("fk_plate_fileset_id_fileset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_plate_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_plate_owner_id_experimenter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plate")),
    )
    with op.batch_alter_table("plate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plate_fileset_id"), ["fileset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plate_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plate_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "plate_acquisition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plate_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("maximum_field_count", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_plate_acquisition_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["experimenter.id"],
            name=op.f("fk_plate_acquisition_owner_id_experimenter"),
        ),
        sa.ForeignKeyConstraint(
            ["plate_id"],
            ["plate.id"],
            name=op.f("fk_plate_acquisition_plate_id_plate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plate_acquisition")),
    )
    with op.batch_alter_table("plate_acquisition", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plate_acquisition_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_plate_acquisition_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_plate_acquisition_plate_id"), ["plate_id"], unique=False
        )

    op.create_table(
        "roi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["experimenter_group.id"], name=op.f("fk_roi_group_id_experimenter_group")
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["image.id"], name=op.f("fk_roi_image_id_image"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_roi_owner_id_experimenter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roi")),
    )
    with op.batch_alter_table("roi", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roi_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_roi_image_id"), ["image_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_roi_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "screen_plate_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["plate.id"],
            name=op.f("fk_screen_plate_link_child_id_plate"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_screen_plate_link_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["experimenter.id"],
            name=op.f("fk_screen_plate_link_owner_id_experimenter"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["screen.id"],
            name=op.f("fk_screen_plate_link_parent_id_screen"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screen_plate_link")),
        sa.UniqueConstraint("parent_id", "child_id", name=op.f("uq_screen_plate_link_parent_id")),
    )
    with op.batch_alter_table("screen_plate_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screen_plate_link_child_id"), ["child_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_screen_plate_link_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_screen_plate_link_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_screen_plate_link_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "well",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plate_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("column", sa.Integer(), nullable=False),
        sa.Column("color", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=1024), nullable=False),
        sa.Column("external_description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_well_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_well_owner_id_experimenter")
        ),
        sa.ForeignKeyConstraint(
            ["plate_id"], ["plate.id"], name=op.f("fk_well_plate_id_plate"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_well")),
        sa.UniqueConstraint("plate_id", "row", "column", name=op.f("uq_well_plate_id")),
    )
    with op.batch_alter_table("well", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_well_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_well_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_well_plate_id"), ["plate_id"], unique=False)

    op.create_table(
        "shape",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roi_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("the_z", sa.Integer(), nullable=True),
        sa.Column("the_t", sa.Integer(), nullable=True),
        sa.Column("the_c", sa.Integer(), nullable=True),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("style", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("transform", sa.String(length=512), nullable=True),
        sa.Column("mask", sa.LargeBinary(), nullable=True),
        sa.Column("min_x", sa.Float(), nullable=False),
        sa.Column("min_y", sa.Float(), nullable=False),
        sa.Column("max_x", sa.Float(), nullable=False),
        sa.Column("max_y", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["image.id"], name=op.f("fk_shape_image_id_image"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["roi_id"], ["roi.id"], name=op.f("fk_shape_roi_id_roi"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shape")),
    )
    with op.batch_alter_table("shape", schema=None) as batch_op:
        batch_op.create_index("ix_shape_image_plane", ["image_id", "the_z", "the_t"], unique=False)
        batch_op.create_index(batch_op.f("ix_shape_roi_id"), ["roi_id"], unique=False)

    op.create_table(
        "well_sample",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("well_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("plate_acquisition_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.Integer(), nullable=False),
        sa.Column("position_x", sa.Float(), nullable=True),
        sa.Column("position_y", sa.Float(), nullable=True),
        sa.Column("timepoint", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["experimenter_group.id"],
            name=op.f("fk_well_sample_group_id_experimenter_group"),
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image.id"],
            name=op.f("fk_well_sample_image_id_image"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["experimenter.id"], name=op.f("fk_well_sample_owner_id_experimenter")
        ),
        sa.ForeignKeyConstraint(
            ["plate_acquisition_id"],
            ["plate_acquisition.id"],
            name=op.f("fk_well_sample_plate_acquisition_id_plate_acquisition"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["well_id"], ["well.id"], name=op.f("fk_well_sample_well_id_well"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_well_sample")),
        sa.UniqueConstraint("image_id", name=op.f("uq_well_sample_image_id")),
    )
    with op.batch_alter_table("well_sample", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_well_sample_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_well_sample_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_well_sample_plate_acquisition_id"),
            ["plate_acquisition_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_well_sample_well_id"), ["well_id"], unique=False)
    for table, events in TRIGGERS.items():
        triggers.create(op, table, events)


def downgrade() -> None:
    for table in TRIGGERS:
        triggers.drop(op, table)
    with op.batch_alter_table("well_sample", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_well_sample_well_id"))
        batch_op.drop_index(batch_op.f("ix_well_sample_plate_acquisition_id"))
        batch_op.drop_index(batch_op.f("ix_well_sample_owner_id"))
        batch_op.drop_index(batch_op.f("ix_well_sample_group_id"))

    op.drop_table("well_sample")
    with op.batch_alter_table("shape", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shape_roi_id"))
        batch_op.drop_index("ix_shape_image_plane")

    op.drop_table("shape")
    with op.batch_alter_table("well", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_well_plate_id"))
        batch_op.drop_index(batch_op.f("ix_well_owner_id"))
        batch_op.drop_index(batch_op.f("ix_well_group_id"))

    op.drop_table("well")
    with op.batch_alter_table("screen_plate_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screen_plate_link_parent_id"))
        batch_op.drop_index(batch_op.f("ix_screen_plate_link_owner_id"))
        batch_op.drop_index(batch_op.f("ix_screen_plate_link_group_id"))
        batch_op.drop_index(batch_op.f("ix_screen_plate_link_child_id"))

    op.drop_table("screen_plate_link")
    with op.batch_alter_table("roi", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roi_owner_id"))
        batch_op.drop_index(batch_op.f("ix_roi_image_id"))
        batch_op.drop_index(batch_op.f("ix_roi_group_id"))

    op.drop_table("roi")
    with op.batch_alter_table("plate_acquisition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plate_acquisition_plate_id"))
        batch_op.drop_index(batch_op.f("ix_plate_acquisition_owner_id"))
        batch_op.drop_index(batch_op.f("ix_plate_acquisition_group_id"))

    op.drop_table("plate_acquisition")
    with op.batch_alter_table("plate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plate_owner_id"))
        batch_op.drop_index(batch_op.f("ix_plate_group_id"))
        batch_op.drop_index(batch_op.f("ix_plate_fileset_id"))

    op.drop_table("plate")
    with op.batch_alter_table("screen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screen_owner_id"))
        batch_op.drop_index(batch_op.f("ix_screen_group_id"))

    op.drop_table("screen")
