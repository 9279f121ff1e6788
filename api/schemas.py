"""Request and response bodies of the API (those not already in ``contracts``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.base import Identifier, Name, Reason, Ref, RegionCode, Text, Years
from contracts.declarations import Declaration
from contracts.workflow import CaseStatus, Outcome
from domain.policy import Category
from notifications.contacts import normalise_mobile

T = TypeVar("T")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The one way a clerk says they act at the offline counter (线下综窗) for the person or the
# employer: this field in the action's body. Only an HR clerk of the case's region may; the
# action is then recorded as done at the counter (the audit entry's ``at_counter``, the case's
# story: "… at the counter").
AtCounter = Annotated[
    bool,
    Field(
        description="an HR clerk acting at the offline counter (线下综窗) on behalf of the person "
        "or the employer; recorded as done at the counter. Ignored for any other caller."
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class NewPerson(Body):
    """The retiree, as the employer or agency declares them (their organisation is the caller's)."""

    id_number: Annotated[
        str,
        Field(min_length=15, max_length=18, pattern=r"^[0-9]{14}[0-9Xx]{1,4}$",
              examples=["220102196701150017"]),
    ]  # fmt: skip
    name: Name
    category: Category
    region_code: RegionCode
    mobile: Annotated[str, Field(max_length=20, examples=["13812345678"])] | None = Field(
        default=None,
        description="the person's mobile number, for the texts that tell them of their case: "
        "kept encrypted, shown masked (138****5678), never sent to the workflow. 11 digits; "
        "spaces, dashes and +86 are allowed",
    )

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else normalise_mobile(value)


class DeclareBody(Body):
    person: NewPerson
    declaration: Declaration
    at_counter: AtCounter = False
    employer_id: Identifier | None = Field(
        default=None,
        description="at the counter only: the person's employer (an employer or agency "
        "declares for its own organisation)",
    )
    agency_id: Identifier | None = Field(
        default=None,
        description="at the counter only: the archive agency of a person without an employer",
    )


class CaseCreated(BaseModel):
    case_id: str
    created: bool = Field(description="false: the person's open case was found and declared")
    status: CaseStatus


class ResubmitBody(Body):
    declaration: Declaration
    at_counter: AtCounter = False


class SettleBody(Body):
    task_id: Identifier
    note: Text = ""
    at_counter: AtCounter = False


class InitiateBody(Body):
    at_counter: AtCounter = False


class ReasonBody(Body):
    reason: Reason


class WithdrawBody(ReasonBody):
    at_counter: AtCounter = False


class CorrectionBody(Body):
    reason: Reason
    category: Category | None = None
    declaration: Declaration | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.category is None and self.declaration is None:
            raise ValueError("a correction changes the category or the declaration")
        return self


class DecisionBody(Body):
    outcome: Outcome
    reason: Text | None = None
    evidence: Annotated[list[Ref], Field(max_length=20)] = []
    deemed_years: Years | None = Field(
        default=None,
        description="approving HR's pre-review: the pension deemed years the clerk confirms or "
        "corrects (the declared figure if absent); medical security's task: the medical deemed "
        "years",
    )
    at_counter: bool = Field(default=False, description="acting for the person at the counter")


class AssignBody(Body):
    clerk_id: Identifier


class CaseSummary(BaseModel):
    case_id: str
    stage: str
    path: str | None
    category: str
    region_code: str
    organisation: str
    person_name: str
    id_masked: str
    retirement_month: str
    next_due: date | None
    next_due_note: str | None = Field(
        default=None, description="why the next due date is estimated (no official calendar yet)"
    )
    overdue: bool
    pending_departments: list[str]
    updated_at: datetime


class InboxTask(BaseModel):
    case_id: str
    task_id: str
    kind: str
    title: str
    department: str | None
    region_code: str
    status: str
    stage: str
    person_name: str
    id_masked: str
    due: date | None
    due_estimated: bool
    due_note: str | None = Field(
        default=None, description="why the due date is estimated (no official calendar yet)"
    )
    escalated: bool
    if_rejected: str = Field(default="", description="what rejecting this task does")
    attempt: int = Field(default=1, description="a department issue: the same refusal's count")
    opened_at: datetime
    claimed_by: str | None


class AuditRecord(BaseModel):
    at: datetime
    actor_id: str
    actor_role: str
    actor_department: str | None
    actor_region: str | None
    actor_organisation: str | None
    at_counter: bool
    action: str
    detail: str
    result: str


class EscalationItem(BaseModel):
    case_id: str
    department: str
    region_code: str
    task_id: str | None
    reason: str
    at: datetime


class TaskClaim(BaseModel):
    case_id: str
    task_id: str
    claimed_by: str | None


class Health(BaseModel):
    status: str
    database: str
    temporal: str


class PensionEstimateBody(Body):
    birth_month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["1967-01"])]
    category: Category
    retirement_month: Annotated[str | None, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None
    contribution_index: Annotated[Decimal, Field(gt=0, le=10)]
    actual_years: Years
    deemed_years: Years = Decimal(0)
    account_balance: Annotated[Decimal, Field(ge=0, le=Decimal(10) ** 10)]
    wage_area: Annotated[str, Field(max_length=32)] | None = None


class RatingBody(Body):
    level: Annotated[int, Field(ge=1, le=5, description="5 very satisfied … 1 very dissatisfied")]
    comment: Annotated[str, Field(max_length=500, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")] = ""


class Rating(BaseModel):
    case_id: str
    level: int
    comment: str
    at: datetime


class DeliveryView(BaseModel):
    channel: Literal["sms", "app"] = Field(description="the SMS platform, or the 吉事办 app's push")
    status: Literal["pending", "sent", "failed", "no-contact"] = Field(
        description="pending: not sent yet, or to be tried again; no-contact: no mobile number "
        "on record"
    )
    attempts: int
    sent_at: datetime | None


class MessageView(BaseModel):
    id: int
    to: str = Field(description="individual, organisation, clerk or supervisor")
    kind: str = Field(description="e.g. reminder, rights-notice, case-completed")
    title: str
    text: str
    at: datetime
    deliveries: list[DeliveryView]


class CaseMessages(BaseModel):
    case_id: str
    mobile_masked: str | None = Field(
        description="the person's mobile number as on record, masked (not shown to employers)"
    )
    items: list[MessageView]


class ContactBody(Body):
    mobile: Annotated[str, Field(max_length=20, examples=["13904312288"])] = Field(
        description="11 digits; spaces, dashes and +86 are allowed"
    )
    at_counter: AtCounter = False

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str) -> str:
        return normalise_mobile(value)


class Contact(BaseModel):
    case_id: str
    mobile_masked: str = Field(description="the number now on record, masked")
