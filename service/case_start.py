"""Starting a case: the one place that turns a person into a workflow id and a start request."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts import search
from contracts.declarations import Declaration
from contracts.identity import case_id, person_key
from contracts.people import Actor, Person
from contracts.plans import plan_for
from contracts.workflow import CaseInput, CaseOutcome, Stage
from domain.policy import Policy
from workflows.case import RetirementCase

CaseHandle = WorkflowHandle[RetirementCase, CaseOutcome]


@dataclass(frozen=True)
class StartedCase:
    handle: CaseHandle
    case_id: str
    person_key: str
    created: bool  # False: the person already had an open case, which is returned instead


async def start_case(
    client: Client,
    *,
    person: Person,
    policy: Policy,
    secret: bytes,
    task_queue: str,
    declaration: Declaration | None = None,
    declared_by: Actor | None = None,
    request_id: str | None = None,
    search_attributes: bool = True,
    first_generation: int = 1,
) -> StartedCase:
    """Start the person's case, or find the open one: one open case per person.

    The workflow id is a keyed hash of the ID number, so it carries no personal data. Each of a
    person's cases has an id of its own (``case_id(..., generation)``) and a workflow id is never
    reused, so the department records, audit entries and read model of a closed case can never
    be taken for a later case's. The walk starts at ``first_generation`` — callers that know of
    earlier, closed cases (the read model does, even after Temporal's retention dropped them)
    start past them — and stops at the first id that is free (a new case) or open (the case).
    """
    pkey = person_key(person.id_number, secret)
    generation = first_generation
    while True:
        cid = case_id(person.id_number, secret, generation)
        try:
            handle = await _start(
                client,
                CaseInput(
                    case_id=cid,
                    person_key=pkey,
                    person=person,
                    declaration=declaration,
                    declared_by=declared_by,
                    request_id=request_id,
                    search_attributes=search_attributes,
                    policy=policy,
                ),
                task_queue,
            )
            return StartedCase(handle=handle, case_id=cid, person_key=pkey, created=True)
        except WorkflowAlreadyStartedError:
            existing = client.get_workflow_handle_for(RetirementCase.run, cid)
            if (await existing.describe()).status is WorkflowExecutionStatus.RUNNING:
                return StartedCase(handle=existing, case_id=cid, person_key=pkey, created=False)
            generation += 1  # that case has closed: a new one takes the next id


async def _start(client: Client, input: CaseInput, task_queue: str) -> CaseHandle:
    person, declaration = input.person, input.declaration
    plan = plan_for(person.birth_month, person.category, declaration, input.policy)
    month = plan.retirement_month
    stage = Stage.DECLARATION if declaration else Stage.AWAITING_DECLARATION
    attributes = (
        TypedSearchAttributes(
            [
                SearchAttributePair(search.STAGE, stage.value),
                SearchAttributePair(search.REGION, person.region_code),
                SearchAttributePair(search.RETIREMENT_MONTH, str(month)),
                SearchAttributePair(search.OVERDUE, False),
            ]
        )
        if input.search_attributes
        else None
    )
    return await client.start_workflow(
        RetirementCase.run,
        input,
        id=input.case_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=attributes,
        static_summary=f"Retirement case · region {person.region_code} · retires {month}",
        static_details=(
            f"Retirement as one thing (退休一件事), region {person.region_code}.\n\n"
            f"- path: {declaration.path if declaration else 'awaiting declaration'}\n"
            f"- retirement month (T): {month}\n"
            f"- statutory month: {plan.statutory.retirement_month}\n"
            f"- category: {person.category}\n"
            f"- {'employer' if person.has_employer else 'archive agency'}: "
            f"{person.organisation}"
        ),
    )
