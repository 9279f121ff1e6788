"""A normal case from declaration to the first pension, over the real six-month timeline."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from contracts.declarations import Declaration
from contracts.people import Department
from contracts.workflow import (
    ContributionProblem,
    ContributionProblemKind,
    Decision,
    Initiate,
    ItemKey,
    ItemStatus,
    Outcome,
    Settle,
    Stage,
    TaskKind,
)
from domain.months import YearMonth
from domain.timeline import CHINA_TZ
from tests.workflows.conftest import (
    EMPLOYER_ACTOR,
    Harness,
    clerk,
    open_task,
    request_id,
    snapshot,
    stage_is,
)
from tests.workflows.fakes import Fund
from tests.workflows.people import retiree_from_now
from workflows.case import RetirementCase


async def approve(harness: Harness, handle, kind: TaskKind, department: Department) -> None:  # type: ignore[no-untyped-def]
    task = await open_task(handle, kind)
    await handle.execute_update(
        RetirementCase.decide,
        Decision(
            request_id=request_id(),
            task_id=task.id,
            outcome=Outcome.APPROVE,
            actor=clerk(department),
        ),
    )


async def test_a_normal_case_runs_from_declaration_to_the_first_pension(harness: Harness) -> None:
    # A man whose statutory month T is about nine months from now. By hand, from the 2024
    # reform: his original month is birth + 60 years; in the n-th month of the reform (2025-01
    # is the 1st) it is delayed by (n - 1) // 4 + 1 months, at most 36.
    man = await retiree_from_now(harness)
    t = man.t
    original = man.birth_month.plus(60 * 12)
    n = original.months_since(YearMonth(2025, 1)) + 1
    assert t == original.plus(min((n - 1) // 4 + 1, 36))
    retiree = man.person
    harness.fakes.add_person(
        retiree.id_number,
        retiree.name,
        problems=[
            ContributionProblem(
                id="arrears-2019",
                kind=ContributionProblemKind.ARREARS,
                detail="3 months unpaid in 2019",
                amount_yuan=Decimal("2466.00"),
            )
        ],
        fund=Fund(),
    )
    handle = await harness.start(retiree, Declaration(contribution_years=Decimal(30)))
    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.deadlines.retirement_month == t
    # Declared now, about three months before the last day of T-6: on time.
    assert snap.deadlines.declaration_due == t.minus(6).last_day() == man.timeline.declaration_due
    assert await harness.today() < snap.deadlines.declaration_due
    assert not snap.late_declaration
    assert snap.item(ItemKey.HOUSEHOLD).status is ItemStatus.DONE

    await approve(harness, handle, TaskKind.PRE_REVIEW, Department.HR)
    settle = await open_task(handle, TaskKind.SETTLE_CONTRIBUTIONS)
    assert settle.problem is not None
    assert settle.due == t.minus(2).last_day()  # the check's feedback is due by T-2
    await handle.execute_update(
        RetirementCase.settle,
        Settle(request_id=request_id(), actor=EMPLOYER_ACTOR, task_id=settle.id, note="paid"),
    )
    await approve(harness, handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await stage_is(handle, Stage.AWAITING_INITIATION)
    assert harness.fakes.count("settlement") == 1

    # The initiation window opens on the first day of T-1; the employer initiates at 10:00.
    opens = t.minus(1).first_day()
    assert opens == man.timeline.initiation_opens
    await harness.sleep_until(datetime(opens.year, opens.month, opens.day, 10, tzinfo=CHINA_TZ))
    await handle.execute_update(
        RetirementCase.initiate, Initiate(request_id=request_id(), actor=EMPLOYER_ACTOR)
    )
    await approve(harness, handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    await approve(harness, handle, TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE)
    await approve(harness, handle, TaskKind.CONFIRM_MEDICAL_YEARS, Department.MEDICAL)
    await approve(harness, handle, TaskKind.FUND_WITHDRAWAL, Department.PROVIDENT_FUND)
    outcome = await handle.result()

    assert outcome.stage is Stage.COMPLETED
    snap = await snapshot(handle)
    statuses = {i.key: i.status for i in snap.items}
    not_applicable = {ItemKey.SPECIAL_JOB_EARLY, ItemKey.ILLNESS_EARLY, ItemKey.ONE_CHILD_REWARD}
    for key, status in statuses.items():
        assert status is (ItemStatus.NOT_APPLICABLE if key in not_applicable else ItemStatus.DONE)
    assert snap.pension is not None
    assert snap.pension.first_month == t.plus(1)
    assert harness.fakes.count("pension-award") == 1
    assert harness.fakes.count("fund-payout") == 1
    assert not snap.open_tasks()
    kinds = {n.kind for n in harness.fakes.notifications}
    assert {"window-opens", "rights-notice", "case-completed"} <= kinds
    final = harness.fakes.projections[snap.case_id].snapshot
    assert final.stage is Stage.COMPLETED
    assert final.version == snap.version
