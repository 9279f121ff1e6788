"""Valid people, commands and case snapshots for the database tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from contracts.declarations import Declaration
from contracts.departments import (
    ApprovalCommand,
    FundWithdrawal,
    MedicalOutcome,
    MedicalSwitch,
    Notification,
    PensionAward,
    PrereviewPush,
    PushMessage,
    RetireeSwitch,
    RewardNoticeRecord,
    SettleCommand,
    SmsMessage,
)
from contracts.people import Actor, Department, Person, Role
from contracts.read_model import AuditEntry, Projection
from contracts.workflow import (
    Assignee,
    CaseEvent,
    CaseSnapshot,
    ContributionProblem,
    ContributionProblemKind,
    Deadlines,
    Escalation,
    Stage,
    Task,
    TaskKind,
    TaskStatus,
)
from domain.months import YearMonth
from domain.plan import RetirementPath
from domain.policy import Category
from tests.support.people import fixed_id_number

REGION = "220102"
EMPLOYER = "employer-001"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


BORN = date(1966, 5, 15)


def id_number(serial: int = 1) -> str:
    """The ID number of the factories' person ``serial`` (0..99): a man born on :data:`BORN` in
    :data:`REGION`, the same every time."""
    return fixed_id_number(BORN, serial, region=REGION)


def person(number: str, name: str = "张三") -> Person:
    return Person(
        id_number=number,
        name=name,
        category=Category.MALE,
        region_code=REGION,
        employer_id=EMPLOYER,
    )


def clerk(department: Department, actor_id: str = "clerk-1") -> Actor:
    return Actor(id=actor_id, role=Role.CLERK, department=department, region=REGION)


def problem(problem_id: str = "p1", amount: str | None = "1234.50") -> ContributionProblem:
    return ContributionProblem(
        id=problem_id,
        kind=ContributionProblemKind.ARREARS,
        detail="arrears 2019-03..2019-06",
        amount_yuan=Decimal(amount) if amount is not None else None,
    )


def prereview(number: str, key: str = "case-1:prereview") -> PrereviewPush:
    return PrereviewPush(
        idempotency_key=key,
        case_id="case-1",
        person=person(number),
        declaration=Declaration(contribution_years=Decimal("30"), archive_refs=["A-1"]),
        retirement_month=YearMonth(2026, 8),
    )


def settle(number: str, key: str = "case-1:settle:p1", problem_id: str = "p1") -> SettleCommand:
    return SettleCommand(
        idempotency_key=key,
        case_id="case-1",
        id_number=number,
        problem=problem(problem_id),
        note="paid at the counter",
        actor=clerk(Department.SOCIAL_INSURANCE),
    )


def retiree_switch(number: str, key: str = "case-1:retiree") -> RetireeSwitch:
    return RetireeSwitch(
        idempotency_key=key, case_id="case-1", id_number=number, effective_month=YearMonth(2026, 8)
    )


def award(number: str, key: str = "case-1:award", basic: str = "1800.00") -> PensionAward:
    return PensionAward(
        idempotency_key=key,
        case_id="case-1",
        id_number=number,
        first_month=YearMonth(2026, 9),
        monthly_amount=Decimal("3456.78"),
        basic=Decimal(basic),
        personal_account=Decimal("1256.78"),
        transitional=Decimal("400.00"),
        confirmed_by=clerk(Department.SOCIAL_INSURANCE),
    )


def approval(number: str, key: str = "case-1:approval") -> ApprovalCommand:
    return ApprovalCommand(
        idempotency_key=key,
        case_id="case-1",
        id_number=number,
        retirement_month=YearMonth(2026, 8),
        approver=clerk(Department.HR),
    )


def medical_switch(
    number: str, key: str = "case-1:medical", outcome: MedicalOutcome = MedicalOutcome.RETIREE
) -> MedicalSwitch:
    shortfall = Decimal(0) if outcome is MedicalOutcome.RETIREE else Decimal("3.5")
    return MedicalSwitch(
        idempotency_key=key,
        case_id="case-1",
        id_number=number,
        outcome=outcome,
        total_years=Decimal("25") - shortfall,
        shortfall_years=shortfall,
        effective_month=YearMonth(2026, 8),
    )


def withdrawal(number: str, key: str = "case-1:fund") -> FundWithdrawal:
    return FundWithdrawal(
        idempotency_key=key,
        case_id="case-1",
        id_number=number,
        approved_by=clerk(Department.PROVIDENT_FUND),
    )


def reward_notice(number: str, key: str = "case-1:reward") -> RewardNoticeRecord:
    return RewardNoticeRecord(
        idempotency_key=key, case_id="case-1", id_number=number, concerns=True
    )


def notification(key: str = "case-1:reminder:1", **changes: Any) -> Notification:
    fields: dict[str, Any] = {
        "idempotency_key": key,
        "case_id": "case-1",
        "recipient_role": "organisation",
        "recipient": EMPLOYER,
        "kind": "reminder",
        "subject": "declaration due 2026-05-29",
        "variables": {"milestone": "declaration", "due": "2026-05-29"},
    }
    return Notification(**{**fields, **changes})


def sms(key: str = "d" * 64, mobile: str = "13812345678") -> SmsMessage:
    return SmsMessage(idempotency_key=key, case_id="case-1", mobile=mobile, text="【吉林人社】您好")


def push(key: str = "e" * 64, user: str = EMPLOYER) -> PushMessage:
    return PushMessage(
        idempotency_key=key, case_id="case-1", user=user, title="办理提醒", text="您好"
    )


# ---- Case snapshots for the read model -----------------------------------------------------


def task(
    task_id: str,
    *,
    kind: TaskKind = TaskKind.PRE_REVIEW,
    department: Department | None = Department.HR,
    assignee: Assignee = Assignee.CLERK,
    due: date | None = date(2026, 3, 10),
    status: TaskStatus = TaskStatus.OPEN,
    escalated: bool = False,
) -> Task:
    closed = status is not TaskStatus.OPEN
    return Task(
        id=task_id,
        kind=kind,
        title=f"{kind} {task_id}",
        assignee=assignee,
        department=department if assignee is Assignee.CLERK else None,
        organisation=EMPLOYER if assignee is Assignee.ORGANISATION else None,
        opened_at=T0,
        due=due,
        status=status,
        escalated=escalated,
        closed_at=T0 + timedelta(days=1) if closed else None,
    )


def snapshot(
    case_id: str = "retirement-abc",
    *,
    version: int = 1,
    stage: Stage = Stage.PRE_REVIEW,
    tasks: list[Task] | None = None,
    escalations: list[Escalation] | None = None,
    overdue: list[str] | None = None,
    events: int = 1,
) -> CaseSnapshot:
    return CaseSnapshot(
        case_id=case_id,
        stage=stage,
        path=RetirementPath.NORMAL,
        region_code=REGION,
        organisation=EMPLOYER,
        has_employer=True,
        person_name="张三",
        id_masked="2201**********1234",
        category=Category.MALE,
        deadlines=Deadlines(
            retirement_month=YearMonth(2026, 8),
            statutory_month=YearMonth(2026, 8),
            declaration_due=date(2026, 5, 29),
            contribution_check_due=date(2026, 6, 30),
            initiation_opens=date(2026, 7, 1),
            initiation_due=date(2026, 7, 31),
            first_pension_month=YearMonth(2026, 9),
        ),
        items=[],
        tasks=tasks if tasks is not None else [task("t1")],
        decisions=[],
        escalations=escalations or [],
        events=[
            CaseEvent(at=T0 + timedelta(hours=i), stage=stage, event=f"event {i}", actor="system")
            for i in range(events)
        ],
        late_declaration=False,
        overdue=overdue or [],
        reminders_sent=0,
        version=version,
    )


def audit(case_id: str, entry_id: str, action: str = "decision") -> AuditEntry:
    return AuditEntry(
        id=entry_id,
        case_id=case_id,
        at=T0,
        actor=clerk(Department.HR),
        action=action,
        detail="approved",
    )


def projection(
    snap: CaseSnapshot, audit_entries: list[AuditEntry] | None = None, **extra: Any
) -> Projection:
    return Projection(
        case_id=snap.case_id,
        person_key="f" * 64,
        id_number=id_number(),
        snapshot=snap,
        audit=audit_entries or [],
        **extra,
    )
