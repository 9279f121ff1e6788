"""The inbox index also holds the inbox's tie-breakers, so a page of the inbox is read in index
order instead of sorting every open task of the department and region (docs/performance.md).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ["department", "region_code", "status", "due"]


def upgrade() -> None:
    op.drop_index("ix_tasks_inbox", table_name="tasks")
    op.create_index("ix_tasks_inbox", "tasks", [*_COLUMNS, "opened_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tasks_inbox", table_name="tasks")
    op.create_index("ix_tasks_inbox", "tasks", _COLUMNS, unique=False)
