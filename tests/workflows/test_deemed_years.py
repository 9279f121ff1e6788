"""Item 2, 养老视同缴费年限认定: HR recognises the pension deemed years at pre-review — the
declared figure, or the clerk's correction — and that one figure is used by the item, the
contribution check and the pension (not social insurance's own record of them).

A man whose statutory month T is about nine months after the test starts. Social insurance's
record (the fakes' default) shows 30 actual and 5 deemed years, index 1.0, a personal account of
139,000 yuan.
"""

from __future__ import annotations

from decimal import Decimal

from contracts.declarations import Declaration
from contracts.people import Department
from contracts.workflow import (
    CorrectRetirement,
    Initiate,
    ItemKey,
    ItemStatus,
    Outcome,
    PensionResult,
    Stage,
    TaskKind,
)
from domain.pension import estimate_pension
from tests.workflows.conftest import (
    EMPLOYER_ACTOR,
    Harness,
    clerk,
    open_task,
    request_id,
    snapshot,
    stage_is,
    wait_for,
)
from tests.workflows.helpers import Case, approve, china, decide
from tests.workflows.people import Retiree, retiree_from_now
from workflows.case import RetirementCase

DECLARED = Declaration(contribution_years=Decimal(30), deemed_years=Decimal(5))


def expected_monthly(harness: Harness, man: Retiree, deemed: Decimal) -> Decimal:
    """The pension by the rules on the record's figures and ``deemed`` deemed years."""
    return estimate_pension(
        birth_month=man.birth_month,
        retirement_month=man.t,
        contribution_index=Decimal("1.0"),
        actual_years=Decimal(30),
        deemed_years=deemed,
        account_balance=Decimal(139000),
        policy=harness.policy,
    ).total


async def awarded(harness: Harness, man: Retiree, handle: Case) -> PensionResult:
    """Pre-review approved: through the check, initiation and the formal approval to the
    confirmed, awarded pension."""
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await stage_is(handle, Stage.AWAITING_INITIATION)
    await harness.sleep_until(china(man.timeline.initiation_opens, 10))
    await handle.execute_update(
        RetirementCase.initiate, Initiate(request_id=request_id(), actor=EMPLOYER_ACTOR)
    )
    await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    await approve(handle, TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE)
    snap = await wait_for(
        handle, lambda s: s.pension is not None and s.pension.award_id is not None
    )
    assert snap.pension is not None
    return snap.pension


async def test_a_corrected_figure_is_the_one_the_check_and_the_pension_use(
    harness: Harness,
) -> None:
    man = await retiree_from_now(harness)
    harness.fakes.add_person(man.person.id_number, man.person.name)
    handle = await harness.start(man.person, DECLARED)

    # The archive shows 8 years before personal accounts, not the 5 declared: the HR clerk
    # corrects the figure while approving.
    review = await open_task(handle, TaskKind.PRE_REVIEW)
    await decide(handle, review, deemed_years=Decimal(8), evidence=["archive pages 12-14"])
    snap = await stage_is(handle, Stage.CONTRIBUTION_CHECK)
    item = snap.item(ItemKey.PENSION_DEEMED_YEARS)
    assert item.status is ItemStatus.DONE
    assert item.detail == "8 deemed years recognised at pre-review (corrected from 5 declared)"
    # Social insurance receives the recognised figure with the pre-review data.
    [push] = harness.fakes.prereviews
    assert push.declaration.deemed_years == Decimal(8)
    assert push.declaration.contribution_years == Decimal(30)

    # The contribution check counts it (and says that the record differs).
    confirm = await open_task(handle, TaskKind.CONFIRM_CONTRIBUTIONS)
    assert confirm.detail.startswith("record active: 38 years (")
    assert "8 deemed years as recognised at pre-review (the record shows 5)" in confirm.detail

    # So does the pension: calculated, confirmed and awarded on 8 deemed years.
    pension = await awarded(harness, man, handle)
    assert pension.deemed_years == Decimal(8)
    assert pension.monthly_amount == expected_monthly(harness, man, Decimal(8))
    assert pension.monthly_amount != expected_monthly(harness, man, Decimal(5))
    snap = await snapshot(handle)
    confirmed = next(t for t in snap.tasks if t.kind is TaskKind.CONFIRM_PENSION)
    assert f"confirm the pension of {pension.monthly_amount} yuan" in confirmed.title
    assert "30 actual + 8 deemed years" in confirmed.detail
    # The audit log keeps the figure the clerk approved with.
    [approved] = [e for e in harness.fakes.audit.values() if e.action == "decide-pre-review"]
    assert approved.detail.endswith("(evidence: archive pages 12-14) (deemed years: 8)")


async def test_without_a_correction_the_declared_figure_is_recognised(harness: Harness) -> None:
    man = await retiree_from_now(harness)
    harness.fakes.add_person(man.person.id_number, man.person.name)
    three = Declaration(contribution_years=Decimal(30), deemed_years=Decimal(3))
    handle = await harness.start(man.person, three)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    snap = await stage_is(handle, Stage.CONTRIBUTION_CHECK)
    assert snap.item(ItemKey.PENSION_DEEMED_YEARS).detail == (
        "3 deemed years recognised at pre-review"
    )
    pension = await awarded(harness, man, handle)
    assert pension.deemed_years == Decimal(3)
    assert pension.monthly_amount == expected_monthly(harness, man, Decimal(3))


async def test_an_hr_correction_after_pre_review_moves_the_one_figure(harness: Harness) -> None:
    man = await retiree_from_now(harness)
    harness.fakes.add_person(man.person.id_number, man.person.name)
    handle = await harness.start(man.person, DECLARED)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    confirm = await open_task(handle, TaskKind.CONFIRM_CONTRIBUTIONS)
    assert "deemed years" not in confirm.detail  # 5 recognised, 5 on record: nothing to say

    # HR finds two more years in the archive and corrects the declaration.
    seven = DECLARED.model_copy(update={"deemed_years": Decimal(7)})
    await handle.execute_update(
        RetirementCase.correct_retirement,
        CorrectRetirement(
            request_id=request_id(),
            actor=clerk(Department.HR),
            reason="archive pages 15-16: two more years",
            declaration=seven,
        ),
    )
    snap = await snapshot(handle)
    assert snap.item(ItemKey.PENSION_DEEMED_YEARS).detail == (
        "7 deemed years, as corrected by HR: archive pages 15-16: two more years"
    )
    # The clerk has the record read again: the check now counts 7.
    await decide(handle, confirm, Outcome.RETURN, reason="deemed years corrected by HR")
    snap = await wait_for(
        handle,
        lambda s: any(
            t.kind is TaskKind.CONFIRM_CONTRIBUTIONS and t.id != confirm.id for t in s.open_tasks()
        ),
    )
    again = next(t for t in snap.open_tasks() if t.kind is TaskKind.CONFIRM_CONTRIBUTIONS)
    assert again.detail.startswith("record active: 37 years (")
