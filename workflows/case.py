"""One long-running workflow per retiree: the whole joint process, T-6 months to the first pension.

The run method walks the stages in order (declaration, pre-review, contribution check,
initiation, joint handling); each stage opens tasks and waits for the people who must act. Those
people act through Updates (validated before anything is written to history) or, for tooling
that can only signal, a de-duplicated decision Signal. Two helper coroutines run beside the
stages: the timekeeper (reminders, escalations, clerks' working-day deadlines) and the projector
(the read model in the database, search attributes and the details shown in the Temporal UI).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.errors import DEPARTMENT_REFUSAL
    from activities.health_commission import HealthCommissionActivities
    from activities.hr import HrActivities
    from activities.medical_security import MedicalSecurityActivities
    from activities.notifications import NotificationActivities
    from activities.provident_fund import ProvidentFundActivities
    from activities.public_security import PublicSecurityActivities
    from activities.read_model import ReadModelActivities, load_current_policy
    from activities.social_insurance import SocialInsuranceActivities
    from contracts import search
    from contracts.case import (
        SYSTEM,
        Actor,
        Declaration,
        Department,
        Role,
        region_covers,
    )
    from contracts.departments import (
        ApprovalCommand,
        AuditEntry,
        DepartmentRefusalInfo,
        FundWithdrawal,
        HouseholdCheck,
        HouseholdStep,
        MedicalOutcome,
        MedicalSwitch,
        Notification,
        PensionAward,
        PersonQuery,
        PrereviewPush,
        Projection,
        RetireeSwitch,
        RewardNoticeRecord,
        SettleCommand,
    )
    from contracts.workflow import (
        ITEM_DEPARTMENT,
        Assignee,
        Cancel,
        CaseEvent,
        CaseInput,
        CaseOutcome,
        CaseSnapshot,
        CaseState,
        CaseStatus,
        ContributionStatus,
        CorrectRetirement,
        Deadlines,
        Decision,
        DecisionRecord,
        Declare,
        Escalation,
        FundResult,
        Initiate,
        Item,
        ItemKey,
        ItemStatus,
        MedicalResult,
        Outcome,
        PensionResult,
        RefusalType,
        Resubmit,
        Settle,
        Stage,
        Task,
        TaskKind,
        TaskStatus,
        Withdraw,
    )
    from domain.idcard import mask
    from domain.medical import medical_retiree_check
    from domain.months import YearMonth
    from domain.one_child import one_child_reward_notice
    from domain.pension import PensionInputError, estimate_pension
    from domain.plan import RetirementPath, RetirementPlan, plan_retirement
    from domain.policy import Category, Policy
    from domain.statutory import category_gender, min_contribution_years
    from domain.timeline import (
        CHINA_TZ,
        CaseTimeline,
        Milestone,
        case_timeline,
        clerk_deadline,
        working_calendar,
    )
    from workflows.timers import Timer, TimerKind, pending_timers

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
_MILESTONE_DEPARTMENT = {
    Milestone.DECLARATION: Department.HR,
    Milestone.CONTRIBUTION_CHECK: Department.SOCIAL_INSURANCE,
    Milestone.INITIATION: Department.HR,
}
_RETURNABLE = {
    TaskKind.PRE_REVIEW,
    TaskKind.CONFIRM_CONTRIBUTIONS,
    TaskKind.CONFIRM_PENSION,
}
_FINAL_ITEM_STATUSES = {ItemStatus.DONE, ItemStatus.REFUSED, ItemStatus.FAILED}
_PARTY_TASKS = {
    TaskKind.DECLARE,
    TaskKind.CORRECT,
    TaskKind.SETTLE_CONTRIBUTIONS,
    TaskKind.INITIATE,
}


def _refuse(kind: RefusalType, message: str) -> ApplicationError:
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


@workflow.defn
class RetirementCase:
    # ---- set-up --------------------------------------------------------------------------

    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        self._input = input
        self._person = input.person
        self._case_id = input.case_id
        self._policy: Policy = input.policy
        self._calendar = working_calendar(self._policy)
        state = input.state
        if state is None:
            now = workflow.now()
            self._stage = Stage.AWAITING_DECLARATION
            self._declaration: Declaration | None = None
            self._category = input.person.category
            self._birth_month = input.person.birth_month
            self._tasks: dict[str, Task] = {}
            self._items: dict[ItemKey, Item] = {}
            self._decisions: list[DecisionRecord] = []
            self._escalations: list[Escalation] = []
            self._events: list[CaseEvent] = []
            self._overdue: set[str] = set()
            self._late_declaration = False
            self._reminders_sent = 0
            self._pension: PensionResult | None = None
            self._medical: MedicalResult | None = None
            self._fund: FundResult | None = None
            self._contribution: ContributionStatus | None = None
            self._closed_reason: str | None = None
            self._processed: set[str] = set()
            self._fired: set[str] = set()
            self._schedule_from: datetime = now
            self._task_counter = 0
            self._audit_counter = 0
            self._version = 0
        else:
            self._restore(state)
        self._audit: list[AuditEntry] = []
        self._projected_version = 0
        self._draining = False
        self._replan()
        if state is None:
            self._start_items()
            self._event("case opened", SYSTEM)
            if input.declaration is not None:
                self._accept_declaration(
                    input.declaration, input.declared_by or SYSTEM, input.request_id
                )

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

    # ---- the run -------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: CaseInput) -> CaseOutcome:
        timekeeper = asyncio.create_task(self._keep_time())
        projector = asyncio.create_task(self._keep_projection())
        stages: dict[Stage, Callable[[], Awaitable[None]]] = {
            Stage.AWAITING_DECLARATION: self._awaiting_declaration,
            Stage.DECLARATION: self._declaration_stage,
            Stage.PRE_REVIEW: self._pre_review,
            Stage.CONTRIBUTION_CHECK: self._contribution_check,
            Stage.AWAITING_INITIATION: self._awaiting_initiation,
            Stage.JOINT_HANDLING: self._joint_handling,
        }
        while not self._stage.terminal:
            if (
                workflow.info().is_continue_as_new_suggested()
                and self._stage is not Stage.JOINT_HANDLING
            ):
                await self._drain(timekeeper, projector)
                workflow.continue_as_new(self._carry_over())
            await stages[self._stage]()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._drain(timekeeper, projector)
        return CaseOutcome(
            case_id=self._case_id,
            stage=self._stage,
            closed_reason=self._closed_reason,
            pension=self._pension,
            events=len(self._events),
        )

    async def _drain(self, *helpers: asyncio.Task[None]) -> None:
        """Stop the timekeeper and let the projector write the final state."""
        self._draining = True
        await asyncio.gather(*helpers)

    def _carry_over(self) -> CaseInput:
        state = CaseState(
            snapshot=self._snapshot(),
            declaration=self._declaration,
            category=self._category,
            birth_month=self._birth_month,
            contribution=self._contribution,
            processed_requests=sorted(self._processed),
            fired_timers=sorted(self._fired),
            schedule_from=self._schedule_from,
            task_counter=self._task_counter,
            projected_audit=self._audit_counter,
        )
        return self._input.model_copy(
            update={"declaration": None, "policy": self._policy, "state": state}
        )

    # ---- stages --------------------------------------------------------------------------

    async def _awaiting_declaration(self) -> None:
        if not self._open_tasks(TaskKind.DECLARE):
            self._open_task(
                TaskKind.DECLARE,
                "declare the retiree for pre-review (申报)",
                Assignee.ORGANISATION,
                organisation=self._person.organisation,
                due=self._timeline.declaration_due,
            )
        await self._until(lambda: self._stage is not Stage.AWAITING_DECLARATION)

    async def _declaration_stage(self) -> None:
        if await self._household(HouseholdStep.DECLARATION):
            self._set_stage(Stage.PRE_REVIEW)

    async def _pre_review(self) -> None:
        while self._stage is Stage.PRE_REVIEW:
            corrections = self._open_tasks(TaskKind.CORRECT)
            if corrections:
                await self._until(lambda: not self._open_tasks(TaskKind.CORRECT))
                continue
            for key in self._hr_items():
                self._set_item(key, ItemStatus.WAITING, "HR pre-review")
            task = self._open_task(
                TaskKind.PRE_REVIEW,
                "pre-review eligibility and the declared years (预审)",
                Assignee.CLERK,
                department=Department.HR,
                detail=self._plan_summary(),
            )
            decision = await self._decision_on(task)
            if decision is None:
                return
            if decision.outcome is Outcome.REJECT:
                for key in self._hr_items():
                    self._set_item(key, ItemStatus.REFUSED, decision.reason or "")
                self._close(Stage.REJECTED, f"pre-review rejected: {decision.reason}")
                return
            if decision.outcome is Outcome.RETURN:
                self._open_task(
                    TaskKind.CORRECT,
                    "correct the declaration and resubmit",
                    Assignee.ORGANISATION,
                    organisation=self._person.organisation,
                    detail=decision.reason or "",
                )
                continue
            if not await self._household(HouseholdStep.PRE_REVIEW):
                return
            assert self._declaration is not None  # pre-review follows a declaration
            receipt = await self._step(
                Department.SOCIAL_INSURANCE,
                "receive pre-review data",
                SocialInsuranceActivities.receive_prereview,
                PrereviewPush(
                    idempotency_key=f"{self._case_id}:prereview:{task.id}",
                    case_id=self._case_id,
                    person=self._person,
                    declaration=self._declaration,
                    retirement_month=self._plan.retirement_month,
                ),
            )
            if receipt is None:
                return self._close_if_open(Stage.REJECTED, "pre-review data could not be pushed")
            self._set_item(
                ItemKey.PENSION_DEEMED_YEARS,
                ItemStatus.DONE,
                f"{self._declaration.deemed_years} deemed years recognised at pre-review",
            )
            for key in (ItemKey.SPECIAL_JOB_EARLY, ItemKey.ILLNESS_EARLY):
                if self._items[key].status is not ItemStatus.NOT_APPLICABLE:
                    self._set_item(key, ItemStatus.DONE, "approved at pre-review")
            self._set_item(ItemKey.PENSION_ELIGIBILITY, ItemStatus.IN_PROGRESS, "pre-review passed")
            self._set_stage(Stage.CONTRIBUTION_CHECK)

    async def _contribution_check(self) -> None:
        while self._stage is Stage.CONTRIBUTION_CHECK:
            status = await self._contribution_status()
            if status is None:
                return self._close_if_open(Stage.REJECTED, "no usable contribution record")
            self._contribution = status
            if status.problems:
                for problem in status.problems:
                    if not self._open_settle_tasks(problem.id):
                        self._open_settle_task(problem.id)
                pending = [t.id for t in self._open_settle_tasks()]
                await self._until(partial(self._all_closed, pending))
                if self._stage.terminal:
                    return
                for task_id in pending:
                    if not await self._settle(self._tasks[task_id]):
                        return
                continue
            task = self._open_task(
                TaskKind.CONFIRM_CONTRIBUTIONS,
                "confirm the contribution check (缴费核查)",
                Assignee.CLERK,
                department=Department.SOCIAL_INSURANCE,
                detail=self._contribution_summary(status),
            )
            decision = await self._decision_on(task)
            if decision is None:
                return
            if decision.outcome is Outcome.REJECT:
                self._set_item(
                    ItemKey.PENSION_ELIGIBILITY, ItemStatus.REFUSED, decision.reason or ""
                )
                self._close(Stage.REJECTED, f"contribution check rejected: {decision.reason}")
                return
            if decision.outcome is Outcome.APPROVE:
                self._overdue.discard(Milestone.CONTRIBUTION_CHECK)
                self._set_stage(Stage.AWAITING_INITIATION)

    async def _awaiting_initiation(self) -> None:
        if not self._open_tasks(TaskKind.INITIATE):
            assignee = Assignee.ORGANISATION if self._person.has_employer else Assignee.INDIVIDUAL
            self._open_task(
                TaskKind.INITIATE,
                f"initiate the joint application (发起) from {self._timeline.initiation_opens}",
                assignee,
                organisation=self._person.employer_id,
                due=self._timeline.initiation_due,
            )
        await self._until(lambda: self._stage is not Stage.AWAITING_INITIATION)

    async def _joint_handling(self) -> None:
        # Pension and wage figures are taken from the policy in force now, not at declaration.
        self._policy = await workflow.execute_activity(
            load_current_policy,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=DEPARTMENT_RETRY,
            summary="load the policy in force",
        )
        self._calendar = working_calendar(self._policy)
        if not await self._household(HouseholdStep.APPROVAL):
            return
        task = self._open_task(
            TaskKind.FORMAL_APPROVAL,
            "formal retirement approval and rights notice (正式审批)",
            Assignee.CLERK,
            department=Department.HR,
            detail=self._plan_summary(),
        )
        decision = await self._decision_on(task)
        if decision is None:
            return
        if decision.outcome is not Outcome.APPROVE:
            self._set_item(ItemKey.PENSION_ELIGIBILITY, ItemStatus.REFUSED, decision.reason or "")
            self._close(Stage.REJECTED, f"formal approval refused: {decision.reason}")
            return
        receipt = await self._step(
            Department.HR,
            "record the formal approval",
            HrActivities.record_approval,
            ApprovalCommand(
                idempotency_key=f"{self._case_id}:approval",
                case_id=self._case_id,
                id_number=self._person.id_number,
                retirement_month=self._plan.retirement_month,
                approver=decision.actor,
            ),
        )
        if receipt is None:
            return self._close_if_open(Stage.REJECTED, "the formal approval could not be recorded")
        # (a None receipt also means the case closed meanwhile; nothing more is done then)
        self._set_item(
            ItemKey.PENSION_ELIGIBILITY,
            ItemStatus.DONE,
            f"approved, no. {receipt.reference}, retiring {self._plan.retirement_month}",
        )
        await self._notify(
            "individual",
            self._input.person_key,
            "rights-notice",
            f"Retirement approved from {self._plan.retirement_month} (权益告知)",
            f"Your pension is paid from {self._timeline.first_pension_month}. "
            "Progress of every department is on your case page.",
            key="rights-notice",
        )
        await asyncio.gather(
            self._social_insurance_branch(),
            self._medical_branch(),
            self._provident_fund_branch(),
            self._health_branch(),
        )
        if not self._stage.terminal:
            self._close(Stage.COMPLETED, "every department has reported")
            await self._notify(
                "individual",
                self._input.person_key,
                "case-completed",
                "Your retirement case is complete",
                self._results_summary(),
                key="completed",
            )

    # ---- joint handling branches -------------------------------------------------------------

    async def _social_insurance_branch(self) -> None:
        item = ItemKey.PENSION_PAYMENT
        self._set_item(item, ItemStatus.IN_PROGRESS, "switching to retiree status")
        switched = await self._step(
            Department.SOCIAL_INSURANCE,
            "switch to retiree",
            SocialInsuranceActivities.switch_to_retiree,
            RetireeSwitch(
                idempotency_key=f"{self._case_id}:retiree-switch",
                case_id=self._case_id,
                id_number=self._person.id_number,
                effective_month=self._plan.retirement_month,
            ),
        )
        if switched is None:
            return self._fail_item(item, "the switch to retiree status was refused")
        while not self._stage.terminal:
            status = await self._contribution_status()
            if status is None:
                return self._fail_item(item, "no contribution record to calculate from")
            month = self._plan.retirement_month
            age = month.months_since(self._plan_birth_month())
            try:
                estimate = estimate_pension(
                    retirement_month=month,
                    age_years=age // 12,
                    age_months=age % 12,
                    contribution_index=status.contribution_index,
                    actual_years=status.actual_years,
                    deemed_years=status.deemed_years,
                    account_balance=status.account_balance,
                    policy=self._policy,
                )
            except PensionInputError as exc:
                return self._fail_item(item, f"pension cannot be calculated: {exc}")
            pension = PensionResult(
                monthly_amount=estimate.total,
                basic=estimate.basic,
                personal_account=estimate.personal_account,
                transitional=estimate.transitional,
                first_month=self._timeline.first_pension_month,
                wage_base_provisional=estimate.wage_base_provisional,
            )
            self._set_item(item, ItemStatus.WAITING, "pension calculated, awaiting confirmation")
            task = self._open_task(
                TaskKind.CONFIRM_PENSION,
                f"confirm the pension of {pension.monthly_amount} yuan a month",
                Assignee.CLERK,
                department=Department.SOCIAL_INSURANCE,
                detail=(
                    f"basic {pension.basic} + personal account {pension.personal_account} + "
                    f"transitional {pension.transitional}; wage base {estimate.wage_base} "
                    f"({estimate.wage_base_period}"
                    f"{', provisional' if estimate.wage_base_provisional else ''}); "
                    f"divisor {estimate.divisor}; paid from {pension.first_month}"
                ),
            )
            decision = await self._decision_on(task)
            if decision is None:
                return
            if decision.outcome is Outcome.RETURN:
                continue  # the record is being corrected: calculate again
            if decision.outcome is Outcome.REJECT:
                self._set_item(item, ItemStatus.REFUSED, decision.reason or "")
                return
            award = await self._step(
                Department.SOCIAL_INSURANCE,
                "award the pension",
                SocialInsuranceActivities.award_pension,
                PensionAward(
                    idempotency_key=f"{self._case_id}:pension-award",
                    case_id=self._case_id,
                    id_number=self._person.id_number,
                    first_month=pension.first_month,
                    monthly_amount=pension.monthly_amount,
                    basic=pension.basic,
                    personal_account=pension.personal_account,
                    transitional=pension.transitional,
                    confirmed_by=decision.actor,
                ),
            )
            if award is None:
                return self._fail_item(item, "the pension award was refused")
            self._pension = pension.model_copy(update={"award_id": award.reference})
            self._set_item(
                item,
                ItemStatus.DONE,
                f"{pension.monthly_amount} yuan a month from {pension.first_month}, "
                f"award {award.reference}",
            )
            return

    async def _medical_branch(self) -> None:
        item = ItemKey.MEDICAL_DEEMED_YEARS
        self._set_item(item, ItemStatus.IN_PROGRESS, "reading the medical insurance record")
        query = PersonQuery(case_id=self._case_id, id_number=self._person.id_number)
        record = await self._step(
            Department.MEDICAL,
            "read the medical insurance record",
            MedicalSecurityActivities.medical_record,
            query,
        )
        if record is None:
            return self._fail_item(item, "no medical insurance record")
        check = medical_retiree_check(
            self._person.gender,
            record.actual_years,
            record.deemed_years,
            self._person.region_code,
            self._policy,
        )
        if check.needs_clerk_confirmation or not check.meets_threshold:
            self._set_item(item, ItemStatus.WAITING, "deemed years awaiting confirmation")
            task = self._open_task(
                TaskKind.CONFIRM_MEDICAL_YEARS,
                "confirm the medical deemed years (医保视同缴费年限)",
                Assignee.CLERK,
                department=Department.MEDICAL,
                detail=(
                    f"actual {check.actual_years} + deemed {check.deemed_years} = "
                    f"{check.total_years} years; threshold {check.required_total_years} "
                    f"(at least {check.required_actual_years} actual); "
                    f"shortfall {check.shortfall_years}"
                ),
            )
            decision = await self._decision_on(task)
            if decision is None:
                return
            if decision.outcome is not Outcome.APPROVE:
                self._set_item(item, ItemStatus.REFUSED, decision.reason or "")
                return
            if decision.deemed_years is not None:
                check = medical_retiree_check(
                    self._person.gender,
                    record.actual_years,
                    decision.deemed_years,
                    self._person.region_code,
                    self._policy,
                )
        outcome = MedicalOutcome.RETIREE if check.meets_threshold else MedicalOutcome.SHORTFALL
        settled = await self._step(
            Department.MEDICAL,
            "settle retiree medical status",
            MedicalSecurityActivities.settle_status,
            MedicalSwitch(
                idempotency_key=f"{self._case_id}:medical-status",
                case_id=self._case_id,
                id_number=self._person.id_number,
                outcome=outcome,
                total_years=check.total_years,
                shortfall_years=check.shortfall_years,
                effective_month=self._plan.retirement_month,
            ),
        )
        if settled is None:
            return self._fail_item(item, "the medical status change was refused")
        self._medical = MedicalResult(
            actual_years=check.actual_years,
            deemed_years=check.deemed_years,
            required_total_years=check.required_total_years,
            shortfall_years=check.shortfall_years,
            outcome=outcome.value,
        )
        if outcome is MedicalOutcome.SHORTFALL:
            await self._notify(
                "individual",
                self._input.person_key,
                "medical-shortfall",
                f"Medical insurance: {check.shortfall_years} years short of retiree cover",
                "Contact the medical security agency to pay the remaining years.",
                key="medical-shortfall",
            )
            self._set_item(item, ItemStatus.DONE, f"shortfall of {check.shortfall_years} years")
        else:
            self._set_item(item, ItemStatus.DONE, f"retiree cover with {check.total_years} years")

    async def _provident_fund_branch(self) -> None:
        item = ItemKey.PROVIDENT_FUND
        self._set_item(item, ItemStatus.IN_PROGRESS, "reading the fund account")
        query = PersonQuery(case_id=self._case_id, id_number=self._person.id_number)
        account = await self._step(
            Department.PROVIDENT_FUND,
            "read the fund account",
            ProvidentFundActivities.account,
            query,
        )
        if account is None:
            return self._fail_item(item, "the fund account could not be read")
        if not account.found:
            self._set_item(item, ItemStatus.NOT_APPLICABLE, "no provident fund account")
            return
        self._set_item(item, ItemStatus.WAITING, "withdrawal awaiting the fund centre")
        task = self._open_task(
            TaskKind.FUND_WITHDRAWAL,
            "approve the retirement withdrawal (提取住房公积金)",
            Assignee.CLERK,
            department=Department.PROVIDENT_FUND,
            detail=f"balance {account.balance} yuan to card ****{account.card_last4 or '?'}",
        )
        decision = await self._decision_on(task)
        if decision is None:
            return
        if decision.outcome is not Outcome.APPROVE:
            self._set_item(item, ItemStatus.REFUSED, decision.reason or "")
            return
        payout = await self._step(
            Department.PROVIDENT_FUND,
            "withdraw and close",
            ProvidentFundActivities.withdraw_and_close,
            FundWithdrawal(
                idempotency_key=f"{self._case_id}:fund-withdrawal",
                case_id=self._case_id,
                id_number=self._person.id_number,
                approved_by=decision.actor,
            ),
        )
        if payout is None:
            return self._fail_item(item, "the withdrawal was refused")
        self._fund = FundResult(
            amount=payout.amount, payout_id=payout.payout_id, card_last4=payout.card_last4
        )
        self._set_item(item, ItemStatus.DONE, f"{payout.amount} yuan paid out, account closed")

    async def _health_branch(self) -> None:
        item = ItemKey.ONE_CHILD_REWARD
        info = self._declaration.one_child if self._declaration else None
        if info is None:
            self._set_item(item, ItemStatus.NOT_APPLICABLE, "no one-child certificate declared")
            return
        notice = one_child_reward_notice(
            holds_certificate=info.holds_certificate,
            child_birth_date=info.child_birth_date,
            further_children=info.further_children,
            registered_in_province=info.registered_in_province,
            policy=self._policy,
        )
        recorded = await self._step(
            Department.HEALTH,
            "record the reward notice",
            HealthCommissionActivities.record_reward_notice,
            RewardNoticeRecord(
                idempotency_key=f"{self._case_id}:one-child-notice",
                case_id=self._case_id,
                id_number=self._person.id_number,
                concerns=notice.concerns,
            ),
        )
        if recorded is None:
            return self._fail_item(item, "the reward notice could not be recorded")
        if not notice.concerns:
            reasons = "; ".join(r.reason for r in notice.refusals)
            self._set_item(item, ItemStatus.NOT_APPLICABLE, reasons)
            return
        await self._notify(
            "individual",
            self._input.person_key,
            "one-child-reward",
            "城镇独生子女父母奖励金: policy, channel and procedure",
            "\n".join([notice.policy_text, notice.channel, *notice.procedure]),
            key="one-child-reward",
        )
        self._set_item(item, ItemStatus.DONE, "policy, channel and procedure shown")

    # ---- department steps ---------------------------------------------------------------

    async def _step(
        self, department: Department, step: str, method: Callable[[Any, A], R], arg: A
    ) -> R | None:
        """Run a department step; a business refusal becomes a task for that department's clerk,
        who either has it fixed and approves (the step runs again) or rejects (``None``)."""
        while not self._stage.terminal:
            try:
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
                # must not act on its result then.
                return None if self._stage.terminal else result
            if self._stage.terminal:
                return None
            task = self._open_task(
                TaskKind.DEPARTMENT_ISSUE,
                f"{department} refused '{step}': resolve, then approve to retry",
                Assignee.CLERK,
                department=department,
                step=step,
                detail=info.reason,
            )
            decision = await self._decision_on(task)
            if decision is None or decision.outcome is not Outcome.APPROVE:
                return None
        return None

    async def _household(self, step: HouseholdStep) -> bool:
        """Public security checks the household registration at this step."""
        item = ItemKey.HOUSEHOLD
        self._set_item(item, ItemStatus.IN_PROGRESS, f"checking at {step}")
        result = await self._step(
            Department.PUBLIC_SECURITY,
            f"household check at {step}",
            PublicSecurityActivities.verify_household,
            HouseholdCheck(
                case_id=self._case_id,
                step=step,
                id_number=self._person.id_number,
                name=self._person.name,
                region_code=self._person.region_code,
            ),
        )
        if result is None:
            if not self._stage.terminal:
                self._fail_item(item, f"check at {step} could not be made")
                self._close(Stage.REJECTED, "household registration could not be checked")
            return False
        if result.matches:
            self._set_item(item, ItemStatus.DONE, f"verified at {step}")
            return True
        self._set_item(item, ItemStatus.WAITING, f"mismatch at {step}: {result.detail}")
        task = self._open_task(
            TaskKind.HOUSEHOLD_REVIEW,
            f"household registration mismatch at {step}",
            Assignee.CLERK,
            department=Department.PUBLIC_SECURITY,
            detail=result.detail,
        )
        decision = await self._decision_on(task)
        if decision is None:
            return False
        if decision.outcome is Outcome.APPROVE:
            self._set_item(item, ItemStatus.DONE, f"confirmed by public security at {step}")
            return True
        self._set_item(item, ItemStatus.REFUSED, decision.reason or "")
        self._close(Stage.REJECTED, f"household registration not confirmed: {decision.reason}")
        return False

    async def _contribution_status(self) -> ContributionStatus | None:
        return await self._step(
            Department.SOCIAL_INSURANCE,
            "read the contribution record",
            SocialInsuranceActivities.contribution_status,
            PersonQuery(case_id=self._case_id, id_number=self._person.id_number),
        )

    async def _settle(self, task: Task) -> bool:
        assert task.problem is not None
        if task.status is not TaskStatus.DONE or task.closed_by is None:
            return True  # cancelled with the case
        receipt = await self._step(
            Department.SOCIAL_INSURANCE,
            f"settle {task.problem.kind}",
            SocialInsuranceActivities.settle,
            SettleCommand(
                idempotency_key=f"{self._case_id}:settle:{task.id}",
                case_id=self._case_id,
                id_number=self._person.id_number,
                problem=task.problem,
                note=task.reason or "",
                actor=task.closed_by,
            ),
        )
        if receipt is None:
            self._close_if_open(Stage.REJECTED, f"{task.problem.kind} could not be settled")
            return False
        return True

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

    # ---- timers --------------------------------------------------------------------------

    def _pending(self) -> list[Timer]:
        return pending_timers(
            stage=self._stage,
            timeline=self._timeline,
            tasks=self._tasks.values(),
            fired=self._fired,
            schedule_from=self._schedule_from,
        )

    def _timer_changed(self, key: str) -> bool:
        return self._draining or self._stage.terminal or self._next_key() != key

    def _next_key(self) -> str | None:
        pending = self._pending()
        return pending[0].key if pending else None

    async def _keep_time(self) -> None:
        """Sleep until the earliest pending timer and fire it; wake early when it changes."""
        while not self._draining and not self._stage.terminal:
            pending = self._pending()
            if not pending:
                await workflow.wait_condition(
                    lambda: self._draining or self._stage.terminal or bool(self._pending())
                )
                continue
            timer = pending[0]
            delay = (timer.at - workflow.now()).total_seconds()
            if delay > 0:
                try:
                    await workflow.wait_condition(
                        partial(self._timer_changed, timer.key),
                        timeout=timedelta(seconds=delay),
                        timeout_summary=timer.summary,
                    )
                    continue  # something changed: look again
                except TimeoutError:
                    pass
            await self._fire(timer)

    async def _fire(self, timer: Timer) -> None:
        self._fired.add(timer.key)
        self._bump()
        if timer.kind is TimerKind.REMINDER:
            assert timer.milestone is not None
            for role, recipient in self._who_must_act(timer.milestone):
                await self._notify(
                    role,
                    recipient,
                    "reminder",
                    f"{timer.milestone} due {timer.due}",
                    key=f"{timer.key}:{recipient}",
                )
            self._reminders_sent += 1
            self._event(f"reminder sent: {timer.milestone} due {timer.due}", SYSTEM)
        elif timer.kind is TimerKind.WINDOW_OPENS:
            for role, recipient in self._who_must_act(Milestone.INITIATION):
                await self._notify(
                    role,
                    recipient,
                    "window-opens",
                    f"The joint application can be initiated until {timer.due}",
                    key=f"{timer.key}:{recipient}",
                )
            self._event("initiation window opened", SYSTEM)
        elif timer.kind is TimerKind.ESCALATION:
            assert timer.milestone is not None
            self._overdue.add(timer.milestone)
            await self._escalate(
                _MILESTONE_DEPARTMENT[timer.milestone],
                f"{timer.milestone} was due {timer.due} and is not done",
                key=timer.key,
            )
        else:
            assert timer.task_id is not None
            task = self._tasks[timer.task_id]
            self._tasks[task.id] = task.model_copy(update={"escalated": True})
            assert task.department is not None
            await self._escalate(
                task.department,
                f"{task.kind} {task.id} was due {task.due} (working-day deadline)",
                key=timer.key,
                task_id=task.id,
            )

    async def _escalate(
        self, department: Department, reason: str, *, key: str, task_id: str | None = None
    ) -> None:
        escalation = Escalation(
            id=f"esc-{len(self._escalations) + 1}",
            at=workflow.now(),
            department=department,
            reason=reason,
            task_id=task_id,
        )
        self._escalations.append(escalation)
        self._event(f"escalated to {department} supervisors: {reason}", SYSTEM)
        await self._notify(
            "supervisor",
            f"{department}@{self._person.region_code}",
            "escalation",
            reason,
            key=key,
        )

    def _who_must_act(self, milestone: Milestone) -> list[tuple[str, str]]:
        """Recipients of a milestone's reminder: whoever holds an open task towards it."""
        recipients: list[tuple[str, str]] = []
        for task in self._open_tasks():
            if task.assignee is Assignee.CLERK and task.department is not None:
                recipients.append(("clerk", f"{task.department}@{self._person.region_code}"))
            elif task.assignee is Assignee.ORGANISATION and task.organisation:
                recipients.append(("organisation", task.organisation))
            elif task.assignee is Assignee.INDIVIDUAL:
                recipients.append(("individual", self._input.person_key))
        if not recipients and milestone is Milestone.DECLARATION:
            recipients.append(("organisation", self._person.organisation))
        return sorted(set(recipients))

    # ---- projection ------------------------------------------------------------------------

    async def _keep_projection(self) -> None:
        """Write each new version to the read model; coalesces bursts into one write."""
        while True:
            await workflow.wait_condition(
                lambda: (
                    self._version > self._projected_version
                    or (self._draining and workflow.all_handlers_finished())
                )
            )
            if self._version <= self._projected_version:
                return
            version = self._version
            snapshot = self._snapshot()
            audit = list(self._audit)
            self._publish(snapshot)
            await workflow.execute_local_activity_method(
                ReadModelActivities.project,
                Projection(
                    case_id=self._case_id,
                    person_key=self._input.person_key,
                    id_number=self._person.id_number,
                    snapshot=snapshot,
                    audit=audit,
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=DEPARTMENT_RETRY,
                summary=f"read model: version {version}",
            )
            self._projected_version = version
            del self._audit[: len(audit)]

    def _publish(self, snapshot: CaseSnapshot) -> None:
        """Search attributes and the Temporal UI's current details (no personal data)."""
        if self._input.search_attributes:
            pending = sorted({t.department for t in snapshot.open_tasks() if t.department})
            dues = [t.due for t in snapshot.open_tasks() if t.due is not None]
            updates: list[SearchAttributeUpdate[Any]] = [
                search.STAGE.value_set(snapshot.stage.value),
                search.REGION.value_set(snapshot.region_code),
                search.PENDING_DEPARTMENTS.value_set([d.value for d in pending]),
                search.RETIREMENT_MONTH.value_set(str(snapshot.deadlines.retirement_month)),
                search.OVERDUE.value_set(self._is_overdue()),
            ]
            if dues:
                updates.append(
                    search.NEXT_DEADLINE.value_set(
                        datetime.combine(min(dues), datetime.min.time(), CHINA_TZ)
                    )
                )
            else:
                updates.append(search.NEXT_DEADLINE.value_unset())
            workflow.upsert_search_attributes(updates)
        workflow.set_current_details(self._details_markdown(snapshot))

    def _is_overdue(self) -> bool:
        return bool(self._overdue) or any(t.escalated for t in self._open_tasks())

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
                due = f", due {t.due}" if t.due else ""
                flag = " ⚠ escalated" if t.escalated else ""
                lines.append(f"- {t.id} ({who}{due}){flag}: {t.title}")
        if snapshot.overdue:
            lines += ["", f"Overdue: {', '.join(snapshot.overdue)}"]
        if snapshot.closed_reason:
            lines += ["", f"Closed: {snapshot.closed_reason}"]
        return "\n".join(lines)

    # ---- updates, signal and query --------------------------------------------------------

    @workflow.query
    def progress(self) -> CaseSnapshot:
        return self._snapshot()

    @workflow.query
    def status(self) -> CaseStatus:
        """The short form an update answers with."""
        return self._status()

    @workflow.update
    def decide(self, decision: Decision) -> CaseStatus:
        self._apply_decision(decision, via="update")
        return self._status()

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        self._check_decision(decision)

    @workflow.signal
    def decide_signal(self, decision: Decision) -> None:
        """The same decision for tooling that can only signal; at-least-once, so de-duplicated,
        and a refused one is recorded rather than applied."""
        if decision.request_id in self._processed:
            return
        try:
            self._check_decision(decision)
        except ApplicationError as refused:
            self._event(f"signalled decision refused: {refused.message}", decision.actor)
            self._audit_entry(
                decision.actor, "decide", f"{decision.task_id}: {decision.outcome}", "refused"
            )
            self._bump()
            return
        self._apply_decision(decision, via="signal")

    @workflow.update
    def declare(self, request: Declare) -> CaseStatus:
        self._accept_declaration(request.declaration, request.actor, request.request_id)
        return self._status()

    @declare.validator
    def _validate_declare(self, request: Declare) -> None:
        self._check_fresh(request.request_id)
        if self._stage is not Stage.AWAITING_DECLARATION:
            raise _refuse(RefusalType.WRONG_STAGE, f"the case is already {self._stage}")
        self._check_party(request.actor, organisation_only=True)
        self._check_plan(request.declaration)

    @workflow.update
    def resubmit(self, request: Resubmit) -> CaseStatus:
        task = self._open_tasks(TaskKind.CORRECT)[0]
        self._change_plan(declaration=request.declaration)
        self._close_task(task, TaskStatus.DONE, Outcome.APPROVE, request.actor, "resubmitted")
        self._record(request.request_id, request.actor, "resubmit", self._plan_summary())
        return self._status()

    @resubmit.validator
    def _validate_resubmit(self, request: Resubmit) -> None:
        self._check_fresh(request.request_id)
        if not self._open_tasks(TaskKind.CORRECT):
            raise _refuse(RefusalType.WRONG_STAGE, "nothing was returned for correction")
        self._check_party(request.actor, organisation_only=True)
        self._check_plan(request.declaration)

    @workflow.update
    def settle(self, request: Settle) -> CaseStatus:
        task = self._tasks[request.task_id]
        self._close_task(task, TaskStatus.DONE, Outcome.APPROVE, request.actor, request.note)
        self._record(request.request_id, request.actor, "settle", f"{task.id}: {request.note}")
        return self._status()

    @settle.validator
    def _validate_settle(self, request: Settle) -> None:
        self._check_fresh(request.request_id)
        task = self._tasks.get(request.task_id)
        if task is None or task.status is not TaskStatus.OPEN:
            raise _refuse(RefusalType.STALE, f"task {request.task_id} is not open")
        if task.kind is not TaskKind.SETTLE_CONTRIBUTIONS:
            raise _refuse(RefusalType.INVALID, f"task {task.id} is not a contribution problem")
        self._check_party(request.actor, organisation_only=False)

    @workflow.update
    def initiate(self, request: Initiate) -> CaseStatus:
        for task in self._open_tasks(TaskKind.INITIATE):
            self._close_task(task, TaskStatus.DONE, Outcome.APPROVE, request.actor, "initiated")
        self._overdue.discard(Milestone.INITIATION)
        self._record(request.request_id, request.actor, "initiate", "joint application")
        self._set_stage(Stage.JOINT_HANDLING)
        return self._status()

    @initiate.validator
    def _validate_initiate(self, request: Initiate) -> None:
        self._check_fresh(request.request_id)
        if self._stage in (Stage.JOINT_HANDLING, *(s for s in Stage if s.terminal)):
            raise _refuse(RefusalType.WRONG_STAGE, f"the case is already {self._stage}")
        if self._stage is not Stage.AWAITING_INITIATION:
            raise _refuse(
                RefusalType.NOT_YET,
                f"the case is in {self._stage}: initiation follows the contribution check",
            )
        opens = self._timeline.initiation_opens
        if self._today() < opens:
            raise _refuse(RefusalType.NOT_YET, f"the initiation window opens on {opens}")
        actor = request.actor
        if self._person.has_employer:
            self._check_party(actor, organisation_only=True)
        elif not self._is_the_person(actor) and not self._at_hr_counter(actor):
            raise _refuse(
                RefusalType.FORBIDDEN,
                "a person without an employer initiates the joint application themself",
            )

    @workflow.update
    def withdraw(self, request: Withdraw) -> CaseStatus:
        self._record(request.request_id, request.actor, "withdraw", request.reason)
        self._close(Stage.WITHDRAWN, f"withdrawn: {request.reason}")
        return self._status()

    @withdraw.validator
    def _validate_withdraw(self, request: Withdraw) -> None:
        self._check_fresh(request.request_id)
        self._check_open()
        if self._stage is Stage.JOINT_HANDLING:
            raise _refuse(
                RefusalType.WRONG_STAGE,
                "joint handling has begun: ask the HR bureau to cancel the case",
            )
        self._check_party(request.actor, organisation_only=False)

    @workflow.update
    def cancel(self, request: Cancel) -> CaseStatus:
        self._record(request.request_id, request.actor, "cancel", request.reason)
        self._close(Stage.CANCELLED, f"cancelled: {request.reason}")
        return self._status()

    @cancel.validator
    def _validate_cancel(self, request: Cancel) -> None:
        self._check_fresh(request.request_id)
        self._check_open()
        actor = request.actor
        if actor.role not in (Role.CLERK, Role.SUPERVISOR, Role.ADMIN):
            raise _refuse(RefusalType.FORBIDDEN, "only HR clerks and supervisors cancel a case")
        if actor.role is not Role.ADMIN and actor.department is not Department.HR:
            raise _refuse(RefusalType.WRONG_DEPARTMENT, "only the HR bureau cancels a case")
        self._check_region(actor)

    @workflow.update
    def correct_retirement(self, request: CorrectRetirement) -> CaseStatus:
        before = self._plan.retirement_month
        self._change_plan(category=request.category, declaration=request.declaration)
        self._record(
            request.request_id,
            request.actor,
            "correct-retirement",
            f"{before} → {self._plan.retirement_month}: {request.reason}",
        )
        return self._status()

    @correct_retirement.validator
    def _validate_correct_retirement(self, request: CorrectRetirement) -> None:
        self._check_fresh(request.request_id)
        self._check_open()
        if self._stage is Stage.JOINT_HANDLING:
            raise _refuse(RefusalType.WRONG_STAGE, "the retirement is approved already")
        actor = request.actor
        if request.category is not None or (
            request.declaration is not None
            and request.declaration.archive_birth_month
            != (self._declaration.archive_birth_month if self._declaration else None)
        ):
            # Data corrections (category, the archive's birth month) are HR's to make.
            if actor.role not in (Role.CLERK, Role.SUPERVISOR) or actor.department is not (
                Department.HR
            ):
                raise _refuse(RefusalType.FORBIDDEN, "data corrections are made by HR clerks")
            self._check_region(actor)
        elif actor.role in (Role.CLERK, Role.SUPERVISOR):
            if actor.department is not Department.HR:
                raise _refuse(RefusalType.WRONG_DEPARTMENT, "corrections are HR's")
            self._check_region(actor)
        else:
            self._check_party(actor, organisation_only=False)
        category = request.category or self._category
        if category_gender(category, self._policy) is not self._person.gender:
            raise _refuse(
                RefusalType.INVALID, f"category {category} does not fit the person's gender"
            )
        declaration = request.declaration or self._declaration
        self._check_plan(declaration, category)

    # ---- checks (validators: read only, raise to refuse) ---------------------------------------

    def _check_fresh(self, request_id: str) -> None:
        if request_id in self._processed:
            raise _refuse(RefusalType.DUPLICATE, f"request {request_id} was applied already")

    def _check_open(self) -> None:
        if self._stage.terminal:
            raise _refuse(RefusalType.CLOSED, f"the case is {self._stage}")

    def _check_region(self, actor: Actor) -> None:
        if actor.region is None or not region_covers(actor.region, self._person.region_code):
            raise _refuse(
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
                raise _refuse(
                    RefusalType.WRONG_ORGANISATION, "this case belongs to another organisation"
                )
            return
        if self._at_hr_counter(actor):
            return
        if not organisation_only and self._is_the_person(actor):
            return
        raise _refuse(RefusalType.FORBIDDEN, f"a {actor.role} may not do this on this case")

    def _check_plan(
        self, declaration: Declaration | None, category: Category | None = None
    ) -> None:
        plan = plan_for(self._birth_month, category or self._category, declaration, self._policy)
        if not plan.accepted:
            raise _refuse(
                RefusalType.RULES, "; ".join(f"{r.rule}: {r.reason}" for r in plan.refusals)
            )

    def _check_decision(self, decision: Decision) -> None:
        self._check_fresh(decision.request_id)
        self._check_open()
        task = self._tasks.get(decision.task_id)
        if task is None:
            raise _refuse(RefusalType.STALE, f"no task {decision.task_id} on this case")
        if task.status is not TaskStatus.OPEN:
            raise _refuse(RefusalType.STALE, f"task {task.id} is {task.status} already")
        if task.kind in _PARTY_TASKS:
            raise _refuse(RefusalType.INVALID, f"task {task.id} is not decided by a clerk")
        actor = decision.actor
        if actor.role not in (Role.CLERK, Role.SUPERVISOR):
            raise _refuse(RefusalType.FORBIDDEN, "decisions are made by clerks")
        if actor.department is not task.department:
            raise _refuse(
                RefusalType.WRONG_DEPARTMENT, f"task {task.id} belongs to {task.department}"
            )
        self._check_region(actor)
        if decision.outcome is Outcome.RETURN and task.kind not in _RETURNABLE:
            raise _refuse(RefusalType.INVALID, f"a {task.kind} task cannot be returned")
        if decision.deemed_years is not None and task.kind is not TaskKind.CONFIRM_MEDICAL_YEARS:
            raise _refuse(RefusalType.INVALID, "deemed years are confirmed on the medical task")

    # ---- state changes ---------------------------------------------------------------------

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
                detail=detail,
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
    ) -> Task:
        self._task_counter += 1
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
            title=title,
            assignee=assignee,
            department=department,
            organisation=organisation,
            opened_at=workflow.now(),
            due=due,
            due_estimated=estimated,
            problem=problem,
            step=step,
            detail=detail,
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
        self._stage = stage
        # Reminders are for what can still be done on time from here: those whose date passed
        # before this stage are not sent late (escalations still fire).
        self._schedule_from = workflow.now()
        self._event(f"stage: {stage}", SYSTEM)
        self._bump()

    def _close(self, stage: Stage, reason: str) -> None:
        for task in self._open_tasks():
            self._close_task(task, TaskStatus.CANCELLED, None, SYSTEM, f"case {stage}")
        self._closed_reason = reason
        self._set_stage(stage)

    def _close_if_open(self, stage: Stage, reason: str) -> None:
        if not self._stage.terminal:
            self._close(stage, reason)

    def _set_item(self, key: ItemKey, status: ItemStatus, detail: str) -> None:
        if status in _FINAL_ITEM_STATUSES and key in self._items:
            self._event(f"item {key}: {status}" + (f" ({detail})" if detail else ""), SYSTEM)
        self._items[key] = Item(
            key=key,
            department=ITEM_DEPARTMENT[key],
            status=status,
            detail=detail,
            updated_at=workflow.now(),
        )
        self._bump()

    def _fail_item(self, key: ItemKey, detail: str) -> None:
        if not self._stage.terminal:
            self._set_item(key, ItemStatus.FAILED, detail)

    def _event(self, text: str, actor: Actor) -> None:
        self._events.append(
            CaseEvent(at=workflow.now(), stage=self._stage, event=text, actor=actor.label())
        )
        del self._events[:-MAX_EVENTS_KEPT]
        self._bump()

    def _bump(self) -> None:
        self._version += 1

    # ---- views -------------------------------------------------------------------------------

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
        return text

    def _contribution_summary(self, status: ContributionStatus) -> str:
        needed = min_contribution_years(self._plan.retirement_month.year, self._policy)
        years = status.actual_years + status.deemed_years
        shortfall = max(Decimal(0), needed - years)
        text = f"record {status.status}: {years} years ({needed} needed)"
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


def _refusal(err: ActivityError) -> DepartmentRefusalInfo | None:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == DEPARTMENT_REFUSAL:
        details = cause.details
        if details and isinstance(details[0], DepartmentRefusalInfo):
            return details[0]
        return DepartmentRefusalInfo.model_validate(details[0]) if details else None
    return None
