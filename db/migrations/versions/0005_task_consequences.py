"""Tasks say what rejecting them does, and a department issue which attempt it is.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Defaults for the rows already there: the next projection of their case fills them in.
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("if_rejected", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("attempt")
        batch.drop_column("if_rejected")
