"""Clerks' decisions: what is refused (before anything reaches the workflow's history), the
de-duplicated decision Signal, and what an applied decision records for the audit.

A man whose statutory month T is about nine months after the test starts, in region 220102
(Changchun, Nanguan district).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError
from temporalio.api.enums.v1 import EventType

from contracts.people import Actor, Department, Role
from contracts.workflow import (
    CaseSnapshot,
    Decision,
    Outcome,
    RefusalType,
    Stage,
    Task,
    TaskKind,
    TaskStatus,
)
from tests.workflows.conftest import (
    EMPLOYER_ACTOR,
    REGION,
    Harness,
    clerk,
    open_task,
    request_id,
    snapshot,
    stage_is,
    wait_for,
)
from tests.workflows.helpers import NORMAL, Case, accepted_update_ids, decide, refused
from tests.workflows.people import retiree_from_now
from workflows.case import RetirementCase

COUNTER_CLERK = Actor(
    id="hr-counter-7", role=Role.CLERK, department=Department.HR, region=REGION, at_counter=True
)


async def projected(harness: Harness, handle: Case) -> CaseSnapshot:
    """Wait until the read model has the case's latest version (and its audit entries)."""
    return await wait_for(
        handle,
        lambda s: (
            s.case_id in harness.fakes.projections
            and harness.fakes.projections[s.case_id].snapshot.version == s.version
        ),
    )


async def test_malformed_decisions_are_refused_when_built() -> None:
    # Rejecting or returning needs a reason; whitespace is no reason.
    for outcome in (Outcome.REJECT, Outcome.RETURN):
        for reason in (None, "", "   "):
            with pytest.raises(ValidationError, match=f"a decision to {outcome} needs a reason"):
                Decision(
                    request_id=request_id(),
                    task_id="pre-review-1",
                    outcome=outcome,
                    reason=reason,
                    actor=clerk(Department.HR),
                )
    # A request id is a token, not free text.
    with pytest.raises(ValidationError, match="request_id"):
        Decision(
            request_id="two words",
            task_id="pre-review-1",
            outcome=Outcome.APPROVE,
            actor=clerk(Department.HR),
        )


