"""The case workflow's vocabulary: stages, tasks, the messages people send, and its snapshot."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from contracts.base import CaseId, Identifier, Model, Reason, Ref, RegionCode, Text, Years
from contracts.declarations import Declaration
from contracts.people import Actor, Department, Person
from domain.months import YearMonth
from domain.plan import RetirementPath
from domain.policy import Category, ClerkTask, Policy

RequestId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]


class Stage(StrEnum):
    AWAITING_DECLARATION = "awaiting-declaration"
    DECLARATION = "declaration"  # 申报
    PRE_REVIEW = "pre-review"  # 预审
    CONTRIBUTION_CHECK = "contribution-check"  # 缴费核查
    AWAITING_INITIATION = "awaiting-initiation"  # 发起
    JOINT_HANDLING = "joint-handling"  # 联办
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (Stage.COMPLETED, Stage.REJECTED, Stage.WITHDRAWN, Stage.CANCELLED)


class Assignee(StrEnum):
    CLERK = "clerk"  # a department's clerks in the case's region
    ORGANISATION = "organisation"  # the employer or archive agency
    INDIVIDUAL = "individual"  # the retiree


class TaskKind(StrEnum):
    DECLARE = "declare"
    HOUSEHOLD_REVIEW = "household-review"
    PRE_REVIEW = "pre-review"
    CORRECT = "correct"
    SETTLE_CONTRIBUTIONS = "settle-contributions"
    CONFIRM_CONTRIBUTIONS = "confirm-contributions"
    INITIATE = "initiate"
    FORMAL_APPROVAL = "formal-approval"
    CONFIRM_PENSION = "confirm-pension"
    CONFIRM_MEDICAL_YEARS = "confirm-medical-years"
    FUND_WITHDRAWAL = "fund-withdrawal"
    DEPARTMENT_ISSUE = "department-issue"

    @property
    def clerk_task(self) -> ClerkTask | None:
        """The service-level deadline that applies, for tasks a clerk decides."""
        return _CLERK_SLA.get(self)

    @property
    def returnable(self) -> bool:
        """Whether a clerk may return the task for correction instead of rejecting it."""
        return self in _RETURNABLE


_RETURNABLE = frozenset({"pre-review", "confirm-contributions", "confirm-pension"})

_CLERK_SLA = {
    TaskKind.HOUSEHOLD_REVIEW: ClerkTask.HOUSEHOLD_CHECK,
    TaskKind.PRE_REVIEW: ClerkTask.PRE_REVIEW,
    TaskKind.CONFIRM_CONTRIBUTIONS: ClerkTask.CONTRIBUTION_CHECK,
    TaskKind.FORMAL_APPROVAL: ClerkTask.FORMAL_APPROVAL,
    TaskKind.CONFIRM_PENSION: ClerkTask.PENSION_CONFIRMATION,
    TaskKind.CONFIRM_MEDICAL_YEARS: ClerkTask.MEDICAL_CONFIRMATION,
    TaskKind.FUND_WITHDRAWAL: ClerkTask.PROVIDENT_FUND,
    TaskKind.DEPARTMENT_ISSUE: ClerkTask.DEPARTMENT_ISSUE,
}


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"  # for correction


class ContributionProblemKind(StrEnum):
    ARREARS = "arrears"  # 欠费补缴
    INTERRUPTION = "interruption"  # 中断缴费确认
    CONSOLIDATION = "consolidation"  # 账户归集
    TRANSFER = "transfer"  # 关系转移 from another province


class ContributionProblem(Model):
    id: Identifier
    kind: ContributionProblemKind
    detail: Text
    amount_yuan: Decimal | None = None


class Task(Model):
    id: Identifier
    kind: TaskKind
    title: Text
    assignee: Assignee
    department: Department | None = None
    organisation: Identifier | None = None
    opened_at: datetime
    due: date | None = None
    due_estimated: bool = Field(
        default=False, description="the holiday calendar for the due year is not loaded yet"
    )
    status: TaskStatus = TaskStatus.OPEN
    escalated: bool = False
    problem: ContributionProblem | None = None
    step: str | None = Field(default=None, description="the department step a DEPARTMENT_ISSUE is")
    detail: Text = ""
    if_rejected: Text = Field(
        default="",
        description="what rejecting this task does to its item and to the case, shown to the "
        "clerk before they decide (docs/department-issues.md)",
    )
    attempt: Annotated[int, Field(ge=1)] = Field(
        default=1,
        description="a DEPARTMENT_ISSUE: how many times in a row the department has refused "
        "this step for the same reason (the third goes to its supervisors)",
    )
    closed_at: datetime | None = None
    outcome: Outcome | None = None
    closed_by: Actor | None = None
    reason: Text | None = None


# ---- What people send -------------------------------------------------------------------


class Decision(Model):
    """A clerk's decision on a task: approve, reject, or return for correction."""

    request_id: RequestId
    task_id: Identifier
    outcome: Outcome
    reason: Text | None = None
    evidence: Annotated[list[Ref], Field(max_length=20)] = []
    actor: Actor
    deemed_years: Years | None = Field(
        default=None,
        description="approving HR's pre-review: the pension deemed years (视同缴费年限, item 2) "
        "the clerk confirms or corrects, then used by the contribution check and the pension "
        "(without it, the declared figure is confirmed); confirming medical security's task: "
        "the medical deemed years",
    )

    @model_validator(mode="after")
    def _reason_unless_approved(self) -> Self:
        if self.outcome is not Outcome.APPROVE and not (self.reason or "").strip():
            raise ValueError(f"a decision to {self.outcome} needs a reason")
        return self


