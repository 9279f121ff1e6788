"""The demo cases: one per path, each with the department records its story needs.

``retirement demo`` runs them all to the end on the time-skipping server; ``make run`` starts
them on the dev server and drives each to a different stage, so the Temporal UI shows cases at
every step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from contracts.declarations import Declaration, FlexibleChoice, OneChild, SpecialJob
from contracts.people import Person
from contracts.workflow import (
    CaseSnapshot,
    ContributionProblem,
    ContributionProblemKind,
    Outcome,
    Stage,
    Task,
    TaskKind,
)
from domain.early import Appraisal
from domain.idcard import check_character
from domain.months import YearMonth
from domain.plan import RetirementPath
from domain.policy import Category, Policy, SpecialJobKind
from domain.statutory import first_birth_month_retiring_from, statutory_retirement
from domain.timeline import CHINA_TZ, case_timeline
from harness.department_simulator import DepartmentSimulator
from harness.driver import (
    Advance,
    Driver,
    ReadModelView,
    Script,
    Step,
    Waiting,
    organisation_actor,
)
from service.case_start import start_case

REGION = "220102"  # 长春市南关区
EMPLOYER = "jl-auto-works"  # a demo employer
AGENCY = "cc-talent-archive"  # a demo archive custody agency


def demo_id(birth: date, *, male: bool, serial: int) -> str:
    first17 = f"{REGION}{birth:%Y%m%d}{serial * 2 + int(male):03d}"
    return first17 + check_character(first17)


@dataclass(frozen=True)
class DemoCase:
    label: str
    person: Person
    declaration: Declaration | None
    script: Script
    seed: dict[str, Any] = field(default_factory=dict)
    stop_at: Stage | None = None  # where `make run` leaves it


def _return_first_pre_review(task: Task, n: int) -> tuple[Outcome, str | None]:
    if task.kind is TaskKind.PRE_REVIEW and n == 0:
        return Outcome.RETURN, "archive pages 12-14 missing: attach the 1985-1990 wage records"
    return Outcome.APPROVE, None


def demo_cases(today: date, policy: Policy) -> list[DemoCase]:
    """One case per path, its people chosen relative to ``today`` so every story is current:
    declarations on time (but one late), windows still ahead, early and flexible choices valid."""
    now = YearMonth.of(today)

    def born(category: Category, retiring_from: int) -> YearMonth:
        """The first birth month reaching statutory age ``retiring_from`` months from now."""
        return first_birth_month_retiring_from(now.plus(retiring_from), category, policy)

    def person(
        name: str, birth: YearMonth, category: Category, serial: int, *, agency: bool = False
    ) -> Person:
        return Person(
            id_number=demo_id(
                date(birth.year, birth.month, 10 + serial),
                male=category is Category.MALE,
                serial=serial,
            ),
            name=name,
            category=category,
            region_code=REGION,
            employer_id=None if agency else EMPLOYER,
            agency_id=AGENCY if agency else None,
        )

    think = timedelta(days=2)
    arrears = ContributionProblem(
        id="arrears-2019",
        kind=ContributionProblemKind.ARREARS,
        detail="3 months unpaid in 2019",
        amount_yuan=Decimal("2466.00"),
    )
    transfer = ContributionProblem(
        id="transfer-liaoning",
        kind=ContributionProblemKind.TRANSFER,
        detail="2003-2008 contributions in Liaoning to transfer in",
    )
    normal = Declaration(
        contribution_years=Decimal(30),
        deemed_years=Decimal(5),
        one_child=OneChild(holds_certificate=True, child_birth_date=date(1992, 5, 1)),
    )
    # Early paths: old enough for the early age, retiring seven months from now.
    early_month = now.plus(7)
    special_birth = early_month.minus(56 * 12)  # a man of 56: past the special-job age of 55
    illness_birth = early_month.minus(46 * 12)  # a woman of 46: past the illness age of 45
    # Flexible early: a man retiring at his original month, before his delayed statutory one.
    early_birth = born(Category.MALE, 20)
    early_choice = early_birth.plus(60 * 12)
    # Flexible delay: a woman cadre delaying six months past her statutory month.
    delay_birth = born(Category.FEMALE_CADRE, 8)
    delay_choice = statutory_retirement(
        delay_birth, Category.FEMALE_CADRE, policy
    ).retirement_month.plus(6)
    roster_birth = born(Category.FEMALE_CADRE, 15)
    roster_due = case_timeline(
        statutory_retirement(roster_birth, Category.FEMALE_CADRE, policy).retirement_month, policy
    ).declaration_due
    return [
        DemoCase(
            "normal",
            person("王建国", born(Category.MALE, 9), Category.MALE, 1),
            normal,
            Script(declaration=normal, think_time=think),
            seed={"contribution_problems": [arrears], "deemed_years": Decimal(5)},
            stop_at=Stage.CONTRIBUTION_CHECK,
        ),
        DemoCase(
            "special-job",
            person("李铁柱", special_birth, Category.MALE, 2),
            Declaration(
                path=RetirementPath.SPECIAL_JOB,
                contribution_years=Decimal(33),
                requested_month=early_month,
                special_jobs=[
                    SpecialJob(kind=SpecialJobKind.UNDERGROUND_HIGH_TEMPERATURE, years=Decimal(10))
                ],
            ),
            Script(think_time=think),
            stop_at=Stage.PRE_REVIEW,
        ),
        DemoCase(
            "illness",
            person("赵秀英", illness_birth, Category.FEMALE_WORKER, 3),
            Declaration(
                path=RetirementPath.ILLNESS,
                contribution_years=Decimal(16),
                requested_month=early_month,
                appraisal=Appraisal.COMPLETE_LOSS,
            ),
            Script(think_time=think),
            seed={"actual_years": Decimal(16), "medical_actual_years": Decimal(16)},
            stop_at=Stage.AWAITING_INITIATION,
        ),
        DemoCase(
            "flexible-early",
            person("刘志强", early_birth, Category.MALE, 4),
            Declaration(
                path=RetirementPath.FLEXIBLE_EARLY,
                contribution_years=Decimal(30),
                requested_month=early_choice,
                flexible=FlexibleChoice(notice_month=now),
            ),
            Script(think_time=think),
            stop_at=Stage.DECLARATION,
        ),
        DemoCase(
            "flexible-delay",
            person("陈丽华", delay_birth, Category.FEMALE_CADRE, 5),
            Declaration(
                path=RetirementPath.FLEXIBLE_DELAY,
                contribution_years=Decimal(28),
                requested_month=delay_choice,
                flexible=FlexibleChoice(notice_month=now, employer_agreed=True),
            ),
            Script(think_time=think),
            stop_at=Stage.PRE_REVIEW,
        ),
        DemoCase(
            "no-employer",
            person(
                "孙桂兰", born(Category.FEMALE_WORKER, 18), Category.FEMALE_WORKER, 6, agency=True
            ),
            Declaration(contribution_years=Decimal(22)),
            Script(think_time=think),
            seed={"contribution_problems": [transfer], "with_fund": False},
            stop_at=Stage.CONTRIBUTION_CHECK,
        ),
        DemoCase(
            "returned-for-correction",
            person("周明", born(Category.MALE, 12), Category.MALE, 7),
            Declaration(contribution_years=Decimal(31)),
            Script(
                declaration=Declaration(contribution_years=Decimal(31)),
                decide=_return_first_pre_review,
                correction=lambda d: Declaration(
                    contribution_years=Decimal(31), archive_refs=["archive/1985-1990-wages.pdf"]
                ),
                think_time=think,
            ),
            stop_at=Stage.PRE_REVIEW,
        ),
        DemoCase(
            "roster-start",
            person("吴海燕", roster_birth, Category.FEMALE_CADRE, 8),
            None,  # started from the roster: the employer has yet to declare
            # The employer misses the declaration deadline: three reminders, an escalation to
            # HR supervisors, then a declaration flagged late.
            Script(
                declaration=Declaration(contribution_years=Decimal(27)),
                think_time=think,
                first_action_at=datetime.combine(
                    roster_due + timedelta(days=6), time(10), CHINA_TZ
                ),
            ),
            stop_at=Stage.AWAITING_DECLARATION,
        ),
    ]


@dataclass
class DemoRun:
    case: DemoCase
    case_id: str
    driver: Driver

    @property
    def snapshot(self) -> CaseSnapshot:
        if self.driver.last is None:
            raise RuntimeError("the demo case was never driven")
        return self.driver.last


async def start_demo_cases(
    client: Client,
    sessions: sessionmaker[Session],
    departments: DepartmentSimulator,
    *,
    policy: Policy,
    secret: bytes,
    task_queue: str,
    search_attributes: bool,
    cases: Sequence[DemoCase] | None = None,
    until_stop: bool = False,
) -> list[DemoRun]:
    """Set each demo person's department records in the simulator and start (or find) their
    case."""
    runs = []
    today = datetime.now(CHINA_TZ).date()
    for case in cases or demo_cases(today, policy):
        await asyncio.to_thread(
            departments.seed, case.person.id_number, case.person.name, **case.seed
        )
        started = await start_case(
            client,
            person=case.person,
            policy=policy,
            secret=secret,
            task_queue=task_queue,
            declaration=case.declaration,
            declared_by=organisation_actor(case.person) if case.declaration else None,
            request_id=f"demo-{case.label}-declare" if case.declaration else None,
            search_attributes=search_attributes,
        )
        driver = Driver(
            started.handle,
            case.person,
            started.person_key,
            case.script,
            until=case.stop_at if until_stop else None,
            view=ReadModelView(sessions, started.case_id),
        )
        runs.append(DemoRun(case, started.case_id, driver))
    return runs


async def drive_together(
    runs: Sequence[DemoRun],
    *,
    clock: Any | None = None,
    advance: Advance | None = None,
    timeout: float = 120.0,
) -> None:
    """Drive every case on one clock: act wherever someone can, and move the clock only when
    every case is waiting for a date (time skipping) — so no case's story skips another's."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pending = list(runs)
    while pending:
        if loop.time() > deadline:
            raise TimeoutError(f"demo cases did not finish: {[r.case.label for r in pending]}")
        now: datetime | None = await clock() if clock else None
        waits: list[datetime] = []
        progressed = False
        for run in list(pending):
            result = await run.driver.step(now)
            if result is Step.DONE:
                pending.remove(run)
            elif result is Step.ACTED:
                progressed = True
            elif isinstance(result, Waiting):
                waits.append(result.until)
        if progressed or not pending:
            continue
        if waits and len(waits) == len(pending):
            if advance is None:
                return  # a real clock: everyone waits for the calendar
            await advance(min(waits))
        else:
            await asyncio.sleep(0.05)
