"""The department records leave the project database.

Each department keeps its records in its own system, reached over the data-sharing platform
(``adapters/``); the tables the in-process stand-ins kept here are dropped. Their rows were the
stand-ins' own (demo and test people), never a department's data, so nothing is carried over.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Children before the tables they refer to.
DROPPED = (
    "payment_schedules",
    "pension_awards",
    "prereview_receipts",
    "contribution_settlements",
    "insured_status_changes",
    "contribution_records",
    "retirement_approvals",
    "medical_status_changes",
    "medical_records",
    "fund_payouts",
    "fund_accounts",
    "reward_notices",
    "household_records",
    "notifications",
)


def upgrade() -> None:
    for table in DROPPED:
        op.drop_table(table)


def downgrade() -> None:
    raise NotImplementedError(
        "0004 is one-way: the department records live in the departments' own systems now"
    )