class Declare(Model):
    request_id: RequestId
    actor: Actor
    declaration: Declaration


class Resubmit(Model):
    request_id: RequestId
    actor: Actor
    declaration: Declaration


class Settle(Model):
    """The employer (or the person) reports a contribution problem settled."""

    request_id: RequestId
    actor: Actor
    task_id: Identifier
    note: Text = ""


class Initiate(Model):
    request_id: RequestId
    actor: Actor


class Withdraw(Model):
    request_id: RequestId
    actor: Actor
    reason: Reason


class Cancel(Model):
    request_id: RequestId
    actor: Actor
    reason: Reason


class CorrectRetirement(Model):
    """A corrected retirement date: a data correction (category, archive birth month) by HR, or
    a new flexible or early choice by the employer. Moves every pending deadline."""

    request_id: RequestId
    actor: Actor
    reason: Reason
    category: Category | None = None
    declaration: Declaration | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.category is None and self.declaration is None:
            raise ValueError("a correction changes the category or the declaration")
        return self


# ---- What the case records ----------------------------------------------------------------


class ItemStatus(StrEnum):
    NOT_APPLICABLE = "not-applicable"
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    WAITING = "waiting"  # on a person: a clerk, the employer, the retiree
    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"


class ItemKey(StrEnum):
    """The nine integrated items (吉人社联〔2024〕56号)."""

    PENSION_ELIGIBILITY = "pension-eligibility"
    PENSION_DEEMED_YEARS = "pension-deemed-years"
    SPECIAL_JOB_EARLY = "special-job-early-retirement"
    ILLNESS_EARLY = "illness-early-retirement"
    PENSION_PAYMENT = "pension-payment"
    MEDICAL_DEEMED_YEARS = "medical-deemed-years"
    PROVIDENT_FUND = "provident-fund-withdrawal"
    ONE_CHILD_REWARD = "one-child-reward"
    HOUSEHOLD = "household-registration"


ITEM_DEPARTMENT = {
    ItemKey.PENSION_ELIGIBILITY: Department.HR,
    ItemKey.PENSION_DEEMED_YEARS: Department.HR,
    ItemKey.SPECIAL_JOB_EARLY: Department.HR,
    ItemKey.ILLNESS_EARLY: Department.HR,
    ItemKey.PENSION_PAYMENT: Department.SOCIAL_INSURANCE,
    ItemKey.MEDICAL_DEEMED_YEARS: Department.MEDICAL,
    ItemKey.PROVIDENT_FUND: Department.PROVIDENT_FUND,
    ItemKey.ONE_CHILD_REWARD: Department.HEALTH,
    ItemKey.HOUSEHOLD: Department.PUBLIC_SECURITY,
}


class Item(Model):
    key: ItemKey
    department: Department
    status: ItemStatus
    detail: Text = ""
    updated_at: datetime | None = None


class DecisionRecord(Model):
    """A decision as applied: what the audit log and the retiree's page show."""

    request_id: RequestId
    task_id: Identifier
    task_kind: TaskKind
    department: Department | None
    outcome: Outcome
    reason: Text | None
    evidence: list[str]
    actor: Actor
    at: datetime
    via: str = Field(description="update or signal")
    deemed_years: Years | None = None


class CaseEvent(Model):
    """One line of the case's story: when, in which stage, what happened, who did it."""

    at: datetime
    stage: Stage
    event: Text
    actor: str


class Escalation(Model):
    id: Identifier
    at: datetime
    department: Department
    reason: Text
    task_id: Identifier | None = None


class Deadlines(Model):
    retirement_month: YearMonth
    statutory_month: YearMonth
    declaration_due: date
    contribution_check_due: date
    initiation_opens: date
    initiation_due: date
    first_pension_month: YearMonth


class PensionResult(Model):
    monthly_amount: Decimal
    basic: Decimal
    personal_account: Decimal
    transitional: Decimal
    first_month: YearMonth
    wage_base_provisional: bool
    award_id: str | None = None
    deemed_years: Decimal | None = Field(
        default=None, description="the deemed years the pension was calculated with"
    )


class MedicalResult(Model):
    actual_years: Decimal
    deemed_years: Decimal
    required_total_years: Decimal
    shortfall_years: Decimal
    outcome: str | None = None  # retiree cover, or a shortfall notice


class FundResult(Model):
    amount: Decimal
    payout_id: str | None = None
    card_last4: str | None = None


