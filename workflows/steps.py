"""What a case asks of others: the department step runner, the clerk-task helper, the household
check and the contribution record every stage may need, notifications and escalations.

- :meth:`Steps.run` runs one department step (an activity). A business refusal becomes a
  ``department-issue`` task for that department's clerk instead of a retry loop
  (docs/department-issues.md).
- :meth:`Steps.ask_clerk` is the pattern of every clerk's step: show the item as waiting, open
  the task, wait for the decision, and on a rejection refuse the item (and, before the
  departments work side by side, close the case).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.errors import DEPARTMENT_REFUSAL
    from activities.notifications import NotificationActivities
    from activities.public_security import PublicSecurityActivities
    from activities.social_insurance import SocialInsuranceActivities
    from contracts.departments import (
        DepartmentRefusalInfo,
        HouseholdCheck,
        HouseholdStep,
        Notification,
    )
    from contracts.people import Department
    from contracts.workflow import (
        Assignee,
        ContributionStatus,
        DecisionRecord,
        ItemKey,
        ItemStatus,
        Outcome,
        Stage,
        Task,
        TaskKind,
        TaskStatus,
    )
    from workflows import issues
    from workflows.issues import ESCALATE_AFTER, ISSUE_ESCALATION, IfRejected, issue_title


from workflows.checks import RETURNABLE
from workflows.state import State, clip

A = TypeVar("A")
R = TypeVar("R")

STEP_TIMEOUT = timedelta(seconds=30)
# Department systems can be down for hours: retry with backoff for as long as it takes, but a
# business refusal is final and goes to a clerk instead.
DEPARTMENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=[DEPARTMENT_REFUSAL],
)

# Patch id (docs/versioning.md): cases started before it ask public security again at every
# check that finds a mismatch, even one its clerk has confirmed.
HOUSEHOLD_CONFIRMED_ONCE = "household-confirmed-once-2026-12"

Items = Sequence[ItemKey] | Callable[[], Sequence[ItemKey]]


class Steps:
    def __init__(self, state: State) -> None:
        self.state = state

    # ---- waiting ----------------------------------------------------------------------------

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition`` holds or the case closes."""
        await workflow.wait_condition(lambda: condition() or self.state.stage.terminal)

    async def decision_on(self, task: Task) -> DecisionRecord | None:
        """Wait for the clerk's decision on ``task``; ``None`` when the case closed first."""
        state = self.state
        await self.until(lambda: state.tasks[task.id].status is not TaskStatus.OPEN)
        if state.stage.terminal:
            return None
        return next(d for d in reversed(state.decisions) if d.task_id == task.id)

    async def ask_clerk(
        self,
        kind: TaskKind,
        title: str,
        department: Department,
        *,
        detail: str,
        items: Items = (),
        waiting: str | None = None,
        closes: str | None = None,
    ) -> DecisionRecord | None:
        """Open a task for ``department``'s clerks and wait for their decision.

        ``waiting`` (when given) is shown on ``items`` while the task is open. A rejection
        refuses ``items`` with the clerk's reason and, when ``closes`` says why, closes the case
        as rejected (``"<closes>: <reason>"``). Returns the decision when the clerk approved or
        returned the task (only a returnable kind can be returned); ``None`` when they rejected
        it or the case closed first. ``items`` may be a function, asked when the items change."""
        state = self.state
        if waiting is not None:
            for key in items() if callable(items) else items:
                state.set_item(key, ItemStatus.WAITING, waiting)
        task = state.open_task(kind, title, Assignee.CLERK, department=department, detail=detail)
        decision = await self.decision_on(task)
        if decision is None:
            return None
        if decision.outcome is Outcome.APPROVE or (
            decision.outcome is Outcome.RETURN and kind in RETURNABLE
        ):
            return decision
        for key in items() if callable(items) else items:
            state.set_item(key, ItemStatus.REFUSED, decision.reason or "")
        if closes is not None:
            state.close(Stage.REJECTED, f"{closes}: {decision.reason}")
        return None

    # ---- department steps -------------------------------------------------------------------

    async def run(
        self,
        department: Department,
        step: str,
        method: Callable[[Any, A], R],
        arg: A,
        *,
        if_rejected: IfRejected,
        money: bool = False,
    ) -> R | None:
        """Run a department step; a business refusal becomes a task for that department's clerk,
        who either has it fixed and approves (the step runs again) or rejects (``None``; what
        the caller then does is ``if_rejected``, shown on the task before the clerk decides).
        The same refusal again says which attempt it is; the third goes to the supervisors."""
        state = self.state
        attempt = 0
        last_reason: str | None = None
        while not state.stage.terminal:
            try:
                with state.busy():
                    result: R = await workflow.execute_activity_method(
                        method,
                        arg,
                        start_to_close_timeout=STEP_TIMEOUT,
                        retry_policy=DEPARTMENT_RETRY,
                        summary=f"{department}: {step}",
                    )
            except ActivityError as err:
                info = _refusal(err)
                if info is None:
                    raise
            else:
                # The case may have been withdrawn or cancelled while the step ran: the caller
                # must not act on its result then — unless money moved, which the case must
                # show whatever happened meanwhile.
                return result if money or not state.stage.terminal else None
            if state.stage.terminal:
                return None
            # Counted in this loop: the step's refusals in a row, for the same reason (a new
            # reason means the clerk's fix changed something, so the count starts again).
            attempt = attempt + 1 if info.reason == last_reason else 1
            last_reason = info.reason
            task = await self._department_issue(department, step, info.reason, attempt, if_rejected)
            decision = await self.decision_on(task)
            if decision is None or decision.outcome is not Outcome.APPROVE:
                return None
        return None

    async def _department_issue(
        self, department: Department, step: str, reason: str, attempt: int, if_rejected: IfRejected
    ) -> Task:
        """The task for a refused step; from the ESCALATE_AFTER-th identical refusal in a row it
        is escalated to the department's supervisors, who alone decide it (``check_decision``):
        a clerk approving again without a fix would only mint the same task again."""
        escalate = attempt >= ESCALATE_AFTER and workflow.patched(ISSUE_ESCALATION)
        task = self.state.open_task(
            TaskKind.DEPARTMENT_ISSUE,
            issue_title(department, step, attempt, escalated=escalate),
            Assignee.CLERK,
            department=department,
            step=step,
            detail=reason,
            if_rejected=if_rejected.text,
            attempt=attempt,
            escalated=escalate,
        )
        if escalate:
            await self.escalate(
                department,
                clip(f"{department} refused '{step}' {attempt} times in a row: {reason}", 500),
                key=f"department-issue:{task.id}",
                task_id=task.id,
                kind="department-issue",
                facts={"attempts": str(attempt)},
            )
        return task

    async def contribution_status(self, if_rejected: IfRejected) -> ContributionStatus | None:
        return await self.run(
            Department.SOCIAL_INSURANCE,
            "read the contribution record",
            SocialInsuranceActivities.contribution_status,
            self.state.person_query(),
            if_rejected=if_rejected,
        )

    async def household(self, step: HouseholdStep) -> bool:
        """Public security checks the household registration at this step; ``False`` when the
        case cannot go on (it is closed)."""
        state = self.state
        person = state.person
        item = ItemKey.HOUSEHOLD
        state.set_item(item, ItemStatus.IN_PROGRESS, f"checking at {step}")
        result = await self.run(
            Department.PUBLIC_SECURITY,
            f"household check at {step}",
            PublicSecurityActivities.verify_household,
            HouseholdCheck(
                case_id=state.case_id,
                step=step,
                id_number=person.id_number,
                name=person.name,
                region_code=person.region_code,
            ),
            if_rejected=issues.HOUSEHOLD_CHECK[step],
        )
        if result is None:
            if not state.stage.terminal:
                state.fail_item(item, f"check at {step} could not be made")
                state.close(Stage.REJECTED, "household registration could not be checked")
            return False
        if result.matches:
            # A match is a new answer: a mismatch at a later check is asked about again.
            state.household_confirmed = None
            state.set_item(item, ItemStatus.DONE, f"verified at {step}")
            return True
        answer = clip(result.detail)
        if state.household_confirmed == answer and workflow.patched(HOUSEHOLD_CONFIRMED_ONCE):
            # A public security clerk confirmed this very answer at an earlier check: asking at
            # every later check only put the same question to them again. A different answer
            # (or a match in between) is asked about as usual.
            state.set_item(
                item, ItemStatus.DONE, f"mismatch at {step} as confirmed before: {result.detail}"
            )
            return True
        decision = await self.ask_clerk(
            TaskKind.HOUSEHOLD_REVIEW,
            f"household registration mismatch at {step}",
            Department.PUBLIC_SECURITY,
            detail=result.detail,
            items=(item,),
            waiting=f"mismatch at {step}: {result.detail}",
            closes="household registration not confirmed",
        )
        if decision is None:
            return False
        state.household_confirmed = answer
        state.set_item(item, ItemStatus.DONE, f"confirmed by public security at {step}")
        return True

    # ---- telling people ---------------------------------------------------------------------

    async def notify(
        self,
        role: str,
        recipient: str,
        kind: str,
        subject: str,
        body: str = "",
        *,
        key: str,
        facts: dict[str, str] | None = None,
    ) -> None:
        """Record a message in the outbox: people read ``kind``'s template filled with
        ``facts`` (notifications/templates.toml); ``subject`` and ``body`` are the English
        summary in the Temporal UI."""
        case_id = self.state.case_id
        with self.state.busy():
            await workflow.execute_activity_method(
                NotificationActivities.send,
                Notification(
                    idempotency_key=f"{case_id}:{key}",
                    case_id=case_id,
                    recipient_role=role,
                    recipient=recipient,
                    kind=kind,
                    subject=subject,
                    body=body,
                    variables=facts or {},
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=DEPARTMENT_RETRY,
                summary=f"notify {role}: {kind}",
            )

    async def notify_person(
        self,
        kind: str,
        subject: str,
        body: str = "",
        *,
        key: str,
        facts: dict[str, str] | None = None,
    ) -> None:
        await self.notify(
            "individual", self.state.input.person_key, kind, subject, body, key=key, facts=facts
        )

    async def escalate(
        self,
        department: Department,
        reason: str,
        *,
        key: str,
        task_id: str | None = None,
        kind: str = "escalation",
        facts: dict[str, str] | None = None,
    ) -> None:
        """To the department's supervisors in the case's region: on the case, and notified."""
        self.state.add_escalation(department, reason, task_id)
        await self.notify(
            "supervisor",
            f"{department}@{self.state.person.region_code}",
            kind,
            reason,
            key=key,
            facts={"department": str(department), **(facts or {})},
        )


def _refusal(err: ActivityError) -> DepartmentRefusalInfo | None:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == DEPARTMENT_REFUSAL:
        details = cause.details
        if details and isinstance(details[0], DepartmentRefusalInfo):
            return details[0]
        return DepartmentRefusalInfo.model_validate(details[0]) if details else None
    return None
