"""The case's state: one object (:class:`State`) holding everything a case knows, the bookkeeping
that changes it, and the views of it (snapshot, status).

Every part of the workflow (``stages``, ``joint``, ``steps``, ``updates``, the timekeeper and the
projector) holds the same ``State``; the workflow never replaces it. Each field says, in its
metadata, whether and where it crosses continue-as-new:

- ``shown()`` — carried inside the case's snapshot (``contracts.workflow.CaseSnapshot``), which
  the progress page shows;
- ``kept()`` — carried beside the snapshot in ``contracts.workflow.CaseState``;
- neither — this run's alone, or derived from the input (the plan, the timeline, the calendar).

:meth:`State.carried` (continue-as-new), :meth:`State.from_carried` (the next run) and
:meth:`State.snapshot` are derived from that metadata. To add a field to a case: declare it here
with a default and ``shown()`` or ``kept()``, and add it, with a default, to ``CaseSnapshot`` or
``CaseState`` (docs/versioning.md, rule 6). ``tests/workflows/test_state.py`` fails when the two
disagree.

Deterministic bookkeeping only (timestamps from ``workflow.now()``): no activity, no timer, no
wait — those are ``workflows.steps``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import Field, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, Literal, Self

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.declarations import Declaration
    from contracts.departments import PersonQuery
    from contracts.people import SYSTEM, Actor, Department, Person
    from contracts.plans import plan_for
    from contracts.read_model import Answer, AuditEntry, Projection
    from contracts.workflow import (
        ITEM_DEPARTMENT,
        Assignee,
        CaseEvent,
        CaseInput,
        CaseOutcome,
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
        Stage,
        Task,
        TaskKind,
        TaskStatus,
    )
    from domain.idcard import mask
    from domain.months import YearMonth
    from domain.plan import RetirementPath, RetirementPlan
    from domain.policy import Category, Policy
    from domain.statutory import min_contribution_years
    from domain.timeline import (
        CHINA_TZ,
        CaseTimeline,
        Milestone,
        case_timeline,
        clerk_deadline,
        working_calendar,
    )
    from domain.workdays import WorkingCalendar
    from workflows.issues import CLERK_TASKS

MAX_EVENTS_KEPT = 300  # the story shown on the progress page; older lines are in the audit log
FINAL_ITEM_STATUSES = {ItemStatus.DONE, ItemStatus.REFUSED, ItemStatus.FAILED}


def clip(text: str, limit: int = 2000) -> str:
    """Lines the case composes from people's text (a 2000-character reason behind a prefix) must
    fit the snapshot's limits, or the workflow task would fail on every retry: cut with "…"."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- where a field crosses continue-as-new --------------------------------------------------

Carried = Literal["snapshot", "state"]
_CARRIED, _WIRE, _KEY = "carried", "wire", "key"


def shown(*, key: str | None = None) -> dict[str, Any]:
    """Field metadata: carried in the snapshot, under the field's own name; a dict is keyed back
    by its values' attribute ``key``."""
    return {_CARRIED: "snapshot", _KEY: key}


def kept(wire: str | None = None) -> dict[str, Any]:
    """Field metadata: carried beside the snapshot in ``CaseState``, as ``wire`` when its name
    there differs."""
    return {_CARRIED: "state", _WIRE: wire}


