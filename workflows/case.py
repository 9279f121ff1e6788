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
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.errors import DEPARTMENT_REFUSAL
    from activities.health_commission import HealthCommissionActivities
    from activities.hr import HrActivities
    from activities.medical_security import MedicalSecurityActivities
    from activities.provident_fund import ProvidentFundActivities
    from activities.public_security import PublicSecurityActivities
    from activities.read_model import load_current_policy
    from activities.social_insurance import SocialInsuranceActivities
    from contracts.case import (
        SYSTEM,
        Declaration,
        Department,
        Role,
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
        PensionAward,
        PersonQuery,
        PrereviewPush,
        RetireeSwitch,
        RewardNoticeRecord,
        SettleCommand,
    )
    from contracts.workflow import (
        Assignee,
        Cancel,
        CaseEvent,
        CaseInput,
        CaseOutcome,
        CaseSnapshot,
        CaseStatus,
        ContributionStatus,
        CorrectRetirement,
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
    from domain.medical import medical_retiree_check
    from domain.one_child import one_child_reward_notice
    from domain.pension import PensionInputError, estimate_pension
    from domain.plan import RetirementPath
    from domain.policy import Policy
    from domain.statutory import category_gender
    from domain.timeline import (
        Milestone,
        working_calendar,
    )
    from workflows import issues
    from workflows.issues import ESCALATE_AFTER, ISSUE_ESCALATION, IfRejected, issue_title


from workflows.checks import CaseChecks
from workflows.ledger import (
    DEPARTMENT_RETRY,
    STEP_TIMEOUT,
    A,
    R,
    clip,
    plan_for,
    refuse,
)
from workflows.projection import Projecting
from workflows.timekeeping import Timekeeping

# Patch id (docs/versioning.md): cases started before it ask public security again at every
# check that finds a mismatch, even one its clerk has confirmed.
HOUSEHOLD_CONFIRMED_ONCE = "household-confirmed-once-2026-12"
# Patch id: cases pre-reviewed before it record no recognised deemed years; their contribution
# check and pension count social insurance's record of them.
RECOGNISED_DEEMED_YEARS = "recognised-deemed-years-2026-12"

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


__all__ = ["RetirementCase", "plan_for"]


@workflow.defn
class RetirementCase(Timekeeping, Projecting, CaseChecks):
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
            self._deemed_years: Decimal | None = None
            self._household_confirmed: str | None = None
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
        self._published = {}  # search attributes upserted by this run (workflows/projection.py)
        self._draining = False
        self._replan()
        if state is None:
            self._start_items()
            self._event("case opened", SYSTEM)
            if input.declaration is not None:
                self._accept_declaration(
                    input.declaration, input.declared_by or SYSTEM, input.request_id
                )

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
            assert self._declaration is not None  # pre-review follows a declaration
            if workflow.patched(RECOGNISED_DEEMED_YEARS):
                # Item 2 is HR's recognition of the deemed years: the figure approved here (the
                # clerk's correction, or the declared one confirmed) is the one the check and
                # the pension use. Patched: a case pre-reviewed before kept social insurance's
                # record for both, and replaying it must compute the pension it confirmed.
                self._deemed_years = (
                    self._declaration.deemed_years
                    if decision.deemed_years is None
                    else decision.deemed_years
                )
            if not await self._household(HouseholdStep.PRE_REVIEW):
                return
            receipt = await self._step(
                Department.SOCIAL_INSURANCE,
                "receive pre-review data",
                SocialInsuranceActivities.receive_prereview,
                PrereviewPush(
                    idempotency_key=f"{self._case_id}:prereview:{task.id}",
                    case_id=self._case_id,
                    person=self._person,
                    declaration=self._recognised_declaration(),
                    retirement_month=self._plan.retirement_month,
                ),
                if_rejected=issues.PREREVIEW_PUSH,
            )
            if receipt is None:
                return self._close_if_open(Stage.REJECTED, "pre-review data could not be pushed")
            self._set_item(
                ItemKey.PENSION_DEEMED_YEARS, ItemStatus.DONE, self._deemed_years_recognised()
            )
            for key in (ItemKey.SPECIAL_JOB_EARLY, ItemKey.ILLNESS_EARLY):
                if self._items[key].status is not ItemStatus.NOT_APPLICABLE:
                    self._set_item(key, ItemStatus.DONE, "approved at pre-review")
            self._set_item(ItemKey.PENSION_ELIGIBILITY, ItemStatus.IN_PROGRESS, "pre-review passed")
            self._set_stage(Stage.CONTRIBUTION_CHECK)

    async def _contribution_check(self) -> None:
        while self._stage is Stage.CONTRIBUTION_CHECK:
            status = await self._contribution_status(issues.CONTRIBUTION_RECORD)
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
            if_rejected=issues.APPROVAL_RECORD,
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
            if_rejected=issues.RETIREE_SWITCH,
        )
        if switched is None:
            return self._fail_item(item, "the switch to retiree status was refused")
        while not self._stage.terminal:
            status = await self._contribution_status(issues.PENSION_RECORD)
            if status is None:
                return self._fail_item(item, "no contribution record to calculate from")
            month = self._plan.retirement_month
            age = month.months_since(self._plan_birth_month())
            deemed = self._deemed_years_for(status)
            try:
                estimate = estimate_pension(
                    retirement_month=month,
                    age_years=age // 12,
                    age_months=age % 12,
                    contribution_index=status.contribution_index,
                    actual_years=status.actual_years,
                    deemed_years=deemed,
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
                deemed_years=deemed,
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
                    f"divisor {estimate.divisor}; {status.actual_years} actual + {deemed} "
                    f"deemed years; paid from {pension.first_month}"
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
                money=True,
                if_rejected=issues.PENSION_AWARD,
            )
            if award is None:
                return self._fail_item(item, "the pension award was refused")
            self._pension = pension.model_copy(update={"award_id": award.reference})
            self._money_after_close(f"pension award {award.reference}", Department.SOCIAL_INSURANCE)
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
        record = await self._step(
            Department.MEDICAL,
            "read the medical insurance record",
            MedicalSecurityActivities.medical_record,
            self._person_query(),
            if_rejected=issues.MEDICAL_RECORD,
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
            if_rejected=issues.MEDICAL_STATUS,
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
        account = await self._step(
            Department.PROVIDENT_FUND,
            "read the fund account",
            ProvidentFundActivities.account,
            self._person_query(),
            if_rejected=issues.FUND_ACCOUNT,
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
            money=True,
            if_rejected=issues.FUND_WITHDRAWAL,
        )
        if payout is None:
            return self._fail_item(item, "the withdrawal was refused")
        self._money_after_close(f"fund payout {payout.payout_id}", Department.PROVIDENT_FUND)
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
            if_rejected=issues.REWARD_NOTICE,
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

    async def _step(
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
        attempt = 0
        last_reason: str | None = None
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
                # must not act on its result then — unless money moved, which the case must
                # show whatever happened meanwhile.
                return result if money or not self._stage.terminal else None
            if self._stage.terminal:
                return None
            # Counted in this loop: the step's refusals in a row, for the same reason (a new
            # reason means the clerk's fix changed something, so the count starts again).
            attempt = attempt + 1 if info.reason == last_reason else 1
            last_reason = info.reason
            task = await self._department_issue(department, step, info.reason, attempt, if_rejected)
            decision = await self._decision_on(task)
            if decision is None or decision.outcome is not Outcome.APPROVE:
                return None
        return None

    async def _department_issue(
        self, department: Department, step: str, reason: str, attempt: int, if_rejected: IfRejected
    ) -> Task:
        """The task for a refused step; from the ESCALATE_AFTER-th identical refusal in a row it
        is escalated to the department's supervisors, who alone decide it (``_check_decision``):
        a clerk approving again without a fix would only mint the same task again."""
        escalate = attempt >= ESCALATE_AFTER and workflow.patched(ISSUE_ESCALATION)
        task = self._open_task(
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
            await self._escalate(
                department,
                clip(f"{department} refused '{step}' {attempt} times in a row: {reason}", 500),
                key=f"department-issue:{task.id}",
                task_id=task.id,
            )
        return task

    def _recognised_declaration(self) -> Declaration:
        """The declaration as pre-review approved it: social insurance receives the deemed years
        HR recognised, so its record and the case hold one figure."""
        assert self._declaration is not None
        if self._deemed_years is None:
            return self._declaration
        return self._declaration.model_copy(update={"deemed_years": self._deemed_years})

    def _deemed_years_recognised(self) -> str:
        """Item 2's result in words, saying when the clerk corrected the declared figure."""
        assert self._declaration is not None
        declared = self._declaration.deemed_years
        recognised = declared if self._deemed_years is None else self._deemed_years
        text = f"{recognised} deemed years recognised at pre-review"
        if recognised != declared:
            text += f" (corrected from {declared} declared)"
        return text

    def _person_query(self) -> PersonQuery:
        """The person, as a department's read steps look them up."""
        return PersonQuery(case_id=self._case_id, id_number=self._person.id_number)

    def _money_after_close(self, what: str, department: Department) -> None:
        if self._stage.terminal:
            self._event(
                f"{what} completed after the case was {self._stage}: {department} must undo it "
                "through its own procedure",
                SYSTEM,
            )

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
            if_rejected=issues.HOUSEHOLD_CHECK[step],
        )
        if result is None:
            if not self._stage.terminal:
                self._fail_item(item, f"check at {step} could not be made")
                self._close(Stage.REJECTED, "household registration could not be checked")
            return False
        if result.matches:
            # A match is a new answer: a mismatch at a later check is asked about again.
            self._household_confirmed = None
            self._set_item(item, ItemStatus.DONE, f"verified at {step}")
            return True
        answer = clip(result.detail)
        if self._household_confirmed == answer and workflow.patched(HOUSEHOLD_CONFIRMED_ONCE):
            # A public security clerk confirmed this very answer at an earlier check: asking at
            # every later check only put the same question to them again. A different answer
            # (or a match in between) is asked about as usual.
            self._set_item(
                item, ItemStatus.DONE, f"mismatch at {step} as confirmed before: {result.detail}"
            )
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
            self._household_confirmed = answer
            self._set_item(item, ItemStatus.DONE, f"confirmed by public security at {step}")
            return True
        self._set_item(item, ItemStatus.REFUSED, decision.reason or "")
        self._close(Stage.REJECTED, f"household registration not confirmed: {decision.reason}")
        return False

    async def _contribution_status(self, if_rejected: IfRejected) -> ContributionStatus | None:
        return await self._step(
            Department.SOCIAL_INSURANCE,
            "read the contribution record",
            SocialInsuranceActivities.contribution_status,
            self._person_query(),
            if_rejected=if_rejected,
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
            if_rejected=issues.SETTLEMENT,
        )
        if receipt is None:
            self._close_if_open(Stage.REJECTED, f"{task.problem.kind} could not be settled")
            return False
        return True

    async def _until_state(self, ready: Callable[[], bool]) -> None:
        """Wait until ``ready`` holds (see the note above the update handlers); never yields when
        it holds already, so the commands of a history recorded without it are unchanged."""
        if not ready():
            await workflow.wait_condition(ready)

    @workflow.query
    def progress(self) -> CaseSnapshot:
        return self._snapshot()

    @workflow.query
    def status(self) -> CaseStatus:
        """The short form an update answers with."""
        return self._status()

    # The update handlers below wait for the state their validator checked instead of indexing
    # it. Live, a validator and its handler see the same state. Replaying, the SDK may deliver
    # an update in the same activation as the event that created that state (a step's result
    # opening the task) and runs the update first (docs/reliability.md); the handler then waits
    # for the event's effect. On the fast path they do not yield, so every recorded history
    # replays as before.

    @workflow.update
    async def decide(self, decision: Decision) -> CaseStatus:
        await self._until_state(lambda: decision.task_id in self._tasks)
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
        # Who may act is checked before the state: a stranger learns nothing of the case.
        self._check_party(request.actor, organisation_only=True)
        if self._stage is not Stage.AWAITING_DECLARATION:
            raise refuse(
                RefusalType.WRONG_STAGE, f"the case has been declared (stage: {self._stage})"
            )
        self._check_plan(request.declaration)

    @workflow.update
    async def resubmit(self, request: Resubmit) -> CaseStatus:
        await self._until_state(lambda: bool(self._open_tasks(TaskKind.CORRECT)))
        task = self._open_tasks(TaskKind.CORRECT)[0]
        self._change_plan(declaration=request.declaration)
        self._close_task(task, TaskStatus.DONE, Outcome.APPROVE, request.actor, "resubmitted")
        self._record(request.request_id, request.actor, "resubmit", self._plan_summary())
        return self._status()

    @resubmit.validator
    def _validate_resubmit(self, request: Resubmit) -> None:
        self._check_fresh(request.request_id)
        if not self._open_tasks(TaskKind.CORRECT):
            raise refuse(RefusalType.WRONG_STAGE, "nothing was returned for correction")
        self._check_party(request.actor, organisation_only=True)
        self._check_plan(request.declaration)

    @workflow.update
    async def settle(self, request: Settle) -> CaseStatus:
        await self._until_state(lambda: request.task_id in self._tasks)
        task = self._tasks[request.task_id]
        self._close_task(task, TaskStatus.DONE, Outcome.APPROVE, request.actor, request.note)
        self._record(request.request_id, request.actor, "settle", f"{task.id}: {request.note}")
        return self._status()

    @settle.validator
    def _validate_settle(self, request: Settle) -> None:
        self._check_fresh(request.request_id)
        task = self._tasks.get(request.task_id)
        if task is None or task.status is not TaskStatus.OPEN:
            raise refuse(RefusalType.STALE, f"task {request.task_id} is not open")
        if task.kind is not TaskKind.SETTLE_CONTRIBUTIONS:
            raise refuse(RefusalType.INVALID, f"task {task.id} is not a contribution problem")
        self._check_party(request.actor, organisation_only=False)

    @workflow.update
    async def initiate(self, request: Initiate) -> CaseStatus:
        await self._until_state(lambda: self._stage is Stage.AWAITING_INITIATION)
        for task in self._open_tasks(TaskKind.INITIATE):
            self._close_task(task, TaskStatus.DONE, Outcome.APPROVE, request.actor, "initiated")
        self._overdue.discard(Milestone.INITIATION)
        self._record(request.request_id, request.actor, "initiate", "joint application")
        self._set_stage(Stage.JOINT_HANDLING)
        return self._status()

    @initiate.validator
    def _validate_initiate(self, request: Initiate) -> None:
        self._check_fresh(request.request_id)
        actor = request.actor
        if self._person.has_employer:
            self._check_party(actor, organisation_only=True)
        elif not self._is_the_person(actor) and not self._at_hr_counter(actor):
            raise refuse(
                RefusalType.FORBIDDEN,
                "a person without an employer initiates the joint application themself",
            )
        if self._stage in (Stage.JOINT_HANDLING, *(s for s in Stage if s.terminal)):
            raise refuse(
                RefusalType.WRONG_STAGE, f"the case has been initiated (stage: {self._stage})"
            )
        if self._stage is not Stage.AWAITING_INITIATION:
            raise refuse(
                RefusalType.NOT_YET,
                f"the case is in {self._stage}: initiation follows the contribution check",
            )
        opens = self._timeline.initiation_opens
        if self._today() < opens:
            raise refuse(RefusalType.NOT_YET, f"the initiation window opens on {opens}")

    @workflow.update
    def withdraw(self, request: Withdraw) -> CaseStatus:
        self._record(request.request_id, request.actor, "withdraw", request.reason)
        self._close(Stage.WITHDRAWN, f"withdrawn: {request.reason}")
        return self._status()

    @withdraw.validator
    def _validate_withdraw(self, request: Withdraw) -> None:
        self._check_fresh(request.request_id)
        self._check_party(request.actor, organisation_only=False)
        self._check_open()
        if self._stage is Stage.JOINT_HANDLING:
            raise refuse(
                RefusalType.WRONG_STAGE,
                "joint handling has begun: ask the HR bureau to cancel the case",
            )

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
            raise refuse(RefusalType.FORBIDDEN, "only HR clerks and supervisors cancel a case")
        if actor.role is not Role.ADMIN and actor.department is not Department.HR:
            raise refuse(RefusalType.WRONG_DEPARTMENT, "only the HR bureau cancels a case")
        self._check_region(actor)
        if (self._pension and self._pension.award_id) or (self._fund and self._fund.payout_id):
            # Money has moved: stopping a pension or reclaiming a payout is the department's own
            # procedure, not a cancellation of the joint application.
            raise refuse(
                RefusalType.WRONG_STAGE,
                "the pension has been awarded or the fund paid out: stop it through the "
                "department's own procedure",
            )

    @workflow.update
    def correct_retirement(self, request: CorrectRetirement) -> CaseStatus:
        before = self._plan.retirement_month
        declared = self._declaration.deemed_years if self._declaration else None
        self._change_plan(category=request.category, declaration=request.declaration)
        if (
            self._deemed_years is not None
            and request.declaration is not None
            and request.declaration.deemed_years != declared
        ):
            # After pre-review only HR may change the declared deemed years (the validator):
            # HR's correction is its new recognition, so the one figure follows it.
            self._deemed_years = request.declaration.deemed_years
            self._set_item(
                ItemKey.PENSION_DEEMED_YEARS,
                ItemStatus.DONE,
                f"{self._deemed_years} deemed years, as corrected by HR: {request.reason}",
            )
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
            raise refuse(RefusalType.WRONG_STAGE, "the retirement is approved already")
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
                raise refuse(RefusalType.FORBIDDEN, "data corrections are made by HR clerks")
            self._check_region(actor)
        elif actor.role in (Role.CLERK, Role.SUPERVISOR):
            if actor.department is not Department.HR:
                raise refuse(RefusalType.WRONG_DEPARTMENT, "corrections are HR's")
            self._check_region(actor)
        else:
            self._check_party(actor, organisation_only=False)
            under_review = bool(
                self._open_tasks(TaskKind.PRE_REVIEW) or self._open_tasks(TaskKind.CORRECT)
            )
            approved = not (self._stage in _BEFORE_PRE_REVIEW or under_review)
            if approved and not _only_a_flexible_choice(self._declaration, request.declaration):
                # What HR approved at pre-review is not the employer's to change afterwards;
                # only the flexible-retirement choice, which the law leaves to worker and
                # employer, may still move the date. Anything else goes through HR.
                raise refuse(
                    RefusalType.WRONG_STAGE,
                    "pre-review has approved the declaration: only a flexible-retirement "
                    "choice may change now; ask the HR bureau to correct anything else",
                )
        category = request.category or self._category
        if category_gender(category, self._policy) is not self._person.gender:
            raise refuse(
                RefusalType.INVALID, f"category {category} does not fit the person's gender"
            )
        declaration = request.declaration or self._declaration
        self._check_plan(declaration, category)


def _refusal(err: ActivityError) -> DepartmentRefusalInfo | None:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == DEPARTMENT_REFUSAL:
        details = cause.details
        if details and isinstance(details[0], DepartmentRefusalInfo):
            return details[0]
        return DepartmentRefusalInfo.model_validate(details[0]) if details else None
    return None
