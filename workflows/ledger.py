"""The case's record: its state, how it changes, and the views of it (snapshot, status, the
details shown in the Temporal UI).

Everything here is deterministic bookkeeping the workflow's stages call; the one activity is
``_notify``. Mixed into :class:`workflows.case.RetirementCase`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.errors import DEPARTMENT_REFUSAL
    from activities.notifications import NotificationActivities
    from contracts.case import (
        SYSTEM,
        Actor,
        Declaration,
        Department,
        Person,
    )
    from contracts.departments import (
        AuditEntry,
        Notification,
    )
    from contracts.workflow import (
        ITEM_DEPARTMENT,
        Assignee,
        CaseEvent,
        CaseInput,
        CaseSnapshot,
        CaseState,
        CaseStatus,
        ContributionStatus,
        Deadlines,
        Decision,
        DecisionRecord,
        Escalation,
        FundResult,
        Item,
        ItemKey,
        ItemStatus,
        MedicalResult,
        Outcome,
        PensionResult,
        RefusalType,
        Stage,
        Task,
        TaskKind,
        TaskStatus,
    )
    from domain.idcard import mask
    from domain.months import YearMonth
    from domain.plan import RetirementPath, RetirementPlan, plan_retirement
    from domain.policy import Category, Policy
    from domain.statutory import min_contribution_years
    from domain.timeline import (
        CHINA_TZ,
        CaseTimeline,
        Milestone,
        case_timeline,
        clerk_deadline,
    )
    from domain.workdays import WorkingCalendar
    from workflows.issues import CLERK_TASKS

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
MAX_EVENTS_KEPT = 300  # the story shown on the progress page; older lines are in the audit log

# Which milestone each department answers for when it is missed.
MILESTONE_DEPARTMENT = {
    Milestone.DECLARATION: Department.HR,
    Milestone.CONTRIBUTION_CHECK: Department.SOCIAL_INSURANCE,
    Milestone.INITIATION: Department.HR,
}
RETURNABLE = {
    TaskKind.PRE_REVIEW,
    TaskKind.CONFIRM_CONTRIBUTIONS,
    TaskKind.CONFIRM_PENSION,
}
FINAL_ITEM_STATUSES = {ItemStatus.DONE, ItemStatus.REFUSED, ItemStatus.FAILED}
PARTY_TASKS = {
    TaskKind.DECLARE,
    TaskKind.CORRECT,
    TaskKind.SETTLE_CONTRIBUTIONS,
    TaskKind.INITIATE,
}


def clip(text: str, limit: int = 2000) -> str:
    """Lines the case composes from people's text (a 2000-character reason behind a prefix) must
    fit the snapshot's limits, or the workflow task would fail on every retry: cut with "…"."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def refuse(kind: RefusalType, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind.value, non_retryable=True)


def plan_for(
    person_birth: YearMonth, category: Category, declaration: Declaration | None, policy: Policy
) -> RetirementPlan:
    """The retirement plan a declaration asks for (the normal path before any declaration)."""
    if declaration is None:
        return plan_retirement(
            birth_month=person_birth,
            category=category,
            path=RetirementPath.NORMAL,
            policy=policy,
        )
    flexible = declaration.flexible
    return plan_retirement(
        birth_month=declaration.archive_birth_month or person_birth,
        category=category,
        path=declaration.path,
        policy=policy,
        contribution_years=declaration.contribution_years,
        requested_month=declaration.requested_month,
        special_jobs=[job.period() for job in declaration.special_jobs],
        appraisal=declaration.appraisal,
        notice_month=flexible.notice_month if flexible else None,
        employer_agreed=flexible.employer_agreed if flexible else False,
    )


ARCHIVE_DRIFT_MONTHS = 60  # an archive's birth month this far from the ID number's is an error


