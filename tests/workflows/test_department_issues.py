"""A department issue that cannot be fixed: the task says what a rejection does before the clerk
decides, a refusal that comes back the same way says which attempt it is, and the third in a row
goes to the department's supervisors instead of being minted again without end.

A man whose statutory month T is about nine months after the test starts, declared with 30
years; social insurance's system refuses to read his contribution record at the check.
"""

from __future__ import annotations

import re
from pathlib import Path

from temporalio.worker import Replayer

from contracts.people import Department, Role
from contracts.workflow import ItemKey, Outcome, RefusalType, Stage, Task, TaskKind
from service.temporal import DATA_CONVERTER
from tests.workflows.conftest import Harness, clerk, open_task, snapshot, stage_is, wait_for
from tests.workflows.helpers import NORMAL, Case, approve, decide, refused
from tests.workflows.people import retiree_from_now
from workflows import issues
from workflows.case import RetirementCase

SOCIAL = Department.SOCIAL_INSURANCE
SUPERVISOR = clerk(SOCIAL, role=Role.SUPERVISOR)
NO_RECORD = (SOCIAL, "no contribution record")
DOCS = Path(__file__).parents[2] / "docs" / "department-issues.md"


async def at_the_check_with_the_record_refused(harness: Harness) -> Case:
    """Pre-review approved; social insurance refuses to read the record (until told not to)."""
    man = (await retiree_from_now(harness)).person
    harness.fakes.add_person(man.id_number, man.name)
    harness.fakes.refusals["contribution_status"] = NO_RECORD
    handle = await harness.start(man, NORMAL)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    return handle


async def next_issue(handle: Case, seen: list[Task]) -> Task:
    """The department issue opened after those in ``seen``."""
    ids = {t.id for t in seen}
    snap = await wait_for(
        handle,
        lambda s: any(
            t.kind is TaskKind.DEPARTMENT_ISSUE and t.id not in ids for t in s.open_tasks()
        ),
    )
    issue = next(
        t for t in snap.open_tasks() if t.kind is TaskKind.DEPARTMENT_ISSUE and t.id not in ids
    )
    seen.append(issue)
    return issue


async def test_the_same_refusal_again_counts_and_the_third_goes_to_the_supervisors(
    harness: Harness,
) -> None:
    handle = await at_the_check_with_the_record_refused(harness)
    issues_seen: list[Task] = []

    first = await next_issue(handle, issues_seen)
    assert (first.attempt, first.escalated) == (1, False)
    assert first.title == (
        "social-insurance refused 'read the contribution record': resolve, then approve to retry"
    )
    # What a rejection would do is on the task before the clerk decides.
    assert first.if_rejected == issues.CONTRIBUTION_RECORD.text
    assert first.if_rejected.startswith("the whole case closes as rejected")

    # The clerk approves without anything fixed: the same refusal, and the task says so.
    await decide(handle, first)
    second = await next_issue(handle, issues_seen)
    assert (second.attempt, second.escalated) == (2, False)
    assert second.title.startswith("attempt 2: social-insurance refused the same way again")
    assert second.detail == "no contribution record"
    assert (await snapshot(handle)).escalations == []

    # The third in a row is escalated to social insurance's supervisors.
    await decide(handle, second)
    third = await next_issue(handle, issues_seen)
    assert (third.attempt, third.escalated) == (3, True)
    assert third.title.startswith("attempt 3: social-insurance refused the same way again")
    assert third.title.endswith("escalated, a supervisor decides")
    snap = await wait_for(handle, lambda s: len(s.escalations) == 1)
    [escalation] = snap.escalations
    assert (escalation.department, escalation.task_id) == (SOCIAL, third.id)
    assert "3 times in a row: no contribution record" in escalation.reason
    sent = [n for n in harness.fakes.notifications if n.kind == "department-issue"]
    assert [n.recipient for n in sent] == ["social-insurance@220102"]

    # A clerk can no longer approve (or reject) it: that would only mint the same task again.
    for outcome, reason in ((Outcome.APPROVE, None), (Outcome.REJECT, "no record")):
        await refused(decide(handle, third, outcome, reason=reason), RefusalType.FORBIDDEN)
    # Three tasks, three reads: nothing was minted meanwhile.
    assert harness.fakes.calls["contribution_status"] == 3
    snap = await snapshot(handle)
    assert [t.id for t in snap.tasks if t.kind is TaskKind.DEPARTMENT_ISSUE] == [
        t.id for t in issues_seen
    ]

    # The supervisor tries once more without a fix: attempt 4 stays with the supervisors.
    await decide(handle, third, actor=SUPERVISOR)
    fourth = await next_issue(handle, issues_seen)
    assert (fourth.attempt, fourth.escalated) == (4, True)
    await refused(decide(handle, fourth), RefusalType.FORBIDDEN)

    # The record is restored (merged from an old ID number); the supervisor approves.
    del harness.fakes.refusals["contribution_status"]
    await decide(handle, fourth, actor=SUPERVISOR, evidence=["merge ticket SI-2026-1182"])
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, SOCIAL)
    snap = await stage_is(handle, Stage.AWAITING_INITIATION)
    assert harness.fakes.calls["contribution_status"] == 5
    assert [e.task_id for e in snap.escalations] == [third.id, fourth.id]
    # The new path replays (the escalation's notification included).
    replayer = Replayer(workflows=[RetirementCase], data_converter=DATA_CONVERTER)
    await replayer.replay_workflow(await handle.fetch_history())


