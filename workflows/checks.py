"""What the update validators check: read only, raising ``ApplicationError`` to refuse before
anything is written to history. Mixed into :class:`workflows.case.RetirementCase`."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.case import (
        Actor,
        Declaration,
        Department,
        Role,
        region_covers,
    )
    from contracts.workflow import (
        Decision,
        Outcome,
        RefusalType,
        TaskKind,
        TaskStatus,
    )
    from domain.policy import Category
    from workflows.issues import ESCALATE_AFTER


from workflows.ledger import PARTY_TASKS, RETURNABLE, CaseLedger, plan_problems, refuse


class CaseChecks(CaseLedger):
    def _check_fresh(self, request_id: str) -> None:
        if request_id in self._processed:
            raise refuse(RefusalType.DUPLICATE, f"request {request_id} was applied already")

    def _check_open(self) -> None:
        if self._stage.terminal:
            raise refuse(RefusalType.CLOSED, f"the case is {self._stage}")

    def _check_region(self, actor: Actor) -> None:
        if actor.region is None or not region_covers(actor.region, self._person.region_code):
            raise refuse(
                RefusalType.WRONG_REGION,
                f"the case is handled in region {self._person.region_code}",
            )

    def _is_the_person(self, actor: Actor) -> bool:
        return actor.role is Role.INDIVIDUAL and actor.id == self._input.person_key

    def _at_hr_counter(self, actor: Actor) -> bool:
        return (
            actor.role is Role.CLERK
            and actor.at_counter
            and actor.department is Department.HR
            and actor.region is not None
            and region_covers(actor.region, self._person.region_code)
        )

    def _check_party(self, actor: Actor, *, organisation_only: bool) -> None:
        """The employer or agency (or, where allowed, the person); a clerk at the offline counter
        may act for either."""
        if actor.role in (Role.EMPLOYER, Role.AGENCY):
            if actor.organisation != self._person.organisation:
                raise refuse(
                    RefusalType.WRONG_ORGANISATION, "this case belongs to another organisation"
                )
            return
        if self._at_hr_counter(actor):
            return
        if not organisation_only and self._is_the_person(actor):
            return
        if actor.role is Role.CLERK and actor.at_counter:
            # Say why, so the counter clerk is not left guessing: the counter is HR's.
            raise refuse(
                RefusalType.FORBIDDEN, "only an HR clerk of the case's region acts at the counter"
            )
        raise refuse(RefusalType.FORBIDDEN, f"a {actor.role} may not do this on this case")

    def _check_plan(
        self, declaration: Declaration | None, category: Category | None = None
    ) -> None:
        category = category or self._category
        problems = plan_problems(self._birth_month, category, declaration, self._policy)
        if problems:
            raise refuse(RefusalType.RULES, "; ".join(problems))

    def _check_decision(self, decision: Decision) -> None:
        self._check_fresh(decision.request_id)
        self._check_open()
        task = self._tasks.get(decision.task_id)
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
            raise refuse(
                RefusalType.WRONG_DEPARTMENT, f"task {task.id} belongs to {task.department}"
            )
        self._check_region(actor)
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
