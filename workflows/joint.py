"""Joint handling (联办): HR's formal approval and rights notice, then the four departments side
by side — social insurance (retiree status and the pension), medical security (deemed years and
retiree cover), the provident fund (pay out and close) and the health commission (the one-child
reward notice). A branch that fails or is refused fails its own item; the others go on, and the
case completes when every department has reported (docs/department-issues.md)."""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.health_commission import HealthCommissionActivities
    from activities.hr import HrActivities
    from activities.medical_security import MedicalSecurityActivities
    from activities.policy import load_current_policy
    from activities.provident_fund import ProvidentFundActivities
    from activities.social_insurance import SocialInsuranceActivities
    from contracts.departments import (
        ApprovalCommand,
        FundWithdrawal,
        HouseholdStep,
        MedicalOutcome,
        MedicalSwitch,
        PensionAward,
        RetireeSwitch,
        RewardNoticeRecord,
    )
    from contracts.people import Department
    from contracts.workflow import (
        FundResult,
        ItemKey,
        ItemStatus,
        MedicalResult,
        Outcome,
        PensionResult,
        Stage,
        TaskKind,
    )
    from domain.medical import medical_retiree_check
    from domain.one_child import one_child_reward_notice
    from domain.pension import PensionInputError, estimate_pension
    from workflows import issues


from workflows.state import State
from workflows.steps import DEPARTMENT_RETRY, STEP_TIMEOUT, Steps


