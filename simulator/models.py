"""The department simulator's own tables: what the six departments' systems keep.

The household register, the social insurance and medical records and the provident fund
accounts, and a row for every side effect a case asks of them (a settlement, an award, a
payout...). Each such row carries the command's ``idempotency_key`` under a unique constraint:
that constraint, not a read-then-write check, is what makes a retried request a no-op, also
under concurrency. The simulator creates these tables itself (``create_all``): it is a stand-in
with no data worth migrating.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import (
    CASE_ID,
    ID_NUMBER,
    IDEMPOTENCY_KEY,
    IDENTIFIER,
    INDEX,
    LABEL,
    MONEY,
    MONTH,
    NAME,
    NAMING_CONVENTION,
    REFERENCE,
    REGION,
    YEARS,
    UtcDateTime,
    utcnow,
)


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


class _ChannelRow:
    """A message a channel accepted: sent once per key (``idempotency_key`` is unique)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, sort_order=-3)
    idempotency_key: Mapped[str] = mapped_column(IDEMPOTENCY_KEY, unique=True, sort_order=-2)
    case_id: Mapped[str] = mapped_column(CASE_ID, index=True, sort_order=-1)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, sort_order=1)


class SmsRow(_ChannelRow, Base):
    """政务短信平台: a text sent to a mobile number."""

    __tablename__ = "sms_messages"
    REFERENCE_PREFIX: ClassVar[str] = "SM"

    mobile: Mapped[str] = mapped_column(String(11))

    @property
    def reference(self) -> str:
        return reference_for(self.REFERENCE_PREFIX, self.id)


class PushRow(_ChannelRow, Base):
    """吉事办: a notice pushed to an app user."""

    __tablename__ = "push_messages"
    REFERENCE_PREFIX: ClassVar[str] = "PU"

    user: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)

    @property
    def reference(self) -> str:
        return reference_for(self.REFERENCE_PREFIX, self.id)


class ScriptedPerson(Base):
    """A person whose records a scenario set: none is derived for them, so a record the
    scenario left out stays missing (and the department says so)."""

    __tablename__ = "scripted_people"

    id_number: Mapped[str] = mapped_column(ID_NUMBER, primary_key=True)
    scenario: Mapped[str] = mapped_column(LABEL)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
