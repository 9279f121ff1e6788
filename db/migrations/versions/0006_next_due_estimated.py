"""A case's next due date says whether it is estimated (no official holiday calendar yet).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # False for the cases already there: the next projection of each sets it.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("next_due_estimated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("next_due_estimated")
