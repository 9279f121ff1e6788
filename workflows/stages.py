"""The stages before joint handling, in the order of the provincial notice: awaiting the
declaration, the declaration (public security's check), HR's pre-review, the contribution check
(due T-2) and awaiting initiation (from T-1). Each runs until the case leaves it; the workflow's
run loop (``workflows.case``) calls the one the case is in."""

from __future__ import annotations

from functools import partial

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.social_insurance import SocialInsuranceActivities
    from contracts.departments import HouseholdStep, PrereviewPush, SettleCommand
    from contracts.people import Department
    from contracts.workflow import (
        Assignee,
        ItemKey,
        ItemStatus,
        Outcome,
        Stage,
        Task,
        TaskKind,
        TaskStatus,
    )
    from domain.timeline import Milestone
    from workflows import issues


from workflows.state import State
from workflows.steps import Steps

# Patch id (docs/versioning.md): cases pre-reviewed before it record no recognised deemed years;
# their contribution check and pension count social insurance's record of them.
RECOGNISED_DEEMED_YEARS = "recognised-deemed-years-2026-12"


class Stages:
    def __init__(self, state: State, steps: Steps) -> None:
        self.state = state
        self.steps = steps

    async def awaiting_declaration(self) -> None:
        state = self.state
        if not state.open_tasks(TaskKind.DECLARE):
            state.open_task(
                TaskKind.DECLARE,
                "declare the retiree for pre-review (申报)",
                Assignee.ORGANISATION,
                organisation=state.person.organisation,
                due=state.timeline.declaration_due,
            )
        await self.steps.until(lambda: state.stage is not Stage.AWAITING_DECLARATION)

    async def declaration(self) -> None:
        if await self.steps.household(HouseholdStep.DECLARATION):
            self.state.set_stage(Stage.PRE_REVIEW)

    async def pre_review(self) -> None:
        state, steps = self.state, self.steps
        while state.stage is Stage.PRE_REVIEW:
            if state.open_tasks(TaskKind.CORRECT):
                await steps.until(lambda: not state.open_tasks(TaskKind.CORRECT))
                continue
            decision = await steps.ask_clerk(
                TaskKind.PRE_REVIEW,
                "pre-review eligibility and the declared years (预审)",
                Department.HR,
                detail=state.plan_summary(),
                items=state.hr_items,
                waiting="HR pre-review",
                closes="pre-review rejected",
            )
            if decision is None:
                return
            if decision.outcome is Outcome.RETURN:
                state.open_task(
                    TaskKind.CORRECT,
                    "correct the declaration and resubmit",
                    Assignee.ORGANISATION,
                    organisation=state.person.organisation,
                    detail=decision.reason or "",
                )
                continue
            assert state.declaration is not None  # pre-review follows a declaration
            if workflow.patched(RECOGNISED_DEEMED_YEARS):
                # Item 2 is HR's recognition of the deemed years: the figure approved here (the
                # clerk's correction, or the declared one confirmed) is the one the check and
                # the pension use. Patched: a case pre-reviewed before kept social insurance's
                # record for both, and replaying it must compute the pension it confirmed.
                state.deemed_years = (
                    state.declaration.deemed_years
                    if decision.deemed_years is None
                    else decision.deemed_years
                )
            if not await steps.household(HouseholdStep.PRE_REVIEW):
                return
            receipt = await steps.run(
                Department.SOCIAL_INSURANCE,
                "receive pre-review data",
                SocialInsuranceActivities.receive_prereview,
                PrereviewPush(
                    idempotency_key=f"{state.case_id}:prereview:{decision.task_id}",
                    case_id=state.case_id,
                    person=state.person,
                    declaration=state.recognised_declaration(),
                    retirement_month=state.plan.retirement_month,
                ),
                if_rejected=issues.PREREVIEW_PUSH,
            )
            if receipt is None:
                return state.close_if_open(Stage.REJECTED, "pre-review data could not be pushed")
            state.set_item(
                ItemKey.PENSION_DEEMED_YEARS, ItemStatus.DONE, state.deemed_years_recognised()
            )
            for key in (ItemKey.SPECIAL_JOB_EARLY, ItemKey.ILLNESS_EARLY):
                if state.items[key].status is not ItemStatus.NOT_APPLICABLE:
                    state.set_item(key, ItemStatus.DONE, "approved at pre-review")
            state.set_item(ItemKey.PENSION_ELIGIBILITY, ItemStatus.IN_PROGRESS, "pre-review passed")
            state.set_stage(Stage.CONTRIBUTION_CHECK)

    async def contribution_check(self) -> None:
        state, steps = self.state, self.steps
        while state.stage is Stage.CONTRIBUTION_CHECK:
            status = await steps.contribution_status(issues.CONTRIBUTION_RECORD)
            if status is None:
                return state.close_if_open(Stage.REJECTED, "no usable contribution record")
            state.contribution = status
            if status.problems:
                for problem in status.problems:
                    if not state.open_settle_tasks(problem.id):
                        state.open_settle_task(problem.id)
                pending = [t.id for t in state.open_settle_tasks()]
                await steps.until(partial(state.all_closed, pending))
                if state.stage.terminal:
                    return
                for task_id in pending:
                    if not await self._settle(state.tasks[task_id]):
                        return
                continue
            decision = await steps.ask_clerk(
                TaskKind.CONFIRM_CONTRIBUTIONS,
                "confirm the contribution check (缴费核查)",
                Department.SOCIAL_INSURANCE,
                detail=state.contribution_summary(status),
                items=(ItemKey.PENSION_ELIGIBILITY,),
                closes="contribution check rejected",
            )
            if decision is None:
                return
            if decision.outcome is Outcome.APPROVE:
                state.overdue.discard(Milestone.CONTRIBUTION_CHECK)
                state.set_stage(Stage.AWAITING_INITIATION)
            # returned: the record is being corrected, read it again

    async def _settle(self, task: Task) -> bool:
        """Social insurance settles a problem the employer (or the person) reported settled."""
        state = self.state
        assert task.problem is not None
        if task.status is not TaskStatus.DONE or task.closed_by is None:
            return True  # cancelled with the case
        receipt = await self.steps.run(
            Department.SOCIAL_INSURANCE,
            f"settle {task.problem.kind}",
            SocialInsuranceActivities.settle,
            SettleCommand(
                idempotency_key=f"{state.case_id}:settle:{task.id}",
                case_id=state.case_id,
                id_number=state.person.id_number,
                problem=task.problem,
                note=task.reason or "",
                actor=task.closed_by,
            ),
            if_rejected=issues.SETTLEMENT,
        )
        if receipt is None:
            state.close_if_open(Stage.REJECTED, f"{task.problem.kind} could not be settled")
            return False
        return True

    async def awaiting_initiation(self) -> None:
        state = self.state
        if not state.open_tasks(TaskKind.INITIATE):
            assignee = Assignee.ORGANISATION if state.person.has_employer else Assignee.INDIVIDUAL
            state.open_task(
                TaskKind.INITIATE,
                f"initiate the joint application (发起) from {state.timeline.initiation_opens}",
                assignee,
                organisation=state.person.employer_id,
                due=state.timeline.initiation_due,
            )
        await self.steps.until(lambda: state.stage is not Stage.AWAITING_INITIATION)
