"""Starting a case: the one place that turns a person into a workflow id and a start request."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts import search
from contracts.case import Actor, Declaration, Person
from contracts.identity import case_id, person_key
from contracts.workflow import CaseInput, CaseOutcome, Stage
from domain.policy import Policy
from workflows.case import RetirementCase, plan_for


@dataclass(frozen=True)
class StartedCase:
    handle: WorkflowHandle[RetirementCase, CaseOutcome]
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
) -> StartedCase:
    """Start the person's case, or find the open one: one open case per person.

    The workflow id is a keyed hash of the ID number, so it carries no personal data. A closed
    case may be followed by a new one (reuse allowed); an open one is never twinned.
    """
    cid = case_id(person.id_number, secret)
    pkey = person_key(person.id_number, secret)
    plan = plan_for(person.birth_month, person.category, declaration, policy)
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
        if search_attributes
        else None
    )
    try:
        handle = await client.start_workflow(
            RetirementCase.run,
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
            id=cid,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
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
        created = True
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle_for(RetirementCase.run, cid)
        created = False
    return StartedCase(handle=handle, case_id=cid, person_key=pkey, created=created)