async def test_refused_decisions_never_reach_the_history(harness: Harness) -> None:
    retiree = (await retiree_from_now(harness)).person
    # The registry has him under another name: public security reviews at the declaration.
    harness.fakes.add_person(retiree.id_number, "张山")
    handle = await harness.start(retiree, NORMAL)
    applied: list[str] = []  # ids of the updates that were applied

    async def attempt(
        task: Task,
        kind: RefusalType,
        outcome: Outcome = Outcome.APPROVE,
        *,
        actor: Actor | None = None,
        reason: str | None = None,
        deemed_years: Decimal | None = None,
        rid: str | None = None,
    ) -> None:
        call = decide(
            handle,
            task,
            outcome,
            actor=actor,
            reason=reason,
            deemed_years=deemed_years,
            rid=rid,
            update_id=f"refused-{request_id()}",
        )
        await refused(call, kind)

    household = await open_task(handle, TaskKind.HOUSEHOLD_REVIEW)
    # A household review is confirmed or not; it cannot be sent back for correction.
    await attempt(household, RefusalType.INVALID, Outcome.RETURN, reason="check again")
    # Deemed years are HR's (pre-review) or medical security's to confirm, not public security's:
    await attempt(household, RefusalType.INVALID, deemed_years=Decimal(5))
    harness.fakes.households[retiree.id_number] = (retiree.name, "registered")  # corrected
    await decide(handle, household, update_id="approve-household")
    applied.append("approve-household")

    review = await open_task(handle, TaskKind.PRE_REVIEW)
    quiet = await projected(harness, handle)  # the case is idle, waiting for the clerk
    before = len((await handle.fetch_history()).events)
    # Someone else's department, region or role:
    await attempt(review, RefusalType.WRONG_DEPARTMENT, actor=clerk(Department.SOCIAL_INSURANCE))
    await attempt(review, RefusalType.WRONG_REGION, actor=clerk(Department.HR, "220200"))
    await attempt(review, RefusalType.FORBIDDEN, actor=EMPLOYER_ACTOR)
    # Deemed years are recognised by approving the pre-review, not sent with a return:
    await attempt(
        review, RefusalType.INVALID, Outcome.RETURN, reason="check", deemed_years=Decimal(5)
    )
    # A task this case never had:
    await attempt(review.model_copy(update={"id": "pre-review-99"}), RefusalType.STALE)
    # None of these changed the case or left an update in its history. (The test server
    # still records a workflow task for each, where a real server discards the speculative
    # task; the read-model write of the last change may land as a marker meanwhile.)
    assert (await snapshot(handle)).version == quiet.version
    added = (await handle.fetch_history()).events[before:]
    assert {EventType.Name(e.event_type) for e in added} <= {
        "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED",
        "EVENT_TYPE_WORKFLOW_TASK_STARTED",
        "EVENT_TYPE_WORKFLOW_TASK_COMPLETED",
        "EVENT_TYPE_MARKER_RECORDED",
    }

    rid = request_id()
    await decide(handle, review, rid=rid, update_id="approve-pre-review")
    applied.append("approve-pre-review")
    # The same request again (a client retry with a new update id) is a duplicate...
    await attempt(review, RefusalType.DUPLICATE, rid=rid)
    # ...and a new request on the decided task is stale.
    await attempt(review, RefusalType.STALE)
    confirm = await open_task(handle, TaskKind.CONFIRM_CONTRIBUTIONS)
    await decide(handle, confirm, update_id="approve-contributions")
    applied.append("approve-contributions")
    await stage_is(handle, Stage.AWAITING_INITIATION)

    assert await accepted_update_ids(handle) == applied
    snap = await snapshot(handle)
    assert [d.task_id for d in snap.decisions] == [household.id, review.id, confirm.id]


async def test_a_provincial_clerk_may_decide_a_city_case(harness: Harness) -> None:
    handle = await harness.start((await retiree_from_now(harness)).person, NORMAL)
    review = await open_task(handle, TaskKind.PRE_REVIEW)
    provincial = clerk(Department.HR, "220000")  # Jilin province covers every 22xxxx region
    await decide(handle, review, actor=provincial)
    snap = await stage_is(handle, Stage.CONTRIBUTION_CHECK)
    assert snap.decisions[0].actor == provincial


async def test_a_party_task_is_not_decided_by_a_clerk(harness: Harness) -> None:
    handle = await harness.start((await retiree_from_now(harness)).person, NORMAL)
    review = await open_task(handle, TaskKind.PRE_REVIEW)
    await decide(handle, review, Outcome.RETURN, reason="archive pages missing")
    correct = await open_task(handle, TaskKind.CORRECT)
    await refused(decide(handle, correct, actor=clerk(Department.HR)), RefusalType.INVALID)
    assert len(await accepted_update_ids(handle)) == 1  # the RETURN only
    snap = await snapshot(handle)
    assert [t.kind for t in snap.open_tasks()] == [TaskKind.CORRECT]


async def signal(handle: Case, decision: Decision) -> None:
    await handle.signal(RetirementCase.decide_signal, decision)


