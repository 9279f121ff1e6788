"""Every table of the project database, as typed SQLAlchemy 2 declarative models.

Two groups live here:

* **Department records**: what the default "department systems" (``db.departments``) keep — the
  household register, the social insurance and medical records, provident fund accounts — and a
  row for every side effect a case asks of them (a settlement, an award, a payout...). Each such
  row carries the command's ``idempotency_key`` under a unique constraint: that constraint, not a
  read-then-write check, is what makes a retried activity a no-op, also under concurrency.
* **The read model**: ``cases``, ``tasks``, ``audit_log`` and ``escalations``, the database copy
  of each case that lists, inboxes and audits read (``db.read_model`` writes it).

Money is ``Numeric(14, 2)`` (yuan and fen), years ``Numeric(6, 2)``, months ``"YYYY-MM"`` text,
and every timestamp timezone-aware UTC (:class:`UtcDateTime`, also on SQLite, which keeps no
offset of its own).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MONEY = Numeric(14, 2)
YEARS = Numeric(6, 2)
INDEX = Numeric(6, 4)  # average contribution index, such as 1.0350
MONTH = String(7)  # "YYYY-MM"

ID_NUMBER = String(18)
NAME = String(50)
REGION = String(6)
CASE_ID = String(64)
IDEMPOTENCY_KEY = String(200)
IDENTIFIER = String(64)  # contracts.case.Identifier
REFERENCE = String(32)  # PA-000001 and the like
LABEL = String(32)  # enum values: stages, statuses, departments, roles

# Named constraints, so migrations can refer to them and PostgreSQL and SQLite agree on names.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that accepts only aware datetimes and returns them in UTC.

    PostgreSQL keeps the instant (``timestamptz``); SQLite keeps text without an offset, so the
    value is stored as UTC and read back with UTC attached.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - drivers return datetimes
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class HouseholdStatus(StrEnum):
    REGISTERED = "registered"
    DECEASED = "deceased"
    MOVED = "moved"  # moved out of the register (to another province, abroad)


class InsuredStatus(StrEnum):
    """Social insurance: paying in, or drawing a pension."""

    CONTRIBUTOR = "contributor"
    RETIREE = "retiree"


class MedicalStatus(StrEnum):
    CONTRIBUTOR = "contributor"
    RETIREE = "retiree"  # retiree cover, no further contributions
    SHORTFALL = "shortfall"  # notified of the years still to pay


PAYMENT_SCHEDULED = "scheduled"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CommandRow:
    """Columns shared by every row that records a department side effect.

    ``id`` numbers the receipts (``PR-000001``); ``idempotency_key`` is unique, so a second
    insert with the same key fails and the department returns the first receipt instead.
    """

    REFERENCE_PREFIX: ClassVar[str] = "XX"

    # sort_order: these columns come first (created_at last) in each table, not after the
    # table's own columns.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, sort_order=-4)
    idempotency_key: Mapped[str] = mapped_column(IDEMPOTENCY_KEY, unique=True, sort_order=-3)
    case_id: Mapped[str] = mapped_column(CASE_ID, index=True, sort_order=-2)
    id_number: Mapped[str] = mapped_column(ID_NUMBER, sort_order=-1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, sort_order=1)

    @property
    def reference(self) -> str:
        """The receipt's readable number: the table's prefix and the row id."""
        return reference_for(self.REFERENCE_PREFIX, self.id)


def reference_for(prefix: str, row_id: int) -> str:
    return f"{prefix}-{row_id:06d}"


# ---- Department records --------------------------------------------------------------------


class HouseholdRecord(Base):
    """公安 household register: one person's registration."""

    __tablename__ = "household_records"

    id_number: Mapped[str] = mapped_column(ID_NUMBER, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    region_code: Mapped[str] = mapped_column(REGION)
    status: Mapped[str] = mapped_column(LABEL)  # registered | deceased | moved


class ContributionRecord(Base):
    """社保经办 contribution record. ``problems`` is a list of ``ContributionProblem`` dicts
    (JSON form), each with an extra ``"settled": bool``."""

    __tablename__ = "contribution_records"

    id_number: Mapped[str] = mapped_column(ID_NUMBER, primary_key=True)
    status: Mapped[str] = mapped_column(Text)
    contribution_index: Mapped[Decimal] = mapped_column(INDEX)
    actual_years: Mapped[Decimal] = mapped_column(YEARS)
    deemed_years: Mapped[Decimal] = mapped_column(YEARS)
    account_balance: Mapped[Decimal] = mapped_column(MONEY)
    insured_status: Mapped[str] = mapped_column(LABEL)  # contributor | retiree
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class PrereviewReceipt(CommandRow, Base):
    """The pre-review data HR pushed to social insurance."""

    __tablename__ = "prereview_receipts"
    REFERENCE_PREFIX = "PR"

    retirement_month: Mapped[str] = mapped_column(MONTH)
    path: Mapped[str] = mapped_column(LABEL)
    person: Mapped[dict[str, Any]] = mapped_column(JSON)
    declaration: Mapped[dict[str, Any]] = mapped_column(JSON)


class ContributionSettlement(CommandRow, Base):
    __tablename__ = "contribution_settlements"
    REFERENCE_PREFIX = "CS"

    problem_id: Mapped[str] = mapped_column(IDENTIFIER)
    problem_kind: Mapped[str] = mapped_column(LABEL)
    note: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str] = mapped_column(IDENTIFIER)