class JointHandling:
    def __init__(self, state: State, steps: Steps) -> None:
        self.state = state
        self.steps = steps

    async def stage(self) -> None:
        state, steps = self.state, self.steps
        # Pension and wage figures are taken from the policy in force now, not at declaration.
        with state.busy():
            policy = await workflow.execute_activity(
                load_current_policy,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=DEPARTMENT_RETRY,
                summary="load the policy in force",
            )
        state.use_policy(policy)
        if not await steps.household(HouseholdStep.APPROVAL):
            return
        decision = await steps.ask_clerk(
            TaskKind.FORMAL_APPROVAL,
            "formal retirement approval and rights notice (正式审批)",
            Department.HR,
            detail=state.plan_summary(),
            items=(ItemKey.PENSION_ELIGIBILITY,),
            closes="formal approval refused",
        )
        if decision is None:
            return
        receipt = await steps.run(
            Department.HR,
            "record the formal approval",
            HrActivities.record_approval,
            ApprovalCommand(
                idempotency_key=f"{state.case_id}:approval",
                case_id=state.case_id,
                id_number=state.person.id_number,
                retirement_month=state.plan.retirement_month,
                approver=decision.actor,
            ),
            if_rejected=issues.APPROVAL_RECORD,
        )
        if receipt is None:
            return state.close_if_open(Stage.REJECTED, "the formal approval could not be recorded")
        # (a None receipt also means the case closed meanwhile; nothing more is done then)
        state.set_item(
            ItemKey.PENSION_ELIGIBILITY,
            ItemStatus.DONE,
            f"approved, no. {receipt.reference}, retiring {state.plan.retirement_month}",
        )
        await steps.notify_person(
            "rights-notice",
            f"Retirement approved from {state.plan.retirement_month} (权益告知)",
            f"Your pension is paid from {state.timeline.first_pension_month}. "
            "Progress of every department is on your case page.",
            key="rights-notice",
            facts={
                "retirement_month": str(state.plan.retirement_month),
                "first_pension_month": str(state.timeline.first_pension_month),
            },
        )
        await asyncio.gather(
            self.social_insurance(),
            self.medical(),
            self.provident_fund(),
            self.health(),
        )
        if not state.stage.terminal:
            state.close(Stage.COMPLETED, "every department has reported")
            await steps.notify_person(
                "case-completed",
                "Your retirement case is complete",
                state.results_summary(),
                key="completed",
            )

    async def social_insurance(self) -> None:
        state, steps = self.state, self.steps
        item = ItemKey.PENSION_PAYMENT
        state.set_item(item, ItemStatus.IN_PROGRESS, "switching to retiree status")
        switched = await steps.run(
            Department.SOCIAL_INSURANCE,
            "switch to retiree",
            SocialInsuranceActivities.switch_to_retiree,
            RetireeSwitch(
                idempotency_key=f"{state.case_id}:retiree-switch",
                case_id=state.case_id,
                id_number=state.person.id_number,
                effective_month=state.plan.retirement_month,
            ),
            if_rejected=issues.RETIREE_SWITCH,
        )
        if switched is None:
            return state.fail_item(item, "the switch to retiree status was refused")
        while not state.stage.terminal:
            status = await steps.contribution_status(issues.PENSION_RECORD)
            if status is None:
                return state.fail_item(item, "no contribution record to calculate from")
            month = state.plan.retirement_month
            deemed = state.deemed_years_for(status)
            try:
                estimate = estimate_pension(
                    birth_month=state.plan_birth_month(),
                    retirement_month=month,
                    contribution_index=status.contribution_index,
                    actual_years=status.actual_years,
                    deemed_years=deemed,
                    account_balance=status.account_balance,
                    policy=state.policy,
                )
            except PensionInputError as exc:
                return state.fail_item(item, f"pension cannot be calculated: {exc}")
            pension = PensionResult(
                monthly_amount=estimate.total,
                basic=estimate.basic,
                personal_account=estimate.personal_account,
                transitional=estimate.transitional,
                first_month=state.timeline.first_pension_month,
                wage_base_provisional=estimate.wage_base_provisional,
                deemed_years=deemed,
            )
            decision = await steps.ask_clerk(
                TaskKind.CONFIRM_PENSION,
                f"confirm the pension of {pension.monthly_amount} yuan a month",
                Department.SOCIAL_INSURANCE,
                detail=(
                    f"basic {pension.basic} + personal account {pension.personal_account} + "
                    f"transitional {pension.transitional}; wage base {estimate.wage_base} "
                    f"({estimate.wage_base_period}"
                    f"{', provisional' if estimate.wage_base_provisional else ''}); "
                    f"divisor {estimate.divisor}; {status.actual_years} actual + {deemed} "
                    f"deemed years; paid from {pension.first_month}"
                ),
                items=(item,),
                waiting="pension calculated, awaiting confirmation",
            )
            if decision is None:
                return
            if decision.outcome is Outcome.RETURN:
                continue  # the record is being corrected: calculate again
            award = await steps.run(
                Department.SOCIAL_INSURANCE,
                "award the pension",
                SocialInsuranceActivities.award_pension,
                PensionAward(
                    idempotency_key=f"{state.case_id}:pension-award",
                    case_id=state.case_id,
                    id_number=state.person.id_number,
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
                return state.fail_item(item, "the pension award was refused")
            state.pension = pension.model_copy(update={"award_id": award.reference})
            state.money_after_close(f"pension award {award.reference}", Department.SOCIAL_INSURANCE)
            state.set_item(
                item,
                ItemStatus.DONE,
                f"{pension.monthly_amount} yuan a month from {pension.first_month}, "
                f"award {award.reference}",
            )
            return

    async def medical(self) -> None:
        state, steps = self.state, self.steps
        person = state.person
        item = ItemKey.MEDICAL_DEEMED_YEARS
        state.set_item(item, ItemStatus.IN_PROGRESS, "reading the medical insurance record")
        record = await steps.run(
            Department.MEDICAL,
            "read the medical insurance record",
            MedicalSecurityActivities.medical_record,
            state.person_query(),
            if_rejected=issues.MEDICAL_RECORD,
        )
        if record is None:
            return state.fail_item(item, "no medical insurance record")
        check = medical_retiree_check(
            person.gender,
            record.actual_years,
            record.deemed_years,
            person.region_code,
            state.policy,
        )
        if check.needs_clerk_confirmation or not check.meets_threshold:
            decision = await steps.ask_clerk(
                TaskKind.CONFIRM_MEDICAL_YEARS,
                "confirm the medical deemed years (医保视同缴费年限)",
                Department.MEDICAL,
                detail=(
                    f"actual {check.actual_years} + deemed {check.deemed_years} = "
                    f"{check.total_years} years; threshold {check.required_total_years} "
                    f"(at least {check.required_actual_years} actual); "
                    f"shortfall {check.shortfall_years}"
                ),
                items=(item,),
                waiting="deemed years awaiting confirmation",
            )
            if decision is None:
                return
            if decision.deemed_years is not None:
                check = medical_retiree_check(
                    person.gender,
                    record.actual_years,
                    decision.deemed_years,
                    person.region_code,
                    state.policy,
                )
        outcome = MedicalOutcome.RETIREE if check.meets_threshold else MedicalOutcome.SHORTFALL
        settled = await steps.run(
            Department.MEDICAL,
            "settle retiree medical status",
            MedicalSecurityActivities.settle_status,
            MedicalSwitch(
                idempotency_key=f"{state.case_id}:medical-status",
                case_id=state.case_id,
                id_number=person.id_number,
                outcome=outcome,
                total_years=check.total_years,
                shortfall_years=check.shortfall_years,
                effective_month=state.plan.retirement_month,
            ),
            if_rejected=issues.MEDICAL_STATUS,
        )
        if settled is None:
            return state.fail_item(item, "the medical status change was refused")
        state.medical = MedicalResult(
            actual_years=check.actual_years,
            deemed_years=check.deemed_years,
            required_total_years=check.required_total_years,
            shortfall_years=check.shortfall_years,
            outcome=outcome.value,
        )
        if outcome is MedicalOutcome.SHORTFALL:
            await steps.notify_person(
                "medical-shortfall",
                f"Medical insurance: {check.shortfall_years} years short of retiree cover",
                "Contact the medical security agency to pay the remaining years.",
                key="medical-shortfall",
                facts={"shortfall_years": str(check.shortfall_years)},
            )
            state.set_item(item, ItemStatus.DONE, f"shortfall of {check.shortfall_years} years")
        else:
            state.set_item(item, ItemStatus.DONE, f"retiree cover with {check.total_years} years")

    async def provident_fund(self) -> None:
        state, steps = self.state, self.steps
        item = ItemKey.PROVIDENT_FUND
        state.set_item(item, ItemStatus.IN_PROGRESS, "reading the fund account")
        account = await steps.run(
            Department.PROVIDENT_FUND,
            "read the fund account",
            ProvidentFundActivities.account,
            state.person_query(),
            if_rejected=issues.FUND_ACCOUNT,
        )
        if account is None:
            return state.fail_item(item, "the fund account could not be read")
        if not account.found:
            state.set_item(item, ItemStatus.NOT_APPLICABLE, "no provident fund account")
            return
        decision = await steps.ask_clerk(
            TaskKind.FUND_WITHDRAWAL,
            "approve the retirement withdrawal (提取住房公积金)",
            Department.PROVIDENT_FUND,
            detail=f"balance {account.balance} yuan to card ****{account.card_last4 or '?'}",
            items=(item,),
            waiting="withdrawal awaiting the fund centre",
        )
        if decision is None:
            return
        payout = await steps.run(
            Department.PROVIDENT_FUND,
            "withdraw and close",
            ProvidentFundActivities.withdraw_and_close,
            FundWithdrawal(
                idempotency_key=f"{state.case_id}:fund-withdrawal",
                case_id=state.case_id,
                id_number=state.person.id_number,
                approved_by=decision.actor,
            ),
            money=True,
            if_rejected=issues.FUND_WITHDRAWAL,
        )
        if payout is None:
            return state.fail_item(item, "the withdrawal was refused")
        state.money_after_close(f"fund payout {payout.payout_id}", Department.PROVIDENT_FUND)
        state.fund = FundResult(
            amount=payout.amount, payout_id=payout.payout_id, card_last4=payout.card_last4
        )
        state.set_item(item, ItemStatus.DONE, f"{payout.amount} yuan paid out, account closed")

    async def health(self) -> None:
        state, steps = self.state, self.steps
        item = ItemKey.ONE_CHILD_REWARD
        info = state.declaration.one_child if state.declaration else None
        if info is None:
            state.set_item(item, ItemStatus.NOT_APPLICABLE, "no one-child certificate declared")
            return
        notice = one_child_reward_notice(
            holds_certificate=info.holds_certificate,
            child_birth_date=info.child_birth_date,
            further_children=info.further_children,
            registered_in_province=info.registered_in_province,
            policy=state.policy,
        )
        recorded = await steps.run(
            Department.HEALTH,
            "record the reward notice",
            HealthCommissionActivities.record_reward_notice,
            RewardNoticeRecord(
                idempotency_key=f"{state.case_id}:one-child-notice",
                case_id=state.case_id,
                id_number=state.person.id_number,
                concerns=notice.concerns,
            ),
            if_rejected=issues.REWARD_NOTICE,
        )
        if recorded is None:
            return state.fail_item(item, "the reward notice could not be recorded")
        if not notice.concerns:
            reasons = "; ".join(r.reason for r in notice.refusals)
            state.set_item(item, ItemStatus.NOT_APPLICABLE, reasons)
            return
        await steps.notify_person(
            "one-child-reward",
            "城镇独生子女父母奖励金: policy, channel and procedure",
            "\n".join([notice.policy_text, notice.channel, *notice.procedure]),
            key="one-child-reward",
        )
        state.set_item(item, ItemStatus.DONE, "policy, channel and procedure shown")
