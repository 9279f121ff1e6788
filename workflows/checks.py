"""What the update validators check: read only, raising ``ApplicationError`` to refuse before
anything is written to history. Functions of the case's state (``workflows.state``), called by
the handlers in ``workflows.updates``."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.declarations import Declaration
    from contracts.people import Actor, Department, Role, region_covers
    from contracts.plans import plan_problems
    from contracts.workflow import (
        Decision,
        Outcome,
        RefusalType,
        TaskKind,
        TaskStatus,
    )
    from domain.policy import Category
    from workflows.issues import ESCALATE_AFTER


from workflows.state import State

# Tasks a clerk may return for correction, and tasks a party (not a clerk) completes.
RETURNABLE = {kind for kind in TaskKind if kind.returnable}
PARTY_TASKS = {
    TaskKind.DECLARE,
    TaskKind.CORRECT,
    TaskKind.SETTLE_CONTRIBUTIONS,
    TaskKind.INITIATE,
}


def refuse(kind: RefusalType, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind.value, non_retryable=True)


def check_fresh(state: State, request_id: str) -> None:
    if request_id in state.processed:
        raise refuse(RefusalType.DUPLICATE, f"request {request_id} was applied already")


def check_open(state: State) -> None:
    if state.stage.terminal:
        raise refuse(RefusalType.CLOSED, f"the case is {state.stage}")


def check_region(state: State, actor: Actor) -> None:
    if actor.region is None or not region_covers(actor.region, state.person.region_code):
        raise refuse(
            RefusalType.WRONG_REGION,
            f"the case is handled in region {state.person.region_code}",
        )


def is_the_person(state: State, actor: Actor) -> bool:
    return actor.role is Role.INDIVIDUAL and actor.id == state.input.person_key


def at_hr_counter(state: State, actor: Actor) -> bool:
    return (
        actor.role is Role.CLERK
        and actor.at_counter
        and actor.department is Department.HR
        and actor.region is not None
        and region_covers(actor.region, state.person.region_code)
    )


def check_party(state: State, actor: Actor, *, organisation_only: bool) -> None:
    """The employer or agency (or, where allowed, the person); a clerk at the offline counter
    may act for either."""
    if actor.role in (Role.EMPLOYER, Role.AGENCY):
        if actor.organisation != state.person.organisation:
            raise refuse(
                RefusalType.WRONG_ORGANISATION, "this case belongs to another organisation"
            )
        return
    if at_hr_counter(state, actor):
        return
    if not organisation_only and is_the_person(state, actor):
        return
    if actor.role is Role.CLERK and actor.at_counter:
        # Say why, so the counter clerk is not left guessing: the counter is HR's.
        raise refuse(
            RefusalType.FORBIDDEN, "only an HR clerk of the case's region acts at the counter"
        )
    raise refuse(RefusalType.FORBIDDEN, f"a {actor.role} may not do this on this case")


def check_plan(
    state: State, declaration: Declaration | None, category: Category | None = None
) -> None:
    category = category or state.category
    problems = plan_problems(state.birth_month, category, declaration, state.policy)
    if problems:
        raise refuse(RefusalType.RULES, "; ".join(problems))


def check_decision(state: State, decision: Decision) -> None:
    check_fresh(state, decision.request_id)
    check_open(state)
    task = state.tasks.get(decision.task_id)
    if task is None:
        raise refuse(RefusalType.STALE, f"no task {decision.task_id} on this case")
    if task.status is not TaskStatus.OPEN:
        raise refuse(RefusalType.STALE, f"task {task.id} is {task.status} already")
    if task.kind in PARTY_TASKS:
        raise refuse(RefusalType.INVALID, f"task {task.id} is not decided by a clerk")
    actor = decision.actor
    if actor.role not in (Role.CLERK, Role.SUPERVISOR):
        raise refuse(RefusalType.FORBIDDEN, "decisions are made by clerks")
    if actor.department is not task.department:
        raise refuse(RefusalType.WRONG_DEPARTMENT, f"task {task.id} belongs to {task.department}")
    check_region(state, actor)
    if (
        task.kind is TaskKind.DEPARTMENT_ISSUE
        and task.escalated
        and task.attempt >= ESCALATE_AFTER
        and actor.role is not Role.SUPERVISOR
    ):
        # The same refusal came back after every approval: another approval by a clerk would
        # only mint the same task, so the supervisors, who can reach the department, decide.
        raise refuse(
            RefusalType.FORBIDDEN,
            f"{task.department} refused this step the same way {task.attempt} times in a "
            "row: its supervisors decide the escalated task",
        )
    if decision.outcome is Outcome.RETURN and task.kind not in RETURNABLE:
        raise refuse(RefusalType.INVALID, f"a {task.kind} task cannot be returned")
    if decision.deemed_years is not None:
        if task.kind not in (TaskKind.PRE_REVIEW, TaskKind.CONFIRM_MEDICAL_YEARS):
            raise refuse(
                RefusalType.INVALID,
                "deemed years are confirmed at pre-review (pension) or on the medical task",
            )
        if task.kind is TaskKind.PRE_REVIEW and decision.outcome is not Outcome.APPROVE:
            # A return or rejection recognises nothing; a figure sent with it would be lost.
            raise refuse(
                RefusalType.INVALID, "deemed years are confirmed by approving the pre-review"
            )
