"""Pre-review (预审) by the HR bureau: return for correction and resubmission, rejection, and the
public security check of the household registration that comes with it.

Every story uses a man whose statutory month T is about nine months after the test starts
(the declaration is due at the end of T-6, about three months ahead), declared at the start with
30 years.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from contracts.declarations import Declaration
from contracts.people import Actor, Department, Role
from contracts.workflow import (
    Assignee,
    Decision,
    ItemKey,
    ItemStatus,
    Outcome,
    RefusalType,
    Resubmit,
    Stage,
    TaskKind,
    TaskStatus,
)
from tests.workflows.conftest import (
    EMPLOYER_ACTOR,
    Harness,
    clerk,
    open_task,
    request_id,
    snapshot,
    stage_is,
)
from tests.workflows.helpers import NORMAL, approve, decide, refused
from tests.workflows.people import retiree_from_now
from workflows.case import RetirementCase


async def test_returned_for_correction_then_resubmitted_and_approved(harness: Harness) -> None:
    retiree = (await retiree_from_now(harness)).person
    handle = await harness.start(retiree, NORMAL)

    # The HR clerk finds the deemed years (years before personal accounts) missing.
    first = await open_task(handle, TaskKind.PRE_REVIEW)
    assert first.department is Department.HR
    # A return must say what to correct: without a reason the decision cannot even be built.
    with pytest.raises(ValidationError, match="a decision to return needs a reason"):
        Decision(
            request_id=request_id(),
            task_id=first.id,
            outcome=Outcome.RETURN,
            actor=clerk(Department.HR),
        )
    await decide(handle, first, Outcome.RETURN, reason="deemed years before 1996 not declared")

    # The employer gets a correction task carrying the clerk's reason.
    correct = await open_task(handle, TaskKind.CORRECT)
    assert correct.assignee is Assignee.ORGANISATION
    assert correct.organisation == EMPLOYER_ACTOR.organisation
    assert correct.detail == "deemed years before 1996 not declared"
    snap = await snapshot(handle)
    assert snap.stage is Stage.PRE_REVIEW
    returned = next(t for t in snap.tasks if t.id == first.id)
    assert (returned.status, returned.outcome) == (TaskStatus.DONE, Outcome.RETURN)
    assert [t.kind for t in snap.open_tasks()] == [TaskKind.CORRECT]

    # Another organisation cannot resubmit this person's declaration.
    corrected = Declaration(contribution_years=Decimal(30), deemed_years=Decimal(5))
    other = Actor(id="someone", role=Role.EMPLOYER, organisation="emp-jl-9999")
    await refused(
        handle.execute_update(
            RetirementCase.resubmit,
            Resubmit(request_id=request_id(), actor=other, declaration=corrected),
        ),
        RefusalType.WRONG_ORGANISATION,
    )

    # The employer resubmits with 5 deemed years.
    status = await handle.execute_update(
        RetirementCase.resubmit,
        Resubmit(request_id=request_id(), actor=EMPLOYER_ACTOR, declaration=corrected),
    )
    assert status.stage is Stage.PRE_REVIEW
    assert all(t.kind is not TaskKind.CORRECT for t in status.open_tasks)

    # A new pre-review task, on the corrected declaration.
    second = await open_task(handle, TaskKind.PRE_REVIEW)
    assert second.id != first.id
    assert "30 contribution + 5 deemed years declared" in second.detail
    snap = await snapshot(handle)
    done_correct = next(t for t in snap.tasks if t.id == correct.id)
    assert (done_correct.status, done_correct.closed_by) == (TaskStatus.DONE, EMPLOYER_ACTOR)

    # Nothing is awaiting correction any more: a second resubmission is refused.
    await refused(
        handle.execute_update(
            RetirementCase.resubmit,
            Resubmit(request_id=request_id(), actor=EMPLOYER_ACTOR, declaration=corrected),
        ),
        RefusalType.WRONG_STAGE,
    )

    await decide(handle, second)
    snap = await stage_is(handle, Stage.CONTRIBUTION_CHECK)
    assert snap.item(ItemKey.PENSION_DEEMED_YEARS).status is ItemStatus.DONE
    assert snap.item(ItemKey.PENSION_DEEMED_YEARS).detail.startswith("5 deemed years")
    # The data pushed to social insurance is the approved (second) pre-review's, once.
    assert harness.fakes.count("prereview") == 1
    assert f"{snap.case_id}:prereview:{second.id}" in harness.fakes.effects["prereview"]


async def test_rejected_at_pre_review(harness: Harness) -> None:
    handle = await harness.start((await retiree_from_now(harness)).person, NORMAL)
    task = await open_task(handle, TaskKind.PRE_REVIEW)
    await decide(handle, task, Outcome.REJECT, reason="the archive shows no employment record")

    outcome = await handle.result()
    assert outcome.stage is Stage.REJECTED
    assert outcome.closed_reason == "pre-review rejected: the archive shows no employment record"
    snap = await snapshot(handle)
    assert not snap.open_tasks()
    assert all(t.status is not TaskStatus.OPEN for t in snap.tasks)
    # The HR items decided at pre-review are refused with the clerk's reason.
    for key in (ItemKey.PENSION_ELIGIBILITY, ItemKey.PENSION_DEEMED_YEARS):
        assert snap.item(key).status is ItemStatus.REFUSED
        assert snap.item(key).detail == "the archive shows no employment record"
    # Nothing went to social insurance.
    assert harness.fakes.count("prereview") == 0
    assert harness.fakes.calls["contribution_status"] == 0


async def test_a_household_mismatch_is_reviewed_by_public_security(harness: Harness) -> None:
    retiree = (await retiree_from_now(harness, name="张三")).person
    # The household registry knows him under another name.
    harness.fakes.add_person(retiree.id_number, "张山")
    handle = await harness.start(retiree, NORMAL)

    # At the declaration step public security sees the mismatch: a task for its clerk.
    review = await open_task(handle, TaskKind.HOUSEHOLD_REVIEW)
    assert review.department is Department.PUBLIC_SECURITY
    assert review.assignee is Assignee.CLERK
    assert review.detail == "the name differs from the registry"
    snap = await snapshot(handle)
    assert snap.stage is Stage.DECLARATION
    assert snap.item(ItemKey.HOUSEHOLD).status is ItemStatus.WAITING

    # The clerk confirms it is the same person (a transliteration); pre-review follows.
    await decide(handle, review, evidence=["户口簿 page 3"])
    snap = await stage_is(handle, Stage.PRE_REVIEW)
    assert snap.item(ItemKey.HOUSEHOLD).status is ItemStatus.DONE
    assert snap.item(ItemKey.HOUSEHOLD).detail == "confirmed by public security at declaration"

    # The registry is not corrected: the pre-review check gets the same answer, which the
    # clerk has confirmed already, so it is not asked again (tests/workflows/test_household.py).
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    snap = await stage_is(handle, Stage.CONTRIBUTION_CHECK)
    assert harness.fakes.calls["verify"] == 2
    assert [t.id for t in snap.tasks if t.kind is TaskKind.HOUSEHOLD_REVIEW] == [review.id]


async def test_a_household_registration_that_cannot_be_confirmed_rejects(
    harness: Harness,
) -> None:
    retiree = (await retiree_from_now(harness)).person
    harness.fakes.add_person(retiree.id_number, retiree.name, household="deceased")
    handle = await harness.start(retiree, NORMAL)

    review = await open_task(handle, TaskKind.HOUSEHOLD_REVIEW)
    assert review.detail == "registered as deceased"
    await decide(handle, review, Outcome.REJECT, reason="registered as deceased since 2021")

    outcome = await handle.result()
    assert outcome.stage is Stage.REJECTED
    assert outcome.closed_reason == (
        "household registration not confirmed: registered as deceased since 2021"
    )
    snap = await snapshot(handle)
    assert snap.item(ItemKey.HOUSEHOLD).status is ItemStatus.REFUSED
    assert not snap.open_tasks()
    # It never reached pre-review.
    assert all(t.kind is not TaskKind.PRE_REVIEW for t in snap.tasks)
