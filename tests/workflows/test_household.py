"""Public security checks the household registration three times — at the declaration, after
pre-review and before HR's formal approval. A mismatch its clerk has confirmed is not asked
about again at the later checks, unless the registry's answer changes.

A man whose statutory month T is about nine months after the test starts, declared with 30
years; the registry knows him as 张山, the declaration says 张三 (a transliteration).
"""

from __future__ import annotations

from collections.abc import Iterable

from temporalio.worker import Replayer

from contracts.people import Department
from contracts.workflow import Initiate, ItemKey, ItemStatus, Stage, Task, TaskKind
from service.temporal import DATA_CONVERTER
from tests.workflows.conftest import (
    EMPLOYER_ACTOR,
    Harness,
    open_task,
    request_id,
    snapshot,
    stage_is,
    wait_for,
)
from tests.workflows.helpers import NORMAL, Case, approve, china, decide
from tests.workflows.people import Retiree, retiree_from_now
from workflows.case import RetirementCase

OTHER_NAME = "the name differs from the registry"


async def confirmed_at_declaration(harness: Harness) -> tuple[Retiree, Case]:
    man = await retiree_from_now(harness, name="张三")
    harness.fakes.add_person(man.person.id_number, "张山")
    handle = await harness.start(man.person, NORMAL)
    review = await open_task(handle, TaskKind.HOUSEHOLD_REVIEW)
    assert review.detail == OTHER_NAME
    await decide(handle, review, evidence=["户口簿 page 3"])
    await stage_is(handle, Stage.PRE_REVIEW)
    return man, handle


async def initiated(harness: Harness, man: Retiree, handle: Case) -> None:
    """The contribution check confirmed, the employer initiates on the window's first day."""
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await stage_is(handle, Stage.AWAITING_INITIATION)
    await harness.sleep_until(china(man.timeline.initiation_opens, 10))
    await handle.execute_update(
        RetirementCase.initiate, Initiate(request_id=request_id(), actor=EMPLOYER_ACTOR)
    )


def household_reviews(tasks: Iterable[Task]) -> list[str]:
    return [t.id for t in tasks if t.kind is TaskKind.HOUSEHOLD_REVIEW]


async def test_a_confirmed_mismatch_is_not_asked_again_at_the_next_two_checks(
    harness: Harness,
) -> None:
    man, handle = await confirmed_at_declaration(harness)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    snap = await stage_is(handle, Stage.CONTRIBUTION_CHECK)
    household = snap.item(ItemKey.HOUSEHOLD)
    assert household.status is ItemStatus.DONE
    assert household.detail == f"mismatch at pre-review as confirmed before: {OTHER_NAME}"

    await initiated(harness, man, handle)
    # The check before the formal approval gets the same answer: straight to HR's approval.
    await open_task(handle, TaskKind.FORMAL_APPROVAL)
    snap = await snapshot(handle)
    assert harness.fakes.calls["verify"] == 3
    assert len(household_reviews(snap.tasks)) == 1
    assert snap.item(ItemKey.HOUSEHOLD).detail == (
        f"mismatch at approval as confirmed before: {OTHER_NAME}"
    )
    replayer = Replayer(workflows=[RetirementCase], data_converter=DATA_CONVERTER)
    await replayer.replay_workflow(await handle.fetch_history())


async def test_a_changed_answer_is_asked_about(harness: Harness) -> None:
    man, handle = await confirmed_at_declaration(harness)
    # Meanwhile the registry corrects his name and records him as moved out of the province.
    harness.fakes.households[man.person.id_number] = ("张三", "moved out")
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    snap = await wait_for(handle, lambda s: len(household_reviews(s.open_tasks())) == 1)
    again = next(t for t in snap.open_tasks() if t.kind is TaskKind.HOUSEHOLD_REVIEW)
    assert again.detail == "registered as moved out"
    assert snap.item(ItemKey.HOUSEHOLD).status is ItemStatus.WAITING


async def test_the_same_answer_after_a_match_is_asked_about_again(harness: Harness) -> None:
    man, handle = await confirmed_at_declaration(harness)
    # The registry is corrected before pre-review's check (a match), then the correction is
    # undone: the old mismatch is the registry's new answer, and the clerk is asked again.
    harness.fakes.households[man.person.id_number] = ("张三", "registered")
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    snap = await stage_is(handle, Stage.CONTRIBUTION_CHECK)
    assert snap.item(ItemKey.HOUSEHOLD).detail == "verified at pre-review"
    harness.fakes.households[man.person.id_number] = ("张山", "registered")
    await initiated(harness, man, handle)
    snap = await wait_for(handle, lambda s: len(household_reviews(s.open_tasks())) == 1)
    again = next(t for t in snap.open_tasks() if t.kind is TaskKind.HOUSEHOLD_REVIEW)
    assert again.detail == OTHER_NAME
    assert "at approval" in again.title