class InsuredStatusChange(CommandRow, Base):
    """Social insurance: contributor → retiree from a month."""

    __tablename__ = "insured_status_changes"
    REFERENCE_PREFIX = "IS"

    from_status: Mapped[str] = mapped_column(LABEL)
    to_status: Mapped[str] = mapped_column(LABEL)
    effective_month: Mapped[str] = mapped_column(MONTH)


class PensionAwardRow(CommandRow, Base):
    """The confirmed pension. ``award_no`` is ``PA-`` and the row id, set in the transaction
    that inserts the row (hence nullable: the id is known only after the insert)."""

    __tablename__ = "pension_awards"
    REFERENCE_PREFIX = "PA"

    award_no: Mapped[str | None] = mapped_column(REFERENCE, unique=True)
    first_month: Mapped[str] = mapped_column(MONTH)
    basic: Mapped[Decimal] = mapped_column(MONEY)
    personal_account: Mapped[Decimal] = mapped_column(MONEY)
    transitional: Mapped[Decimal] = mapped_column(MONEY)
    monthly_amount: Mapped[Decimal] = mapped_column(MONEY)
    confirmed_by: Mapped[str] = mapped_column(IDENTIFIER)


class PaymentSchedule(Base):
    """The monthly payment of one award (one schedule per award)."""

    __tablename__ = "payment_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("pension_awards.id"), unique=True)
    start_month: Mapped[str] = mapped_column(MONTH)
    monthly_amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(LABEL, default=PAYMENT_SCHEDULED)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RetirementApproval(CommandRow, Base):
    """人社 formal retirement approval (正式审批)."""

    __tablename__ = "retirement_approvals"
    REFERENCE_PREFIX = "RA"

    approval_no: Mapped[str | None] = mapped_column(REFERENCE, unique=True)
    retirement_month: Mapped[str] = mapped_column(MONTH)
    approver_id: Mapped[str] = mapped_column(IDENTIFIER)
    approver_department: Mapped[str | None] = mapped_column(LABEL)
    approver_region: Mapped[str | None] = mapped_column(REGION)


class MedicalInsuranceRecord(Base):
    """医保 record: contribution years and the insured status."""

    __tablename__ = "medical_records"

    id_number: Mapped[str] = mapped_column(ID_NUMBER, primary_key=True)
    actual_years: Mapped[Decimal] = mapped_column(YEARS)
    deemed_years: Mapped[Decimal] = mapped_column(YEARS)
    status: Mapped[str] = mapped_column(LABEL)  # contributor | retiree | shortfall


class MedicalStatusChange(CommandRow, Base):
    __tablename__ = "medical_status_changes"
    REFERENCE_PREFIX = "MC"

    from_status: Mapped[str] = mapped_column(LABEL)
    outcome: Mapped[str] = mapped_column(LABEL)  # retiree | shortfall
    total_years: Mapped[Decimal] = mapped_column(YEARS)
    shortfall_years: Mapped[Decimal] = mapped_column(YEARS)
    effective_month: Mapped[str] = mapped_column(MONTH)


class FundAccountRow(Base):
    """公积金 account. The full card number stays here; receipts show its last four digits."""

    __tablename__ = "fund_accounts"

    id_number: Mapped[str] = mapped_column(ID_NUMBER, primary_key=True)
    balance: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(LABEL)  # active | frozen | sealed | closed
    card_number: Mapped[str | None] = mapped_column(String(32))


