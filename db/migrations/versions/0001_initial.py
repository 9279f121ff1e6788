"""The initial schema: department records and the case read model.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 19:01:15.951962
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("actor_department", sa.String(length=32), nullable=True),
        sa.Column("actor_region", sa.String(length=6), nullable=True),
        sa.Column("actor_organisation", sa.String(length=64), nullable=True),
        sa.Column("at_counter", sa.Boolean(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("case_id", "entry_id", name=op.f("uq_audit_log_case_id_entry_id")),
    )
    op.create_index(op.f("ix_audit_log_case_id"), "audit_log", ["case_id"], unique=False)

    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("person_name", sa.String(length=50), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("has_employer", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("retirement_month", sa.String(length=7), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("pending_departments", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_cases")),
    )
    op.create_index("ix_cases_organisation", "cases", ["organisation"], unique=False)
    op.create_index(op.f("ix_cases_person_key"), "cases", ["person_key"], unique=False)
    op.create_index("ix_cases_region_code_stage", "cases", ["region_code", "stage"], unique=False)

    op.create_table(
        "contribution_records",
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("contribution_index", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("actual_years", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("deemed_years", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("account_balance", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("insured_status", sa.String(length=32), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id_number", name=op.f("pk_contribution_records")),
    )
    op.create_table(
        "contribution_settlements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("problem_id", sa.String(length=64), nullable=False),
        sa.Column("problem_kind", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution_settlements")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_contribution_settlements_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_contribution_settlements_case_id"),
        "contribution_settlements",
        ["case_id"],
        unique=False,
    )

    op.create_table(
        "fund_accounts",
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("balance", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("card_number", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id_number", name=op.f("pk_fund_accounts")),
    )
    op.create_table(
        "fund_payouts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("payout_no", sa.String(length=32), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_payouts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_fund_payouts_idempotency_key")),
        sa.UniqueConstraint("payout_no", name=op.f("uq_fund_payouts_payout_no")),
    )
    op.create_index(op.f("ix_fund_payouts_case_id"), "fund_payouts", ["case_id"], unique=False)

    op.create_table(
        "household_records",
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id_number", name=op.f("pk_household_records")),
    )
    op.create_table(
        "insured_status_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("effective_month", sa.String(length=7), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insured_status_changes")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_insured_status_changes_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_insured_status_changes_case_id"),
        "insured_status_changes",
        ["case_id"],
        unique=False,
    )

    op.create_table(
        "medical_records",
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("actual_years", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("deemed_years", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id_number", name=op.f("pk_medical_records")),
    )
    op.create_table(
        "medical_status_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("total_years", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("shortfall_years", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("effective_month", sa.String(length=7), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medical_status_changes")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_medical_status_changes_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_medical_status_changes_case_id"),
        "medical_status_changes",
        ["case_id"],
        unique=False,
    )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("recipient_role", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notifications_idempotency_key")),
    )
    op.create_index(op.f("ix_notifications_case_id"), "notifications", ["case_id"], unique=False)

    op.create_table(
        "pension_awards",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("award_no", sa.String(length=32), nullable=True),
        sa.Column("first_month", sa.String(length=7), nullable=False),
        sa.Column("basic", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("personal_account", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("transitional", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("monthly_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("confirmed_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pension_awards")),
        sa.UniqueConstraint("award_no", name=op.f("uq_pension_awards_award_no")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_pension_awards_idempotency_key")),
    )
    op.create_index(op.f("ix_pension_awards_case_id"), "pension_awards", ["case_id"], unique=False)

    op.create_table(
        "prereview_receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("retirement_month", sa.String(length=7), nullable=False),
        sa.Column("path", sa.String(length=32), nullable=False),
        sa.Column("person", sa.JSON(), nullable=False),
        sa.Column("declaration", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prereview_receipts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_prereview_receipts_idempotency_key")),
    )
    op.create_index(
        op.f("ix_prereview_receipts_case_id"), "prereview_receipts", ["case_id"], unique=False
    )

    op.create_table(
        "retirement_approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("approval_no", sa.String(length=32), nullable=True),
        sa.Column("retirement_month", sa.String(length=7), nullable=False),
        sa.Column("approver_id", sa.String(length=64), nullable=False),
        sa.Column("approver_department", sa.String(length=32), nullable=True),
        sa.Column("approver_region", sa.String(length=6), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retirement_approvals")),
        sa.UniqueConstraint("approval_no", name=op.f("uq_retirement_approvals_approval_no")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_retirement_approvals_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_retirement_approvals_case_id"), "retirement_approvals", ["case_id"], unique=False
    )

    op.create_table(
        "reward_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("concerns", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_notices")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_reward_notices_idempotency_key")),
    )
    op.create_index(op.f("ix_reward_notices_case_id"), "reward_notices", ["case_id"], unique=False)

    op.create_table(
        "escalations",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_escalations_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    op.create_index(op.f("ix_escalations_case_id"), "escalations", ["case_id"], unique=False)

    op.create_table(
        "payment_schedules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("start_month", sa.String(length=7), nullable=False),
        sa.Column("monthly_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"],
            ["pension_awards.id"],
            name=op.f("fk_payment_schedules_award_id_pension_awards"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_schedules")),
        sa.UniqueConstraint("award_id", name=op.f("uq_payment_schedules_award_id")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("assignee", sa.String(length=32), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("organisation", sa.String(length=64), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("due_estimated", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_tasks_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(op.f("ix_tasks_case_id"), "tasks", ["case_id"], unique=False)
    op.create_index(
        "ix_tasks_inbox", "tasks", ["department", "region_code", "status", "due"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_inbox", table_name="tasks")
    op.drop_index(op.f("ix_tasks_case_id"), table_name="tasks")

    op.drop_table("tasks")
    op.drop_table("payment_schedules")
    op.drop_index(op.f("ix_escalations_case_id"), table_name="escalations")

    op.drop_table("escalations")
    op.drop_index(op.f("ix_reward_notices_case_id"), table_name="reward_notices")

    op.drop_table("reward_notices")
    op.drop_index(op.f("ix_retirement_approvals_case_id"), table_name="retirement_approvals")

    op.drop_table("retirement_approvals")
    op.drop_index(op.f("ix_prereview_receipts_case_id"), table_name="prereview_receipts")

    op.drop_table("prereview_receipts")
    op.drop_index(op.f("ix_pension_awards_case_id"), table_name="pension_awards")

    op.drop_table("pension_awards")
    op.drop_index(op.f("ix_notifications_case_id"), table_name="notifications")

    op.drop_table("notifications")
    op.drop_index(op.f("ix_medical_status_changes_case_id"), table_name="medical_status_changes")

    op.drop_table("medical_status_changes")
    op.drop_table("medical_records")
    op.drop_index(op.f("ix_insured_status_changes_case_id"), table_name="insured_status_changes")

    op.drop_table("insured_status_changes")
    op.drop_table("household_records")
    op.drop_index(op.f("ix_fund_payouts_case_id"), table_name="fund_payouts")

    op.drop_table("fund_payouts")
    op.drop_table("fund_accounts")
    op.drop_index(
        op.f("ix_contribution_settlements_case_id"), table_name="contribution_settlements"
    )

    op.drop_table("contribution_settlements")
    op.drop_table("contribution_records")
    op.drop_index("ix_cases_region_code_stage", table_name="cases")
    op.drop_index(op.f("ix_cases_person_key"), table_name="cases")
    op.drop_index("ix_cases_organisation", table_name="cases")

    op.drop_table("cases")
    op.drop_index(op.f("ix_audit_log_case_id"), table_name="audit_log")

    op.drop_table("audit_log")
