"""Arguments and results of the department steps (activities) and of the read-model projection.

Every command with a side effect carries an ``idempotency_key``: the department records it with
the effect, and a retry with the same key returns the first receipt (``duplicate = true``)
instead of doing it twice.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from contracts.base import CaseId, IdNumber, Model, RegionCode, Text, Years
from contracts.declarations import Declaration
from contracts.people import Actor, Department, Person
from contracts.workflow import ContributionProblem
from domain.months import YearMonth

IdempotencyKey = Annotated[str, Field(min_length=1, max_length=200)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal(10) ** 10)]


class DepartmentRefusalInfo(Model):
    """Details of a business refusal (non-retryable): it becomes a task for a clerk."""

    department: Department
    step: str
    reason: Text


class Receipt(Model):
    reference: str
    duplicate: bool = False


class PersonQuery(Model):
    case_id: CaseId
    id_number: IdNumber


class HouseholdStep(StrEnum):
    DECLARATION = "declaration"
    PRE_REVIEW = "pre-review"
    APPROVAL = "approval"


class HouseholdCheck(Model):
    case_id: CaseId
    step: HouseholdStep
    id_number: IdNumber
    name: str
    region_code: RegionCode


class HouseholdResult(Model):
    matches: bool
    detail: Text = ""


class PrereviewPush(Model):
    """HR pushes the approved pre-review data (and archive references) to social insurance."""

    idempotency_key: IdempotencyKey
    case_id: CaseId
    person: Person
    declaration: Declaration
    retirement_month: YearMonth


class SettleCommand(Model):
    idempotency_key: IdempotencyKey
    case_id: CaseId
    id_number: IdNumber
    problem: ContributionProblem
    note: Text = ""
    actor: Actor


class ApprovalCommand(Model):
    idempotency_key: IdempotencyKey
    case_id: CaseId
    id_number: IdNumber
    retirement_month: YearMonth
    approver: Actor


class RetireeSwitch(Model):
    """Social insurance: contributor → retiree from the retirement month."""

    idempotency_key: IdempotencyKey
    case_id: CaseId
    id_number: IdNumber
    effective_month: YearMonth


class PensionAward(Model):
    """The confirmed pension and its payment schedule, paid from ``first_month``."""

    idempotency_key: IdempotencyKey
    case_id: CaseId
    id_number: IdNumber
    first_month: YearMonth
    monthly_amount: Money
    basic: Money
    personal_account: Money
    transitional: Money
    confirmed_by: Actor


class MedicalRecord(Model):
    actual_years: Years
    deemed_years: Years


class MedicalOutcome(StrEnum):
    RETIREE = "retiree"  # switched to retiree cover, no further contributions
    SHORTFALL = "shortfall"  # notified of the years still to pay


class MedicalSwitch(Model):
    idempotency_key: IdempotencyKey
    case_id: CaseId
    id_number: IdNumber
    outcome: MedicalOutcome
    total_years: Years
    shortfall_years: Years
    effective_month: YearMonth


class FundAccountStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"  # by a court or an investigation: no payout until lifted
    SEALED = "sealed"  # 封存
    CLOSED = "closed"  # 销户


class FundAccount(Model):
    found: bool
    balance: Money = Decimal(0)
    status: FundAccountStatus | None = None
    card_last4: str | None = None


class FundWithdrawal(Model):
    """Seal the account, pay the whole balance to the person's own card, close the account."""

    idempotency_key: IdempotencyKey
    case_id: CaseId
    id_number: IdNumber
    approved_by: Actor


class FundReceipt(Model):
    payout_id: str
    amount: Money
    card_last4: str | None
    duplicate: bool = False


class RewardNoticeRecord(Model):
    idempotency_key: IdempotencyKey
    case_id: CaseId
    id_number: IdNumber
    concerns: bool


class Notification(Model):
    """A message to a person, an organisation or a queue (``clerk``/``supervisor`` recipients
    are ``department@region`` queues), recorded once per idempotency key in the outbox and
    delivered from there (``notifications/``). What people read is the template for ``kind``
    filled with ``variables`` (``notifications/templates.toml``); ``subject`` and ``body`` are
    the English summary administrators see in the Temporal UI."""

    idempotency_key: IdempotencyKey
    case_id: CaseId
    recipient_role: Annotated[str, Field(max_length=32)]
    recipient: Annotated[str, Field(max_length=200)]
    kind: Annotated[str, Field(max_length=64)]
    subject: Text
    body: Text = ""
    variables: dict[Annotated[str, Field(max_length=32)], Text] = Field(
        default={}, max_length=20, description="the template's blanks, e.g. due and month"
    )


class SmsMessage(Model):
    """A text to a mobile number through the province's SMS platform. The key is the delivery's
    own: the platform sends a key once, however often it is posted."""

    idempotency_key: IdempotencyKey
    case_id: CaseId = Field(description="the business reference the platform keeps with it")
    mobile: Annotated[str, Field(pattern=r"^1[3-9][0-9]{9}$")]
    text: Annotated[str, Field(min_length=1, max_length=500)]


class PushMessage(Model):
    """A notice pushed to a user of the 吉事办 app: a retiree (by their pseudonym, the person
    key the province's identity platform shares) or an organisation (by its id). Pushed once
    per key."""

    idempotency_key: IdempotencyKey
    case_id: CaseId
    user: Annotated[str, Field(min_length=1, max_length=200)]
    title: Annotated[str, Field(min_length=1, max_length=100)]
    text: Annotated[str, Field(min_length=1, max_length=2000)]