class FundPayout(CommandRow, Base):
    __tablename__ = "fund_payouts"
    REFERENCE_PREFIX = "FP"

    payout_no: Mapped[str | None] = mapped_column(REFERENCE, unique=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    card_last4: Mapped[str | None] = mapped_column(String(4))
    approved_by: Mapped[str] = mapped_column(IDENTIFIER)


class RewardNotice(CommandRow, Base):
    """卫健: whether the one-child parents' reward concerns the person."""

    __tablename__ = "reward_notices"
    REFERENCE_PREFIX = "RN"

    concerns: Mapped[bool] = mapped_column(Boolean)


class NotificationRow(Base):
    __tablename__ = "notifications"
    REFERENCE_PREFIX: ClassVar[str] = "NT"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(IDEMPOTENCY_KEY, unique=True)
    case_id: Mapped[str] = mapped_column(CASE_ID, index=True)
    # Free text in the contract (``Notification``), so unbounded here: a longer value than a
    # column allows would fail on PostgreSQL and the activity would retry for ever.
    recipient_role: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def reference(self) -> str:
        return reference_for(self.REFERENCE_PREFIX, self.id)


# ---- The read model -------------------------------------------------------------------------


class CaseRow(Base):
    """One case as lists show it; ``snapshot`` is the whole ``CaseSnapshot`` (JSON form)."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_region_code_stage", "region_code", "stage"),
        Index("ix_cases_organisation", "organisation"),
    )

    case_id: Mapped[str] = mapped_column(CASE_ID, primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    id_number: Mapped[str] = mapped_column(ID_NUMBER)
    person_name: Mapped[str] = mapped_column(NAME)
    region_code: Mapped[str] = mapped_column(REGION)
    organisation: Mapped[str] = mapped_column(IDENTIFIER)
    has_employer: Mapped[bool] = mapped_column(Boolean)
    stage: Mapped[str] = mapped_column(LABEL)
    path: Mapped[str | None] = mapped_column(LABEL)
    category: Mapped[str] = mapped_column(LABEL)
    retirement_month: Mapped[str] = mapped_column(MONTH)
    next_due: Mapped[date | None] = mapped_column(Date)
    overdue: Mapped[bool] = mapped_column(Boolean)
    pending_departments: Mapped[str] = mapped_column(Text)  # comma-separated, sorted
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TaskRow(Base):
    """One task of a case. ``claimed_by``/``claimed_at`` belong to the API: projections never
    write them."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_inbox", "department", "region_code", "status", "due"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # f"{case_id}/{task_id}"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    task_id: Mapped[str] = mapped_column(IDENTIFIER)
    kind: Mapped[str] = mapped_column(LABEL)
    title: Mapped[str] = mapped_column(Text)
    assignee: Mapped[str] = mapped_column(LABEL)
    department: Mapped[str | None] = mapped_column(LABEL)
    organisation: Mapped[str | None] = mapped_column(IDENTIFIER)
    region_code: Mapped[str] = mapped_column(REGION)
    status: Mapped[str] = mapped_column(LABEL)
    due: Mapped[date | None] = mapped_column(Date)
    due_estimated: Mapped[bool] = mapped_column(Boolean)
    escalated: Mapped[bool] = mapped_column(Boolean)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(LABEL)
    claimed_by: Mapped[str | None] = mapped_column(IDENTIFIER)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditLogRow(Base):
    """One accepted action. ``AuditEntry.id`` is unique per case, so (case_id, entry_id) is the
    unique key that makes re-projection a no-op."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("case_id", "entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[str] = mapped_column(CASE_ID, index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[str] = mapped_column(IDENTIFIER)
    actor_role: Mapped[str] = mapped_column(LABEL)
    actor_department: Mapped[str | None] = mapped_column(LABEL)
    actor_region: Mapped[str | None] = mapped_column(REGION)
    actor_organisation: Mapped[str | None] = mapped_column(IDENTIFIER)
    at_counter: Mapped[bool] = mapped_column(Boolean)
    action: Mapped[str] = mapped_column(Text)  # free text in AuditEntry, as is result
    detail: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)


class EscalationRow(Base):
    __tablename__ = "escalations"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # f"{case_id}/{escalation.id}"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    department: Mapped[str] = mapped_column(LABEL)
    region_code: Mapped[str] = mapped_column(REGION)
    task_id: Mapped[str | None] = mapped_column(IDENTIFIER)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


# ---- The API's own records ------------------------------------------------------------------


class ApiRequestRow(Base):
    """An ``Idempotency-Key`` the API has seen: the first request with a key is applied and its
    response kept, so a retry gets the same answer and nothing twice. The row is written before
    the request is applied (status NULL), which also makes a concurrent duplicate wait."""

    __tablename__ = "api_requests"
    __table_args__ = (UniqueConstraint("subject", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(200))  # who sent it: role and subject
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and body
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RosterEntry(Base):
    """An employer's (or archive agency's) roster of staff, dropped as a file or written by their
    HR system: the daily sweep starts the case of everyone reaching retirement age in about
    seven months, so the employer is reminded before the T-6 declaration deadline."""

    __tablename__ = "roster_entries"

    __table_args__ = (Index("ix_roster_entries_birth", "category", "birth_month"),)

    id_number: Mapped[str] = mapped_column(ID_NUMBER, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    category: Mapped[str] = mapped_column(LABEL)
    birth_month: Mapped[str] = mapped_column(MONTH)  # from the ID number, for the daily query
    region_code: Mapped[str] = mapped_column(REGION)
    employer_id: Mapped[str | None] = mapped_column(IDENTIFIER)
    agency_id: Mapped[str | None] = mapped_column(IDENTIFIER)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
