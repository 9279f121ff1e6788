"""How people act on a case: the Updates (each validated before anything is written to
history), the decision Signal for tooling that can only signal, and the queries.

Temporal registers a workflow's handlers only as decorated methods of the workflow class or of
its base classes, so they are a base class of :class:`workflows.case.RetirementCase`
(``CaseHandlers``), the one mixin the workflow has: it reads and changes nothing but
``self.state`` (``workflows.state``); what a validator checks is ``workflows.checks``.

The update handlers wait for the state their validator checked instead of indexing it. Live, a
validator and its handler see the same state. Replaying, the SDK may deliver an update in the
same activation as the event that created that state (a step's result opening the task) and
runs the update first (docs/reliability.md); the handler then waits for the event's effect. On
the fast path they do not yield, so every recorded history replays as before.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.declarations import Declaration
    from contracts.people import Department, Role
    from contracts.read_model import Answer
    from contracts.workflow import (
        Cancel,
        CaseSnapshot,
        CaseStatus,
        CorrectRetirement,
        Decision,
        Declare,
        Initiate,
        ItemKey,
        ItemStatus,
        Outcome,
        RefusalType,
        Resubmit,
        Settle,
        Stage,
        TaskKind,
        TaskStatus,
        Withdraw,
    )
    from domain.plan import RetirementPath
    from domain.statutory import category_gender
    from domain.timeline import Milestone


from workflows.checks import (
    at_hr_counter,
    check_decision,
    check_fresh,
    check_open,
    check_party,
    check_plan,
    check_region,
    is_the_person,
    refuse,
)
from workflows.state import State

_BEFORE_PRE_REVIEW = (Stage.AWAITING_DECLARATION, Stage.DECLARATION)
_FLEXIBLE_PATHS = (
    RetirementPath.NORMAL,
    RetirementPath.FLEXIBLE_EARLY,
    RetirementPath.FLEXIBLE_DELAY,
)
_CHOICE = {"path", "requested_month", "flexible"}


def _only_a_flexible_choice(current: Declaration | None, new: Declaration | None) -> bool:
    """``new`` differs from ``current`` only in the flexible-retirement choice."""
    if current is None or new is None:
        return False
    return (
        current.path in _FLEXIBLE_PATHS
        and new.path in _FLEXIBLE_PATHS
        and current.model_dump(exclude=_CHOICE) == new.model_dump(exclude=_CHOICE)
    )


async def _until_state(ready: Callable[[], bool]) -> None:
    """Wait until ``ready`` holds (see the module's docstring); never yields when it holds
    already, so the commands of a history recorded without it are unchanged."""
    if not ready():
        await workflow.wait_condition(ready)


class CaseHandlers:
    state: State  # set by the workflow's constructor, never replaced

    @workflow.query
    def progress(self) -> CaseSnapshot:
        return self.state.snapshot()

    @workflow.query
    def status(self) -> CaseStatus:
        """The short form an update answers with."""
        return self.state.status()

    @workflow.update
    async def decide(self, decision: Decision) -> Answer:
        state = self.state
        await _until_state(lambda: decision.task_id in state.tasks)
        state.apply_decision(decision, via="update")
        return state.answer()

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        check_decision(self.state, decision)

    @workflow.signal
    def decide_signal(self, decision: Decision) -> None:
        """The same decision for tooling that can only signal; at-least-once, so de-duplicated,
        and a refused one is recorded rather than applied."""
        state = self.state
        if decision.request_id in state.processed:
            return
        try:
            check_decision(state, decision)
        except ApplicationError as refused:
            state.event(f"signalled decision refused: {refused.message}", decision.actor)
            state.audit_entry(
                decision.actor, "decide", f"{decision.task_id}: {decision.outcome}", "refused"
            )
            state.bump()
            return
        state.apply_decision(decision, via="signal")

    @workflow.update
    def declare(self, request: Declare) -> Answer:
        state = self.state
        state.accept_declaration(request.declaration, request.actor, request.request_id)
        return state.answer()

    @declare.validator
    def _validate_declare(self, request: Declare) -> None:
        state = self.state
        check_fresh(state, request.request_id)
        # Who may act is checked before the state: a stranger learns nothing of the case.
        check_party(state, request.actor, organisation_only=True)
        if state.stage is not Stage.AWAITING_DECLARATION:
            raise refuse(
                RefusalType.WRONG_STAGE, f"the case has been declared (stage: {state.stage})"
            )
        check_plan(state, request.declaration)

    @workflow.update
    async def resubmit(self, request: Resubmit) -> Answer:
        state = self.state
        await _until_state(lambda: bool(state.open_tasks(TaskKind.CORRECT)))
        task = state.open_tasks(TaskKind.CORRECT)[0]
        state.change_plan(declaration=request.declaration)
        state.close_task(task, TaskStatus.DONE, Outcome.APPROVE, request.actor, "resubmitted")
        state.record(request.request_id, request.actor, "resubmit", state.plan_summary())
        return state.answer()

    @resubmit.validator
    def _validate_resubmit(self, request: Resubmit) -> None:
        state = self.state
        check_fresh(state, request.request_id)
        if not state.open_tasks(TaskKind.CORRECT):
            raise refuse(RefusalType.WRONG_STAGE, "nothing was returned for correction")
        check_party(state, request.actor, organisation_only=True)
        check_plan(state, request.declaration)

    @workflow.update
    async def settle(self, request: Settle) -> Answer:
        state = self.state
        await _until_state(lambda: request.task_id in state.tasks)
        task = state.tasks[request.task_id]
        state.close_task(task, TaskStatus.DONE, Outcome.APPROVE, request.actor, request.note)
        state.record(request.request_id, request.actor, "settle", f"{task.id}: {request.note}")
        return state.answer()

    @settle.validator
    def _validate_settle(self, request: Settle) -> None:
        state = self.state
        check_fresh(state, request.request_id)
        task = state.tasks.get(request.task_id)
        if task is None or task.status is not TaskStatus.OPEN:
            raise refuse(RefusalType.STALE, f"task {request.task_id} is not open")
        if task.kind is not TaskKind.SETTLE_CONTRIBUTIONS:
            raise refuse(RefusalType.INVALID, f"task {task.id} is not a contribution problem")
        check_party(state, request.actor, organisation_only=False)

    @workflow.update
    async def initiate(self, request: Initiate) -> Answer:
        state = self.state
        await _until_state(lambda: state.stage is Stage.AWAITING_INITIATION)
        for task in state.open_tasks(TaskKind.INITIATE):
            state.close_task(task, TaskStatus.DONE, Outcome.APPROVE, request.actor, "initiated")
        state.overdue.discard(Milestone.INITIATION)
        state.record(request.request_id, request.actor, "initiate", "joint application")
        state.set_stage(Stage.JOINT_HANDLING)
        return state.answer()

    @initiate.validator
    def _validate_initiate(self, request: Initiate) -> None:
        state = self.state
        check_fresh(state, request.request_id)
        actor = request.actor
        if state.person.has_employer:
            check_party(state, actor, organisation_only=True)
        elif not is_the_person(state, actor) and not at_hr_counter(state, actor):
            raise refuse(
                RefusalType.FORBIDDEN,
                "a person without an employer initiates the joint application themself",
            )
        if state.stage in (Stage.JOINT_HANDLING, *(s for s in Stage if s.terminal)):
            raise refuse(
                RefusalType.WRONG_STAGE, f"the case has been initiated (stage: {state.stage})"
            )
        if state.stage is not Stage.AWAITING_INITIATION:
            raise refuse(
                RefusalType.NOT_YET,
                f"the case is in {state.stage}: initiation follows the contribution check",
            )
        opens = state.timeline.initiation_opens
        if state.today() < opens:
            raise refuse(RefusalType.NOT_YET, f"the initiation window opens on {opens}")

    @workflow.update
    def withdraw(self, request: Withdraw) -> Answer:
        state = self.state
        state.record(request.request_id, request.actor, "withdraw", request.reason)
        state.close(Stage.WITHDRAWN, f"withdrawn: {request.reason}")
        return state.answer()

    @withdraw.validator
    def _validate_withdraw(self, request: Withdraw) -> None:
        state = self.state
        check_fresh(state, request.request_id)
        check_party(state, request.actor, organisation_only=False)
        check_open(state)
        if state.stage is Stage.JOINT_HANDLING:
            raise refuse(
                RefusalType.WRONG_STAGE,
                "joint handling has begun: ask the HR bureau to cancel the case",
            )

    @workflow.update
    def cancel(self, request: Cancel) -> Answer:
        state = self.state
        state.record(request.request_id, request.actor, "cancel", request.reason)
        state.close(Stage.CANCELLED, f"cancelled: {request.reason}")
        return state.answer()

    @cancel.validator
    def _validate_cancel(self, request: Cancel) -> None:
        state = self.state
        check_fresh(state, request.request_id)
        check_open(state)
        actor = request.actor
        if actor.role not in (Role.CLERK, Role.SUPERVISOR, Role.ADMIN):
            raise refuse(RefusalType.FORBIDDEN, "only HR clerks and supervisors cancel a case")
        if actor.role is not Role.ADMIN and actor.department is not Department.HR:
            raise refuse(RefusalType.WRONG_DEPARTMENT, "only the HR bureau cancels a case")
        check_region(state, actor)
        if (state.pension and state.pension.award_id) or (state.fund and state.fund.payout_id):
            # Money has moved: stopping a pension or reclaiming a payout is the department's own
            # procedure, not a cancellation of the joint application.
            raise refuse(
                RefusalType.WRONG_STAGE,
                "the pension has been awarded or the fund paid out: stop it through the "
                "department's own procedure",
            )

    @workflow.update
    def correct_retirement(self, request: CorrectRetirement) -> Answer:
        state = self.state
        before = state.plan.retirement_month
        declared = state.declaration.deemed_years if state.declaration else None
        state.change_plan(category=request.category, declaration=request.declaration)
        if (
            state.deemed_years is not None
            and request.declaration is not None
            and request.declaration.deemed_years != declared
        ):
            # After pre-review only HR may change the declared deemed years (the validator):
            # HR's correction is its new recognition, so the one figure follows it.
            state.deemed_years = request.declaration.deemed_years
            state.set_item(
                ItemKey.PENSION_DEEMED_YEARS,
                ItemStatus.DONE,
                f"{state.deemed_years} deemed years, as corrected by HR: {request.reason}",
            )
        state.record(
            request.request_id,
            request.actor,
            "correct-retirement",
            f"{before} → {state.plan.retirement_month}: {request.reason}",
        )
        return state.answer()

    @correct_retirement.validator
    def _validate_correct_retirement(self, request: CorrectRetirement) -> None:
        state = self.state
        check_fresh(state, request.request_id)
        check_open(state)
        if state.stage is Stage.JOINT_HANDLING:
            raise refuse(RefusalType.WRONG_STAGE, "the retirement is approved already")
        actor = request.actor
        if request.category is not None or (
            request.declaration is not None
            and request.declaration.archive_birth_month
            != (state.declaration.archive_birth_month if state.declaration else None)
        ):
            # Data corrections (category, the archive's birth month) are HR's to make.
            if actor.role not in (Role.CLERK, Role.SUPERVISOR) or actor.department is not (
                Department.HR
            ):
                raise refuse(RefusalType.FORBIDDEN, "data corrections are made by HR clerks")
            check_region(state, actor)
        elif actor.role in (Role.CLERK, Role.SUPERVISOR):
            if actor.department is not Department.HR:
                raise refuse(RefusalType.WRONG_DEPARTMENT, "corrections are HR's")
            check_region(state, actor)
        else:
            check_party(state, actor, organisation_only=False)
            under_review = bool(
                state.open_tasks(TaskKind.PRE_REVIEW) or state.open_tasks(TaskKind.CORRECT)
            )
            approved = not (state.stage in _BEFORE_PRE_REVIEW or under_review)
            if approved and not _only_a_flexible_choice(state.declaration, request.declaration):
                # What HR approved at pre-review is not the employer's to change afterwards;
                # only the flexible-retirement choice, which the law leaves to worker and
                # employer, may still move the date. Anything else goes through HR.
                raise refuse(
                    RefusalType.WRONG_STAGE,
                    "pre-review has approved the declaration: only a flexible-retirement "
                    "choice may change now; ask the HR bureau to correct anything else",
                )
        category = request.category or state.category
        if category_gender(category, state.policy) is not state.person.gender:
            raise refuse(
                RefusalType.INVALID, f"category {category} does not fit the person's gender"
            )
        declaration = request.declaration or state.declaration
        check_plan(state, declaration, category)