class ContributionStatus(Model):
    """What the social insurance agency's record says at the contribution check."""

    status: str
    problems: list[ContributionProblem]
    contribution_index: Annotated[Decimal, Field(gt=0, le=10)]
    actual_years: Years
    deemed_years: Years
    account_balance: Annotated[Decimal, Field(ge=0)]


class CaseSnapshot(Model):
    """A case as its progress page shows it; no full ID number, only a masked one."""

    case_id: str
    stage: Stage
    path: RetirementPath | None
    region_code: RegionCode
    organisation: str
    has_employer: bool
    person_name: str
    id_masked: str
    category: Category
    deadlines: Deadlines
    items: list[Item]
    tasks: list[Task]
    decisions: list[DecisionRecord]
    escalations: list[Escalation]
    events: list[CaseEvent]
    late_declaration: bool
    overdue: list[str]
    reminders_sent: int
    pension: PensionResult | None = None
    medical: MedicalResult | None = None
    fund: FundResult | None = None
    closed_reason: Text | None = None
    version: int
    declaration: Declaration | None = Field(
        default=None,
        description="what was declared (the latest, after a correction): what the clerks review",
    )

    def status(self) -> CaseStatus:
        """The short form an update answers with."""
        return CaseStatus(
            case_id=self.case_id,
            stage=self.stage,
            version=self.version,
            retirement_month=self.deadlines.retirement_month,
            open_tasks=self.open_tasks(),
            items=self.items,
        )

    def open_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.status is TaskStatus.OPEN]

    # What lists, inboxes and the Temporal UI's search attributes show of a case: one derivation
    # for the read model and the workflow's search attributes alike.

    def pending_departments(self) -> list[Department]:
        """The departments whose clerks have an open task, in order."""
        return sorted(
            {
                t.department
                for t in self.open_tasks()
                if t.assignee is Assignee.CLERK and t.department is not None
            }
        )

    def next_due(self) -> date | None:
        dues = [t.due for t in self.open_tasks() if t.due is not None]
        return min(dues) if dues else None

    def next_due_estimated(self) -> bool:
        """Whether the next due date is an estimate (no official holiday calendar for its year
        yet): a supervisor's list says so, as the clerk's inbox does for each task."""
        due = self.next_due()
        return any(t.due == due and t.due_estimated for t in self.open_tasks())

    def is_overdue(self) -> bool:
        """A milestone missed and not yet met, or an open task past its deadline."""
        return bool(self.overdue) or any(t.escalated for t in self.open_tasks())

    def item(self, key: ItemKey) -> Item:
        return next(i for i in self.items if i.key is key)


class CaseStatus(Model):
    """What an update answers: the case's state right after the change was applied."""

    case_id: str
    stage: Stage
    version: int
    retirement_month: YearMonth
    open_tasks: list[Task]
    items: list[Item]


class CaseInput(Model):
    """How a case starts: from a declaration, or from a roster with the declaration to come.

    ``state`` carries everything across continue-as-new; a fresh case has none.
    """

    case_id: CaseId
    person_key: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="HMAC of the ID number: the retiree's pseudonym"
    )
    person: Person
    declaration: Declaration | None = None
    declared_by: Actor | None = None
    request_id: RequestId | None = None
    search_attributes: bool = Field(
        default=True,
        description="keep the custom search attributes current (off on servers "
        "without them registered, such as the time-skipping test server)",
    )
    policy: Policy = Field(description="the policy in force when the case started")
    state: CaseState | None = None


class CaseState(Model):
    """Everything a case knows that is not in its input; carried across continue-as-new."""

    snapshot: CaseSnapshot
    declaration: Declaration | None
    category: Category
    birth_month: YearMonth
    contribution: ContributionStatus | None = None
    deemed_years: Years | None = Field(
        default=None, description="the pension deemed years HR recognised at pre-review"
    )
    household_confirmed: Text | None = Field(
        default=None,
        description="the household registry's mismatch a public security clerk confirmed, until "
        "the registry answers otherwise",
    )
    processed_requests: list[str] = []
    fired_timers: list[str] = []
    schedule_from: datetime
    task_counter: int = 0
    projected_audit: int = 0


class CaseOutcome(Model):
    case_id: str
    stage: Stage
    closed_reason: str | None
    pension: PensionResult | None
    events: int


class RefusalType(StrEnum):
    """``ApplicationError.type`` of a refused update; the API maps each to an HTTP status."""

    DUPLICATE = "Duplicate"  # 409: this request id was applied already
    STALE = "StaleDecision"  # 409: the task is no longer open
    WRONG_STAGE = "WrongStage"  # 409: not possible in the case's current stage
    NOT_YET = "NotYet"  # 409: possible later (the initiation window has not opened)
    CLOSED = "CaseClosed"  # 409: the case has ended
    FORBIDDEN = "Forbidden"  # 403: this role may not do this
    WRONG_DEPARTMENT = "WrongDepartment"  # 403
    WRONG_REGION = "WrongRegion"  # 403
    WRONG_ORGANISATION = "WrongOrganisation"  # 403: not the person's employer or agency
    INVALID = "InvalidRequest"  # 422: malformed for this task
    RULES = "RuleRefusal"  # 422: the retirement rules refuse it; the message lists why