def _to_wire(value: Any) -> Any:
    """A dict is carried as the list of its values (in insertion order), a set sorted, a list as
    a copy; :func:`_from_wire` turns them back by the field's default factory."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, list):
        return list(value)
    return value


def _from_wire(spec: Field[Any], value: Any) -> Any:
    key = spec.metadata.get(_KEY)
    if key is not None:
        return {getattr(v, key): v for v in value}
    if spec.default_factory is set:
        return set(value)
    if spec.default_factory is list:
        return list(value)
    return value


@dataclass(eq=False, repr=False)  # no repr: it would print the person's data whole
class State:
    """Everything one case knows; the fields below are the list of it (module docstring)."""

    # Who, and under which rules: from the input (the policy is carried in ``CaseInput``).
    input: CaseInput
    policy: Policy  # the start's, until joint handling loads the one in force
    category: Category = field(metadata=kept())
    birth_month: YearMonth = field(metadata=kept())
    # Reminders due before this moment are not sent late (a new stage, a moved deadline).
    schedule_from: datetime = field(metadata=kept())

    # What the progress page shows.
    stage: Stage = field(default=Stage.AWAITING_DECLARATION, metadata=shown())
    tasks: dict[str, Task] = field(default_factory=dict, metadata=shown(key="id"))
    # In the notice's order (ItemKey): every key is set when the case opens (start_items).
    items: dict[ItemKey, Item] = field(default_factory=dict, metadata=shown(key="key"))
    decisions: list[DecisionRecord] = field(default_factory=list, metadata=shown())
    escalations: list[Escalation] = field(default_factory=list, metadata=shown())
    events: list[CaseEvent] = field(default_factory=list, metadata=shown())
    overdue: set[str] = field(default_factory=set, metadata=shown())
    late_declaration: bool = field(default=False, metadata=shown())
    reminders_sent: int = field(default=0, metadata=shown())
    pension: PensionResult | None = field(default=None, metadata=shown())
    medical: MedicalResult | None = field(default=None, metadata=shown())
    fund: FundResult | None = field(default=None, metadata=shown())
    closed_reason: str | None = field(default=None, metadata=shown())
    version: int = field(default=0, metadata=shown())

    # What the case keeps to itself.
    declaration: Declaration | None = field(default=None, metadata=kept())
    contribution: ContributionStatus | None = field(default=None, metadata=kept())
    # The pension deemed years HR recognised at pre-review: the one figure item 2, the
    # contribution check and the pension use. None before pre-review, and in cases pre-reviewed
    # before the patch that records it (they use social insurance's record, as they did).
    deemed_years: Decimal | None = field(default=None, metadata=kept())
    # The registry's mismatch a public security clerk confirmed.
    household_confirmed: str | None = field(default=None, metadata=kept())
    processed: set[str] = field(default_factory=set, metadata=kept("processed_requests"))
    fired: set[str] = field(default_factory=set, metadata=kept("fired_timers"))
    task_counter: int = field(default=0, metadata=kept())
    audit_counter: int = field(default=0, metadata=kept("projected_audit"))

    # This run's alone.
    audit: list[AuditEntry] = field(default_factory=list)  # entries the projector has not written
    draining: bool = False  # the run is ending: the timekeeper stops, the projector finishes
    # Activities running now: while any runs, the projector waits for the case to settle.
    in_flight: int = 0
    calendar: WorkingCalendar = field(init=False)
    plan: RetirementPlan = field(init=False)
    timeline: CaseTimeline = field(init=False)

    def __post_init__(self) -> None:
        self.calendar = working_calendar(self.policy)
        self.replan()

    # ---- a new case, the next run, continue-as-new --------------------------------------------

    @classmethod
    def fresh(cls, input: CaseInput) -> Self:
        """A case just started: every item, its first line, and the declaration it came with."""
        state = cls(
            input=input,
            policy=input.policy,
            category=input.person.category,
            birth_month=input.person.birth_month,
            schedule_from=workflow.now(),
        )
        state.start_items()
        state.event("case opened", SYSTEM)
        if input.declaration is not None:
            state.accept_declaration(
                input.declaration, input.declared_by or SYSTEM, input.request_id
            )
        return state

    @classmethod
    def from_carried(cls, input: CaseInput, carried: CaseState) -> Self:
        """The case as the previous run carried it over (:meth:`carried`)."""
        values = {
            spec.name: _from_wire(spec, getattr(carried.snapshot, wire))
            for spec, wire in carried_fields("snapshot")
        } | {
            spec.name: _from_wire(spec, getattr(carried, wire))
            for spec, wire in carried_fields("state")
        }
        return cls(input=input, policy=input.policy, **values)

    def _wire(self, where: Carried) -> dict[str, Any]:
        return {wire: _to_wire(getattr(self, spec.name)) for spec, wire in carried_fields(where)}

    def carried(self) -> CaseState:
        """Everything a case knows that is not in its input."""
        return CaseState(snapshot=self.snapshot(), **self._wire("state"))

    def carry_over(self) -> CaseInput:
        """The next run's input: the state, and the policy now in force."""
        return self.input.model_copy(
            update={"declaration": None, "policy": self.policy, "state": self.carried()}
        )

    # ---- views --------------------------------------------------------------------------------

    @property
    def person(self) -> Person:
        return self.input.person

    @property
    def case_id(self) -> str:
        return self.input.case_id

    def snapshot(self) -> CaseSnapshot:
        tl = self.timeline
        return CaseSnapshot(
            case_id=self.case_id,
            path=self.declaration.path if self.declaration else None,
            region_code=self.person.region_code,
            organisation=self.person.organisation,
            has_employer=self.person.has_employer,
            person_name=self.person.name,
            id_masked=mask(self.person.id_number),
            category=self.category,
            declaration=self.declaration,
            deadlines=Deadlines(
                retirement_month=tl.retirement_month,
                statutory_month=self.plan.statutory.retirement_month,
                declaration_due=tl.declaration_due,
                contribution_check_due=tl.contribution_check_due,
                initiation_opens=tl.initiation_opens,
                initiation_due=tl.initiation_due,
                first_pension_month=tl.first_pension_month,
            ),
            **self._wire("snapshot"),
        )

    def status(self) -> CaseStatus:
        return CaseStatus(
            case_id=self.case_id,
            stage=self.stage,
            version=self.version,
            retirement_month=self.plan.retirement_month,
            open_tasks=self.open_tasks(),
            items=list(self.items.values()),
        )

    def projection(self) -> Projection:
        """The read model's copy of the case now, with the audit entries not yet written."""
        return Projection(
            case_id=self.case_id,
            person_key=self.input.person_key,
            id_number=self.person.id_number,
            snapshot=self.snapshot(),
            audit=list(self.audit),
        )

    def answer(self) -> Answer:
        """An Update's answer: the status, and the projection the API writes before answering."""
        return Answer(**dict(self.status()), projection=self.projection())

    def outcome(self) -> CaseOutcome:
        return CaseOutcome(
            case_id=self.case_id,
            stage=self.stage,
            closed_reason=self.closed_reason,
            pension=self.pension,
            events=len(self.events),
        )

    def today(self) -> date:
        return workflow.now().astimezone(CHINA_TZ).date()

    def open_tasks(self, kind: TaskKind | None = None) -> list[Task]:
        return [
            t
            for t in self.tasks.values()
            if t.status is TaskStatus.OPEN and (kind is None or t.kind is kind)
        ]

    def open_settle_tasks(self, problem_id: str | None = None) -> list[Task]:
        return [
            t
            for t in self.open_tasks(TaskKind.SETTLE_CONTRIBUTIONS)
            if problem_id is None or (t.problem is not None and t.problem.id == problem_id)
        ]

    def all_closed(self, task_ids: list[str]) -> bool:
        return all(self.tasks[i].status is not TaskStatus.OPEN for i in task_ids)

    def plan_birth_month(self) -> YearMonth:
        if self.declaration and self.declaration.archive_birth_month:
            return self.declaration.archive_birth_month
        return self.birth_month

    def hr_items(self) -> list[ItemKey]:
        keys = [ItemKey.PENSION_ELIGIBILITY, ItemKey.PENSION_DEEMED_YEARS]
        return keys + [
            k
            for k in (ItemKey.SPECIAL_JOB_EARLY, ItemKey.ILLNESS_EARLY)
            if self.items[k].status is not ItemStatus.NOT_APPLICABLE
        ]

    def person_query(self) -> PersonQuery:
        """The person, as a department's read steps look them up."""
        return PersonQuery(case_id=self.case_id, id_number=self.person.id_number)

    def plan_summary(self) -> str:
        plan = self.plan
        text = (
            f"{plan.path}: retires {plan.retirement_month} (statutory "
            f"{plan.statutory.retirement_month}, age "
            f"{plan.statutory.age_years}y{plan.statutory.age_extra_months}m)"
        )
        if self.declaration is not None:
            text += (
                f"; {self.declaration.contribution_years} contribution + "
                f"{self.declaration.deemed_years} deemed years declared"
            )
        if self.deemed_years is not None:
            text += f"; {self.deemed_years} deemed years recognised at pre-review"
        return text

    def deemed_years_for(self, status: ContributionStatus) -> Decimal:
        """The pension deemed years the check and the pension count: HR's recognised figure,
        or (a case pre-reviewed before it was recorded) social insurance's record."""
        return status.deemed_years if self.deemed_years is None else self.deemed_years

    def recognised_declaration(self) -> Declaration:
        """The declaration as pre-review approved it: social insurance receives the deemed years
        HR recognised, so its record and the case hold one figure."""
        assert self.declaration is not None
        if self.deemed_years is None:
            return self.declaration
        return self.declaration.model_copy(update={"deemed_years": self.deemed_years})

    def deemed_years_recognised(self) -> str:
        """Item 2's result in words, saying when the clerk corrected the declared figure."""
        assert self.declaration is not None
        declared = self.declaration.deemed_years
        recognised = declared if self.deemed_years is None else self.deemed_years
        text = f"{recognised} deemed years recognised at pre-review"
        if recognised != declared:
            text += f" (corrected from {declared} declared)"
        return text

    def contribution_summary(self, status: ContributionStatus) -> str:
        needed = min_contribution_years(self.plan.retirement_month.year, self.policy)
        deemed = self.deemed_years_for(status)
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

    def results_summary(self) -> str:
        return "\n".join(f"{item.key}: {item.status} {item.detail}" for item in self.items.values())

    # ---- the plan ---------------------------------------------------------------------------

    def replan(self) -> None:
        self.plan = plan_for(self.birth_month, self.category, self.declaration, self.policy)
        self.timeline = case_timeline(self.plan.retirement_month, self.policy)

    def use_policy(self, policy: Policy) -> None:
        """The policy in force now (joint handling); the plan is not recomputed."""
        self.policy = policy
        self.calendar = working_calendar(policy)

    def change_plan(
        self, *, category: Category | None = None, declaration: Declaration | None = None
    ) -> None:
        """A resubmission or correction: a new T moves every pending deadline, the open tasks'
        due dates with them; reminders already due under the new dates are not sent late."""
        before = self.timeline
        if category is not None:
            self.category = category
        if declaration is not None:
            self.declaration = declaration
            self.path_items()
        self.replan()
        if self.timeline == before:
            return
        self.schedule_from = workflow.now()
        dues = {
            TaskKind.DECLARE: self.timeline.declaration_due,
            TaskKind.SETTLE_CONTRIBUTIONS: self.timeline.contribution_check_due,
            TaskKind.INITIATE: self.timeline.initiation_due,
        }
        for task in self.open_tasks():
            if task.kind in dues:
                self.tasks[task.id] = task.model_copy(update={"due": dues[task.kind]})
        if self.declaration is not None and self.today() > self.timeline.declaration_due:
            self.late_declaration = True
        self.bump()

    def accept_declaration(
        self, declaration: Declaration, actor: Actor, request_id: str | None
    ) -> None:
        self.declaration = declaration
        self.replan()
        self.path_items()
        for task in self.open_tasks(TaskKind.DECLARE):
            self.close_task(task, TaskStatus.DONE, Outcome.APPROVE, actor, "declared")
        if self.today() > self.timeline.declaration_due:
            self.late_declaration = True
            self.event(
                f"late declaration: due {self.timeline.declaration_due}, flagged for HR", actor
            )
        self.overdue.discard(Milestone.DECLARATION)
        if request_id is not None:
            self.record(request_id, actor, "declare", self.plan_summary())
        if self.plan.accepted:
            self.set_stage(Stage.DECLARATION)
        else:
            # Only a start that skipped the API's checks gets here: ask for a correction.
            self.set_stage(Stage.PRE_REVIEW)
            self.open_task(
                TaskKind.CORRECT,
                "the declaration breaks the retirement rules: correct and resubmit",
                Assignee.ORGANISATION,
                organisation=self.person.organisation,
                detail="; ".join(str(r) for r in self.plan.refusals),
            )

    # ---- items and stages -------------------------------------------------------------------

    def start_items(self) -> None:
        for key in ItemKey:
            self.set_item(key, ItemStatus.NOT_STARTED, "")
        self.path_items()

    def path_items(self) -> None:
        """Items 3 and 4 apply only on their early-retirement path."""
        path = self.declaration.path if self.declaration else None
        for key, wanted in (
            (ItemKey.SPECIAL_JOB_EARLY, RetirementPath.SPECIAL_JOB),
            (ItemKey.ILLNESS_EARLY, RetirementPath.ILLNESS),
        ):
            applies = path is wanted
            current = self.items[key].status
            if not applies and current is not ItemStatus.NOT_APPLICABLE:
                self.set_item(key, ItemStatus.NOT_APPLICABLE, "not on this path")
            elif applies and current is ItemStatus.NOT_APPLICABLE:
                self.set_item(key, ItemStatus.NOT_STARTED, "")

    def set_item(self, key: ItemKey, status: ItemStatus, detail: str) -> None:
        if status in FINAL_ITEM_STATUSES and key in self.items:
            self.event(f"item {key}: {status}" + (f" ({detail})" if detail else ""), SYSTEM)
        self.items[key] = Item(
            key=key,
            department=ITEM_DEPARTMENT[key],
            status=status,
            detail=clip(detail),
            updated_at=workflow.now(),
        )
        self.bump()

    def fail_item(self, key: ItemKey, detail: str) -> None:
        if not self.stage.terminal:
            self.set_item(key, ItemStatus.FAILED, detail)

    def set_stage(self, stage: Stage) -> None:
        if stage is self.stage or self.stage.terminal:
            return  # a closed case stays closed, whatever a late step returns
        workflow.logger.info("case %s: %s -> %s", self.case_id, self.stage, stage)
        self.stage = stage
        # Reminders are for what can still be done on time from here: those whose date passed
        # before this stage are not sent late (escalations still fire).
        self.schedule_from = workflow.now()
        self.event(f"stage: {stage}", SYSTEM)
        self.bump()

    def close(self, stage: Stage, reason: str) -> None:
        for task in self.open_tasks():
            self.close_task(task, TaskStatus.CANCELLED, None, SYSTEM, f"case {stage}")
        self.closed_reason = clip(reason)
        self.set_stage(stage)

    def close_if_open(self, stage: Stage, reason: str) -> None:
        if not self.stage.terminal:
            self.close(stage, reason)

    # ---- tasks ------------------------------------------------------------------------------

    def open_task(
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
        self.task_counter += 1
        if if_rejected is None:
            rule = CLERK_TASKS.get(kind)
            if_rejected = rule.text if rule else ""
        estimated = False
        sla = kind.clerk_task
        if due is None and sla is not None:
            deadline = clerk_deadline(sla, self.today(), self.policy, self.calendar)
            due, estimated = deadline.due, deadline.estimated
        problem = None
        if problem_id is not None and self.contribution is not None:
            problem = next(p for p in self.contribution.problems if p.id == problem_id)
        task = Task(
            id=f"{kind}-{self.task_counter}",
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
        self.tasks[task.id] = task
        self.event(f"task opened: {task.id} for {department or assignee}", SYSTEM)
        self.bump()
        return task

    def open_settle_task(self, problem_id: str) -> Task:
        assignee = Assignee.ORGANISATION if self.person.has_employer else Assignee.INDIVIDUAL
        assert self.contribution is not None
        problem = next(p for p in self.contribution.problems if p.id == problem_id)
        return self.open_task(
            TaskKind.SETTLE_CONTRIBUTIONS,
            f"settle the contribution problem: {problem.kind}",
            assignee,
            organisation=self.person.employer_id,
            due=self.timeline.contribution_check_due,
            detail=problem.detail,
            problem_id=problem_id,
        )

    def close_task(
        self,
        task: Task,
        status: TaskStatus,
        outcome: Outcome | None,
        actor: Actor,
        reason: str | None,
    ) -> None:
        self.tasks[task.id] = task.model_copy(
            update={
                "status": status,
                "outcome": outcome,
                "closed_at": workflow.now(),
                "closed_by": actor,
                "reason": reason,
            }
        )
        self.bump()

    def apply_decision(self, decision: Decision, *, via: str) -> None:
        task = self.tasks[decision.task_id]
        self.close_task(task, TaskStatus.DONE, decision.outcome, decision.actor, decision.reason)
        self.decisions.append(
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
        self.record(decision.request_id, decision.actor, f"decide-{task.kind}", detail)

    def add_escalation(self, department: Department, reason: str, task_id: str | None) -> None:
        self.escalations.append(
            Escalation(
                id=f"esc-{len(self.escalations) + 1}",
                at=workflow.now(),
                department=department,
                reason=reason,
                task_id=task_id,
            )
        )
        self.event(f"escalated to {department} supervisors: {reason}", SYSTEM)

    # ---- the story and the audit log --------------------------------------------------------

    def record(self, request_id: str, actor: Actor, action: str, detail: str) -> None:
        """A request applied: de-duplicated from now on, in the story and the audit log."""
        self.processed.add(request_id)
        self.event(f"{action}: {detail}", actor)
        self.audit_entry(actor, action, detail)
        self.bump()

    def audit_entry(self, actor: Actor, action: str, detail: str, result: str = "accepted") -> None:
        self.audit_counter += 1
        self.audit.append(
            AuditEntry(
                id=f"{self.case_id}:{self.audit_counter}",
                case_id=self.case_id,
                at=workflow.now(),
                actor=actor,
                action=action,
                detail=clip(detail),
                result=result,
            )
        )

    def event(self, text: str, actor: Actor) -> None:
        self.events.append(
            CaseEvent(at=workflow.now(), stage=self.stage, event=clip(text), actor=actor.label())
        )
        del self.events[:-MAX_EVENTS_KEPT]
        self.bump()

    def money_after_close(self, what: str, department: Department) -> None:
        if self.stage.terminal:
            self.event(
                f"{what} completed after the case was {self.stage}: {department} must undo it "
                "through its own procedure",
                SYSTEM,
            )

    def bump(self) -> None:
        self.version += 1

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Around an activity: the case is not settled while it runs (``workflows.projection``)."""
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1


@cache
def carried_fields(where: Carried) -> tuple[tuple[Field[Any], str], ...]:
    """The fields of :class:`State` carried ``where`` — in the snapshot, or beside it in
    ``CaseState`` — each with its name there."""
    return tuple(
        (spec, str(spec.metadata.get(_WIRE) or spec.name))
        for spec in fields(State)
        if spec.metadata.get(_CARRIED) == where
    )
