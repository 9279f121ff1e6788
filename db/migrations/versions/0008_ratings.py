"""Retirees' ratings of the service (好差评), one per completed case.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_ratings_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_ratings")),
    )
    op.create_index("ix_ratings_region_code", "ratings", ["region_code"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ratings_region_code", table_name="ratings")
    op.drop_table("ratings")