async def test_the_decision_signal_applies_once_and_records_a_refusal(harness: Harness) -> None:
    handle = await harness.start((await retiree_from_now(harness)).person, NORMAL)
    review = await open_task(handle, TaskKind.PRE_REVIEW)

    # A refused signal cannot answer its sender: it is recorded on the case instead.
    wrong = Decision(
        request_id=request_id(),
        task_id=review.id,
        outcome=Outcome.APPROVE,
        actor=clerk(Department.MEDICAL),
    )
    await signal(handle, wrong)
    snap = await wait_for(
        handle, lambda s: any("signalled decision refused" in e.event for e in s.events)
    )
    event = next(e for e in snap.events if "signalled decision refused" in e.event)
    assert event.event == f"signalled decision refused: task {review.id} belongs to hr"
    assert event.actor == clerk(Department.MEDICAL).label()
    assert snap.decisions == []
    assert next(t for t in snap.tasks if t.id == review.id).status is TaskStatus.OPEN

    # At-least-once delivery: the same decision signalled twice is applied once.
    approve = Decision(
        request_id=request_id(),
        task_id=review.id,
        outcome=Outcome.APPROVE,
        actor=clerk(Department.HR),
    )
    await signal(handle, approve)
    await signal(handle, approve)
    confirm = await open_task(handle, TaskKind.CONFIRM_CONTRIBUTIONS)
    snap = await snapshot(handle)
    assert [(d.request_id, d.via) for d in snap.decisions] == [(approve.request_id, "signal")]
    assert [t.kind for t in snap.tasks].count(TaskKind.PRE_REVIEW) == 1
    assert harness.fakes.count("prereview") == 1
    # An update that repeats a signalled request id is a duplicate too.
    await refused(decide(handle, confirm, rid=approve.request_id), RefusalType.DUPLICATE)

    # The read model's audit log has the refusal and the one applied decision.
    await projected(harness, handle)
    audit = [(a.action, a.result) for a in harness.fakes.audit.values()]
    assert ("decide", "refused") in audit
    assert audit.count(("decide-pre-review", "accepted")) == 1


async def test_an_applied_decision_records_who_why_and_on_what_evidence(harness: Harness) -> None:
    handle = await harness.start((await retiree_from_now(harness)).person, NORMAL)
    review = await open_task(handle, TaskKind.PRE_REVIEW)

    # The person came to the HR counter; the clerk decides there on the paper archive.
    rid = request_id()
    await decide(
        handle,
        review,
        actor=COUNTER_CLERK,
        reason="archive checked at the counter",
        evidence=["档案 vol. 2 p. 14", "招工表 1985"],
        rid=rid,
    )
    snap = await stage_is(handle, Stage.CONTRIBUTION_CHECK)
    [record] = snap.decisions
    assert record.request_id == rid
    assert (record.task_id, record.task_kind, record.department) == (
        review.id,
        TaskKind.PRE_REVIEW,
        Department.HR,
    )
    assert record.outcome is Outcome.APPROVE
    assert record.actor == COUNTER_CLERK
    assert record.actor.at_counter
    assert record.reason == "archive checked at the counter"
    assert record.evidence == ["档案 vol. 2 p. 14", "招工表 1985"]
    assert record.via == "update"
    closed = next(t for t in snap.tasks if t.id == review.id)
    assert (closed.closed_by, closed.reason) == (COUNTER_CLERK, "archive checked at the counter")
    # The case's story names the counter.
    assert any(e.actor == "clerk:hr-counter-7@hr at the counter" for e in snap.events)

    # The read model's audit log: one entry for the decision, with the actor as it acted.
    await projected(harness, handle)
    [entry] = [a for a in harness.fakes.audit.values() if a.action == "decide-pre-review"]
    assert entry.actor == COUNTER_CLERK
    assert entry.result == "accepted"
    assert entry.case_id == snap.case_id
    assert "archive checked at the counter" in entry.detail


async def test_the_audit_log_keeps_a_decisions_evidence(harness: Harness) -> None:
    handle = await harness.start((await retiree_from_now(harness)).person, NORMAL)
    review = await open_task(handle, TaskKind.PRE_REVIEW)
    await decide(handle, review, actor=COUNTER_CLERK, evidence=["档案 vol. 2 p. 14"])
    await stage_is(handle, Stage.CONTRIBUTION_CHECK)
    await projected(harness, handle)
    [entry] = [a for a in harness.fakes.audit.values() if a.action == "decide-pre-review"]
    assert "档案 vol. 2 p. 14" in entry.detail