def plan_problems(
    birth: YearMonth, category: Category, declaration: Declaration | None, policy: Policy
) -> list[str]:
    """Everything wrong with a declaration, in words: the retirement rules it breaks, an
    archive birth month implausibly far from the ID number's, dates out of any calendar. Empty
    when the case can run on it (a workflow must never be handed a plan it cannot compute)."""
    problems = []
    archive = declaration.archive_birth_month if declaration else None
    if archive is not None and abs(archive.months_since(birth)) > ARCHIVE_DRIFT_MONTHS:
        problems.append(
            f"archive_birth_month: {archive} is more than five years from the ID number's "
            f"birth month {birth}"
        )
    try:
        plan = plan_for(birth, category, declaration, policy)
        case_timeline(plan.retirement_month, policy)
    except ValueError as exc:
        return [*problems, f"dates out of range: {exc}"]
    return problems + [f"{r.rule}: {r.reason}" for r in plan.refusals]


class CaseLedger:
    # The case's state, set up by RetirementCase.__init__ (fresh or from a continue-as-new).
    _input: CaseInput
    _person: Person
    _case_id: str
    _policy: Policy
    _calendar: WorkingCalendar
    _stage: Stage
    _declaration: Declaration | None
    _category: Category
    _birth_month: YearMonth
    _plan: RetirementPlan
    _timeline: CaseTimeline
    _tasks: dict[str, Task]
    _items: dict[ItemKey, Item]
    _decisions: list[DecisionRecord]
    _escalations: list[Escalation]
    _events: list[CaseEvent]
    _overdue: set[str]
    _late_declaration: bool
    _reminders_sent: int
    _pension: PensionResult | None
    _medical: MedicalResult | None
    _fund: FundResult | None
    _contribution: ContributionStatus | None
    # The pension deemed years HR recognised at pre-review: the one figure item 2, the
    # contribution check and the pension use. None before pre-review, and in cases pre-reviewed
    # before the patch that records it (they use social insurance's record, as they did).
    _deemed_years: Decimal | None
    _household_confirmed: str | None  # the registry's mismatch a public security clerk confirmed
    _closed_reason: str | None
    _processed: set[str]
    _fired: set[str]
    _schedule_from: datetime
    _task_counter: int
    _audit_counter: int
    _version: int
    _audit: list[AuditEntry]
    _projected_version: int
    _published: dict[str, object]
    _draining: bool

    def _restore(self, state: CaseState) -> None:
        snap = state.snapshot
        self._stage = snap.stage
        self._declaration = state.declaration
        self._category = state.category
        self._birth_month = state.birth_month
        self._tasks = {t.id: t for t in snap.tasks}
        self._items = {i.key: i for i in snap.items}
        self._decisions = list(snap.decisions)
        self._escalations = list(snap.escalations)
        self._events = list(snap.events)
        self._overdue = set(snap.overdue)
        self._late_declaration = snap.late_declaration
        self._reminders_sent = snap.reminders_sent
        self._pension, self._medical, self._fund = snap.pension, snap.medical, snap.fund
        self._contribution = state.contribution
        self._household_confirmed = state.household_confirmed
        self._deemed_years = state.deemed_years
        self._closed_reason = snap.closed_reason
        self._processed = set(state.processed_requests)
        self._fired = set(state.fired_timers)
        self._schedule_from = state.schedule_from
        self._task_counter = state.task_counter
        self._audit_counter = state.projected_audit
        self._version = snap.version

    def _start_items(self) -> None:
        for key in ItemKey:
            self._set_item(key, ItemStatus.NOT_STARTED, "")
        self._path_items()

    def _path_items(self) -> None:
        """Items 3 and 4 apply only on their early-retirement path."""
        path = self._declaration.path if self._declaration else None
        for key, wanted in (
            (ItemKey.SPECIAL_JOB_EARLY, RetirementPath.SPECIAL_JOB),
            (ItemKey.ILLNESS_EARLY, RetirementPath.ILLNESS),
        ):
            applies = path is wanted
            current = self._items[key].status
            if not applies and current is not ItemStatus.NOT_APPLICABLE:
                self._set_item(key, ItemStatus.NOT_APPLICABLE, "not on this path")
            elif applies and current is ItemStatus.NOT_APPLICABLE:
                self._set_item(key, ItemStatus.NOT_STARTED, "")

    def _change_plan(
        self, *, category: Category | None = None, declaration: Declaration | None = None
    ) -> None:
        """A resubmission or correction: a new T moves every pending deadline, the open tasks'
        due dates with them; reminders already due under the new dates are not sent late."""
        before = self._timeline
        if category is not None:
            self._category = category
        if declaration is not None:
            self._declaration = declaration
            self._path_items()
        self._replan()
        if self._timeline == before:
            return
        self._schedule_from = workflow.now()
        dues = {
            TaskKind.DECLARE: self._timeline.declaration_due,
            TaskKind.SETTLE_CONTRIBUTIONS: self._timeline.contribution_check_due,
            TaskKind.INITIATE: self._timeline.initiation_due,
        }
        for task in self._open_tasks():
            if task.kind in dues:
                self._tasks[task.id] = task.model_copy(update={"due": dues[task.kind]})
        if self._declaration is not None and self._today() > self._timeline.declaration_due:
            self._late_declaration = True
        self._bump()

    def _replan(self) -> None:
        self._plan = plan_for(self._birth_month, self._category, self._declaration, self._policy)
        self._timeline: CaseTimeline = case_timeline(self._plan.retirement_month, self._policy)

    def _carry_over(self) -> CaseInput:
        state = CaseState(
            snapshot=self._snapshot(),
            declaration=self._declaration,
            category=self._category,
            birth_month=self._birth_month,
            contribution=self._contribution,
            household_confirmed=self._household_confirmed,
            deemed_years=self._deemed_years,
            processed_requests=sorted(self._processed),
            fired_timers=sorted(self._fired),
            schedule_from=self._schedule_from,
            task_counter=self._task_counter,
            projected_audit=self._audit_counter,
        )
        return self._input.model_copy(
            update={"declaration": None, "policy": self._policy, "state": state}
        )

    def _accept_declaration(
        self, declaration: Declaration, actor: Actor, request_id: str | None
    ) -> None:
        self._declaration = declaration
        self._replan()
        self._path_items()
        for task in self._open_tasks(TaskKind.DECLARE):
            self._close_task(task, TaskStatus.DONE, Outcome.APPROVE, actor, "declared")
        if self._today() > self._timeline.declaration_due:
            self._late_declaration = True
            self._event(
                f"late declaration: due {self._timeline.declaration_due}, flagged for HR", actor
            )
        self._overdue.discard(Milestone.DECLARATION)
        if request_id is not None:
            self._record(request_id, actor, "declare", self._plan_summary())
        if self._plan.accepted:
            self._set_stage(Stage.DECLARATION)
        else:
            # Only a start that skipped the API's checks gets here: ask for a correction.
            self._set_stage(Stage.PRE_REVIEW)
            self._open_task(
                TaskKind.CORRECT,
                "the declaration breaks the retirement rules: correct and resubmit",
                Assignee.ORGANISATION,
                organisation=self._person.organisation,
                detail="; ".join(str(r) for r in self._plan.refusals),
            )

    def _apply_decision(self, decision: Decision, *, via: str) -> None:
        task = self._tasks[decision.task_id]
        self._close_task(task, TaskStatus.DONE, decision.outcome, decision.actor, decision.reason)
        self._decisions.append(
            DecisionRecord(
                request_id=decision.request_id,
                task_id=task.id,
                task_kind=task.kind,
                department=task.department,
                outcome=decision.outcome,
                reason=decision.reason,
                evidence=decision.evidence,
                actor=decision.actor,
                at=workflow.now(),
                via=via,
                deemed_years=decision.deemed_years,
            )
        )
        detail = f"{task.id} {decision.outcome}"
        if decision.reason:
            detail += f": {decision.reason}"
        if decision.evidence:
            detail += f" (evidence: {', '.join(decision.evidence)})"
        if decision.deemed_years is not None:
            detail += f" (deemed years: {decision.deemed_years})"  # the figure, in the audit
        self._record(decision.request_id, decision.actor, f"decide-{task.kind}", detail)

    def _record(self, request_id: str, actor: Actor, action: str, detail: str) -> None:
        self._processed.add(request_id)
        self._event(f"{action}: {detail}", actor)
        self._audit_entry(actor, action, detail)
        self._bump()

    def _audit_entry(
        self, actor: Actor, action: str, detail: str, result: str = "accepted"
    ) -> None:
        self._audit_counter += 1
        self._audit.append(
            AuditEntry(
                id=f"{self._case_id}:{self._audit_counter}",
                case_id=self._case_id,
                at=workflow.now(),
                actor=actor,
                action=action,
                detail=clip(detail),
                result=result,
            )
        )

    def _open_task(
        self,
        kind: TaskKind,
        title: str,
        assignee: Assignee,
        *,
        department: Department | None = None,
        organisation: str | None = None,
        due: date | None = None,
        detail: str = "",
        problem_id: str | None = None,
        step: str | None = None,
        if_rejected: str | None = None,
        attempt: int = 1,
        escalated: bool = False,
    ) -> Task:
        """Open a task; what rejecting it does (``if_rejected``) is shown on it, by default the
        rule for its kind (``workflows.issues``)."""
        self._task_counter += 1
        if if_rejected is None:
            rule = CLERK_TASKS.get(kind)
            if_rejected = rule.text if rule else ""
        estimated = False
        sla = kind.clerk_task
        if due is None and sla is not None:
            deadline = clerk_deadline(sla, self._today(), self._policy, self._calendar)
            due, estimated = deadline.due, deadline.estimated
        problem = None
        if problem_id is not None and self._contribution is not None:
            problem = next(p for p in self._contribution.problems if p.id == problem_id)
        task = Task(
            id=f"{kind}-{self._task_counter}",
            kind=kind,
            title=clip(title),
            assignee=assignee,
            department=department,
            organisation=organisation,
            opened_at=workflow.now(),
            due=due,
            due_estimated=estimated,
            problem=problem,
            step=step,
            detail=clip(detail),
            if_rejected=clip(if_rejected),
            attempt=attempt,
            escalated=escalated,
        )
        self._tasks[task.id] = task
        self._event(f"task opened: {task.id} for {department or assignee}", SYSTEM)
        self._bump()
        return task

    def _open_settle_task(self, problem_id: str) -> Task:
        assignee = Assignee.ORGANISATION if self._person.has_employer else Assignee.INDIVIDUAL
        assert self._contribution is not None
        problem = next(p for p in self._contribution.problems if p.id == problem_id)
        return self._open_task(
            TaskKind.SETTLE_CONTRIBUTIONS,
            f"settle the contribution problem: {problem.kind}",
            assignee,
            organisation=self._person.employer_id,
            due=self._timeline.contribution_check_due,
            detail=problem.detail,
            problem_id=problem_id,
        )

    def _open_settle_tasks(self, problem_id: str | None = None) -> list[Task]:
        return [
            t
            for t in self._open_tasks(TaskKind.SETTLE_CONTRIBUTIONS)
            if problem_id is None or (t.problem is not None and t.problem.id == problem_id)
        ]

    def _close_task(
        self,
        task: Task,
        status: TaskStatus,
        outcome: Outcome | None,
        actor: Actor,
        reason: str | None,
    ) -> None:
        self._tasks[task.id] = task.model_copy(
            update={
                "status": status,
                "outcome": outcome,
                "closed_at": workflow.now(),
                "closed_by": actor,
                "reason": reason,
            }
        )
        self._bump()

    def _all_closed(self, task_ids: list[str]) -> bool:
        return all(self._tasks[i].status is not TaskStatus.OPEN for i in task_ids)

    def _open_tasks(self, kind: TaskKind | None = None) -> list[Task]:
        return [
            t
            for t in self._tasks.values()
            if t.status is TaskStatus.OPEN and (kind is None or t.kind is kind)
        ]

    async def _decision_on(self, task: Task) -> DecisionRecord | None:
        """Wait for the clerk's decision on ``task``; ``None`` when the case closed first."""
        await self._until(lambda: self._tasks[task.id].status is not TaskStatus.OPEN)
        if self._stage.terminal:
            return None
        return next(d for d in reversed(self._decisions) if d.task_id == task.id)

    async def _until(self, condition: Callable[[], bool]) -> None:
        await workflow.wait_condition(lambda: condition() or self._stage.terminal)

    def _set_stage(self, stage: Stage) -> None:
        if stage is self._stage or self._stage.terminal:
            return  # a closed case stays closed, whatever a late step returns
        workflow.logger.info("case %s: %s -> %s", self._case_id, self._stage, stage)
        self._stage = stage
        # Reminders are for what can still be done on time from here: those whose date passed
        # before this stage are not sent late (escalations still fire).
        self._schedule_from = workflow.now()
        self._event(f"stage: {stage}", SYSTEM)
        self._bump()

    def _close(self, stage: Stage, reason: str) -> None:
        for task in self._open_tasks():
            self._close_task(task, TaskStatus.CANCELLED, None, SYSTEM, f"case {stage}")
        self._closed_reason = clip(reason)
        self._set_stage(stage)

    def _close_if_open(self, stage: Stage, reason: str) -> None:
        if not self._stage.terminal:
            self._close(stage, reason)

    def _set_item(self, key: ItemKey, status: ItemStatus, detail: str) -> None:
        if status in FINAL_ITEM_STATUSES and key in self._items:
            self._event(f"item {key}: {status}" + (f" ({detail})" if detail else ""), SYSTEM)
        self._items[key] = Item(
            key=key,
            department=ITEM_DEPARTMENT[key],
            status=status,
            detail=clip(detail),
            updated_at=workflow.now(),
        )
        self._bump()

    def _fail_item(self, key: ItemKey, detail: str) -> None:
        if not self._stage.terminal:
            self._set_item(key, ItemStatus.FAILED, detail)

    def _event(self, text: str, actor: Actor) -> None:
        self._events.append(
            CaseEvent(at=workflow.now(), stage=self._stage, event=clip(text), actor=actor.label())
        )
        del self._events[:-MAX_EVENTS_KEPT]
        self._bump()

    def _bump(self) -> None:
        self._version += 1

    def _today(self) -> date:
        return workflow.now().astimezone(CHINA_TZ).date()

    def _plan_birth_month(self) -> YearMonth:
        if self._declaration and self._declaration.archive_birth_month:
            return self._declaration.archive_birth_month
        return self._birth_month

    def _hr_items(self) -> list[ItemKey]:
        keys = [ItemKey.PENSION_ELIGIBILITY, ItemKey.PENSION_DEEMED_YEARS]
        return keys + [
            k
            for k in (ItemKey.SPECIAL_JOB_EARLY, ItemKey.ILLNESS_EARLY)
            if self._items[k].status is not ItemStatus.NOT_APPLICABLE
        ]

    def _plan_summary(self) -> str:
        plan = self._plan
        text = (
            f"{plan.path}: retires {plan.retirement_month} (statutory "
            f"{plan.statutory.retirement_month}, age "
            f"{plan.statutory.age_years}y{plan.statutory.age_extra_months}m)"
        )
        if self._declaration is not None:
            text += (
                f"; {self._declaration.contribution_years} contribution + "
                f"{self._declaration.deemed_years} deemed years declared"
            )
        if self._deemed_years is not None:
            text += f"; {self._deemed_years} deemed years recognised at pre-review"
        return text

    def _deemed_years_for(self, status: ContributionStatus) -> Decimal:
        """The pension deemed years the check and the pension count: HR's recognised figure,
        or (a case pre-reviewed before it was recorded) social insurance's record."""
        return status.deemed_years if self._deemed_years is None else self._deemed_years

    def _contribution_summary(self, status: ContributionStatus) -> str:
        needed = min_contribution_years(self._plan.retirement_month.year, self._policy)
        deemed = self._deemed_years_for(status)
        years = status.actual_years + deemed
        shortfall = max(Decimal(0), needed - years)
        text = f"record {status.status}: {years} years ({needed} needed)"
        if deemed != status.deemed_years:
            text += (
                f"; {deemed} deemed years as recognised at pre-review (the record shows "
                f"{status.deemed_years})"
            )
        if shortfall:
            text += f"; short by {shortfall}: continue contributing or pay a lump sum"
        return text

    def _results_summary(self) -> str:
        return "\n".join(
            f"{item.key}: {item.status} {item.detail}" for item in self._items.values()
        )

    def _status(self) -> CaseStatus:
        return CaseStatus(
            case_id=self._case_id,
            stage=self._stage,
            version=self._version,
            retirement_month=self._plan.retirement_month,
            open_tasks=self._open_tasks(),
            items=list(self._items.values()),
        )

    def _snapshot(self) -> CaseSnapshot:
        tl = self._timeline
        return CaseSnapshot(
            case_id=self._case_id,
            stage=self._stage,
            path=self._declaration.path if self._declaration else None,
            region_code=self._person.region_code,
            organisation=self._person.organisation,
            has_employer=self._person.has_employer,
            person_name=self._person.name,
            id_masked=mask(self._person.id_number),
            category=self._category,
            deadlines=Deadlines(
                retirement_month=tl.retirement_month,
                statutory_month=self._plan.statutory.retirement_month,
                declaration_due=tl.declaration_due,
                contribution_check_due=tl.contribution_check_due,
                initiation_opens=tl.initiation_opens,
                initiation_due=tl.initiation_due,
                first_pension_month=tl.first_pension_month,
            ),
            items=[self._items[key] for key in ItemKey],
            tasks=list(self._tasks.values()),
            decisions=list(self._decisions),
            escalations=list(self._escalations),
            events=list(self._events),
            late_declaration=self._late_declaration,
            overdue=sorted(self._overdue),
            reminders_sent=self._reminders_sent,
            pension=self._pension,
            medical=self._medical,
            fund=self._fund,
            closed_reason=self._closed_reason,
            version=self._version,
        )

    def _details_markdown(self, snapshot: CaseSnapshot) -> str:
        lines = [
            f"**{snapshot.stage}** · retires {snapshot.deadlines.retirement_month} · "
            f"region {snapshot.region_code} · path {snapshot.path or 'not declared'}",
            "",
            "| # | item | department | status |",
            "|---|---|---|---|",
        ]
        for n, item in enumerate(snapshot.items, 1):
            lines.append(f"| {n} | {item.key} | {item.department} | {item.status} |")
        open_tasks = snapshot.open_tasks()
        if open_tasks:
            lines += ["", "Open tasks:"]
            for t in open_tasks:
                who = t.department or t.assignee
                due = f", due {t.due}{' (estimated)' if t.due_estimated else ''}" if t.due else ""
                flag = " ⚠ escalated" if t.escalated else ""
                lines.append(f"- {t.id} ({who}{due}){flag}: {t.title}")
        if snapshot.overdue:
            lines += ["", f"Overdue: {', '.join(snapshot.overdue)}"]
        if snapshot.closed_reason:
            lines += ["", f"Closed: {snapshot.closed_reason}"]
        return "\n".join(lines)

    async def _notify(
        self, role: str, recipient: str, kind: str, subject: str, body: str = "", *, key: str
    ) -> None:
        await workflow.execute_activity_method(
            NotificationActivities.send,
            Notification(
                idempotency_key=f"{self._case_id}:{key}",
                case_id=self._case_id,
                recipient_role=role,
                recipient=recipient,
                kind=kind,
                subject=subject,
                body=body,
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=DEPARTMENT_RETRY,
            summary=f"notify {role}: {kind}",
        )