async def test_a_different_reason_starts_the_count_again(harness: Harness) -> None:
    handle = await at_the_check_with_the_record_refused(harness)
    seen: list[Task] = []
    await decide(handle, await next_issue(handle, seen))
    assert (await next_issue(handle, seen)).attempt == 2

    # The clerk's fix changed something: the department now refuses for another reason.
    harness.fakes.refusals["contribution_status"] = (SOCIAL, "record locked during a merge")
    await decide(handle, seen[-1])
    changed = await next_issue(handle, seen)
    assert (changed.attempt, changed.escalated) == (1, False)
    assert changed.detail == "record locked during a merge"
    assert not changed.title.startswith("attempt")
    await decide(handle, changed)
    again = await next_issue(handle, seen)
    assert (again.attempt, again.escalated) == (2, False)
    assert (await snapshot(handle)).escalations == []


async def test_rejecting_an_issue_the_case_depends_on_closes_the_case(harness: Harness) -> None:
    handle = await at_the_check_with_the_record_refused(harness)
    issue = await next_issue(handle, [])
    assert "closes as rejected" in issue.if_rejected
    await decide(handle, issue, Outcome.REJECT, reason="no record under any ID number")

    # As the task said: the whole case, not just an item.
    outcome = await handle.result()
    assert outcome.stage is Stage.REJECTED
    assert outcome.closed_reason == "no usable contribution record"


async def test_clerk_tasks_say_what_a_rejection_does(harness: Harness) -> None:
    man = (await retiree_from_now(harness)).person
    handle = await harness.start(man, NORMAL)
    review = await open_task(handle, TaskKind.PRE_REVIEW)
    assert review.if_rejected == issues.CLERK_TASKS[TaskKind.PRE_REVIEW].text
    assert review.if_rejected.startswith("the whole case closes as rejected")
    await decide(handle, review)
    confirm = await open_task(handle, TaskKind.CONFIRM_CONTRIBUTIONS)
    assert confirm.if_rejected == issues.CLERK_TASKS[TaskKind.CONFIRM_CONTRIBUTIONS].text
    # In joint handling a rejection is the item's alone.
    pension = issues.CLERK_TASKS[TaskKind.CONFIRM_PENSION].text
    assert pension.startswith(
        "item 5 (pension-payment) is recorded as refused; the other departments go on"
    )
    fund = issues.FUND_WITHDRAWAL.text
    assert fund.startswith("item 7 (provident-fund-withdrawal) is recorded as failed")


def _documented_rows() -> set[tuple[str, str, str]]:
    """``| stage | step | what a rejection does |`` rows of docs/department-issues.md."""
    rows = set()
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and not re.fullmatch(r"-+", cells[0]):
            rows.add((cells[0], cells[1], cells[2]))
    return rows


def test_the_documented_table_is_what_the_workflow_shows() -> None:
    documented = _documented_rows()
    for rule in (*issues.DEPARTMENT_STEPS, *issues.CLERK_TASKS.values()):
        assert (rule.stage, rule.step, rule.text) in documented, rule
    assert f"{issues.ESCALATE_AFTER} times in a row" in DOCS.read_text(encoding="utf-8")


def test_every_item_a_rejection_names_is_the_right_one() -> None:
    # The numbers clerks read are the notice's (the progress page's) order of the nine items.
    assert issues.item_number(ItemKey.PENSION_ELIGIBILITY) == 1
    assert issues.item_number(ItemKey.PENSION_PAYMENT) == 5
    assert issues.item_number(ItemKey.HOUSEHOLD) == 9
