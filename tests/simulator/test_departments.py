"""What each simulated department system answers and records (on SQLite and PostgreSQL).

The people here are scripted (``simulator.scenarios``), so a record a test leaves out stays
missing and the department refuses, as it would for someone it has never heard of.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.departments import (
    FundAccount,
    FundAccountStatus,
    HouseholdCheck,
    HouseholdStep,
    MedicalOutcome,
    PersonQuery,
)
from contracts.people import Department
from simulator import storage as d
from simulator.models import (
    ContributionRecord,
    ContributionSettlement,
    FundAccountRow,
    FundPayout,
    HouseholdStatus,
    InsuredStatusChange,
    MedicalInsuranceRecord,
    MedicalStatusChange,
    PaymentSchedule,
    PensionAwardRow,
    PrereviewReceipt,
    PushRow,
    RetirementApproval,
    RewardNotice,
    SmsRow,
)
from simulator.storage import Refused
from tests.db import factories as f
from tests.simulator.conftest import seed

ID = f.id_number(1)
OTHER = f.id_number(2)


def _query(number: str = ID) -> PersonQuery:
    return PersonQuery(case_id="case-1", id_number=number)


def _count(sessions: sessionmaker[Session], model: type[object]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _refusal(excinfo: pytest.ExceptionInfo[Refused]) -> tuple[Department, str, str]:
    refused = excinfo.value
    return refused.department, refused.step, refused.reason


# ---- 公安 household ------------------------------------------------------------------------


def _check(name: str = "张三", number: str = ID) -> HouseholdCheck:
    return HouseholdCheck(
        case_id="case-1",
        step=HouseholdStep.DECLARATION,
        id_number=number,
        name=name,
        region_code=f.REGION,
    )


def test_household_matches_a_registered_person_of_that_name(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions, ID, "张三")
    result = d.DatabaseHouseholdRegistry(sessions).verify(_check())
    assert result.matches
    assert result.detail == ""


@pytest.mark.parametrize(
    ("status", "name", "detail"),
    [
        (HouseholdStatus.REGISTERED, "李四", "the name differs from the registry"),
        (HouseholdStatus.DECEASED, "张三", "registered as deceased"),
        (HouseholdStatus.MOVED, "张三", "moved out of the registry"),
    ],
)
def test_household_mismatch_says_why_without_personal_data(
    sessions: sessionmaker[Session], status: HouseholdStatus, name: str, detail: str
) -> None:
    seed(sessions, ID, "张三", household_status=status)
    result = d.DatabaseHouseholdRegistry(sessions).verify(_check(name))
    assert not result.matches
    assert result.detail == detail
    assert "张三" not in result.detail
    assert "李四" not in result.detail
    assert ID not in result.detail


def test_household_without_a_record(sessions: sessionmaker[Session]) -> None:
    seed(sessions, OTHER, "张三", with_household=False)
    result = d.DatabaseHouseholdRegistry(sessions).verify(_check(number=OTHER))
    assert (result.matches, result.detail) == (False, "no household record")


# ---- 社保 social insurance -----------------------------------------------------------------


def test_contribution_status_lists_only_unsettled_problems(
    sessions: sessionmaker[Session],
) -> None:
    seed(
        sessions,
        ID,
        "张三",
        contribution_problems=[f.problem("p1"), f.problem("p2", amount=None)],
        contribution_index=Decimal("1.25"),
        actual_years=Decimal("28.5"),
        deemed_years=Decimal("3"),
        account_balance=Decimal("98765.43"),
    )
    system = d.DatabaseSocialInsurance(sessions)
    status = system.contribution_status(_query())
    assert [p.id for p in status.problems] == ["p1", "p2"]
    assert status.problems[0] == f.problem("p1")  # amounts and kinds survive the JSON column
    assert (status.contribution_index, status.actual_years, status.deemed_years) == (
        Decimal("1.25"),
        Decimal("28.5"),
        Decimal("3"),
    )
    assert status.account_balance == Decimal("98765.43")
    assert status.status == "normal"

    system.settle(f.settle(ID, problem_id="p1"))
    assert [p.id for p in system.contribution_status(_query()).problems] == ["p2"]


def test_contribution_status_without_a_record_is_a_refusal(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions, OTHER, "李四", with_contributions=False)
    with pytest.raises(Refused) as excinfo:
        d.DatabaseSocialInsurance(sessions).contribution_status(_query(OTHER))
    assert _refusal(excinfo) == (
        Department.SOCIAL_INSURANCE,
        "contribution-status",
        "no contribution record for this person",
    )
    assert excinfo.value.code == "no-record"


def test_settle_marks_the_problem_and_records_the_settlement(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions, ID, "张三", contribution_problems=[f.problem("p1"), f.problem("p2")])
    receipt = d.DatabaseSocialInsurance(sessions).settle(f.settle(ID, problem_id="p2"))
    assert receipt.reference.startswith("CS-")
    assert not receipt.duplicate
    with sessions() as session:
        record = session.get_one(ContributionRecord, ID)
        assert {p["id"]: p["settled"] for p in record.problems} == {"p1": False, "p2": True}
        settlement = session.scalars(select(ContributionSettlement)).one()
        assert (settlement.problem_id, settlement.problem_kind, settlement.actor_id) == (
            "p2",
            "arrears",
            "clerk-1",
        )
        assert settlement.created_at.tzinfo is not None


def test_settling_an_unknown_problem_is_a_refusal_and_records_nothing(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions, ID, "张三", contribution_problems=[f.problem("p1")])
    with pytest.raises(Refused) as excinfo:
        d.DatabaseSocialInsurance(sessions).settle(f.settle(ID, problem_id="nope"))
    assert _refusal(excinfo) == (
        Department.SOCIAL_INSURANCE,
        "settle",
        "the contribution record has no such problem",
    )
    assert _count(sessions, ContributionSettlement) == 0


def test_settle_without_a_record_is_a_refusal(sessions: sessionmaker[Session]) -> None:
    seed(sessions, OTHER, "李四", with_contributions=False)
    with pytest.raises(Refused, match="no contribution record"):
        d.DatabaseSocialInsurance(sessions).settle(f.settle(OTHER))
    assert _count(sessions, ContributionSettlement) == 0


def test_prereview_push_is_kept(sessions: sessionmaker[Session]) -> None:
    receipt = d.DatabaseSocialInsurance(sessions).receive_prereview(f.prereview(ID))
    assert receipt.reference.startswith("PR-")
    with sessions() as session:
        row = session.scalars(select(PrereviewReceipt)).one()
        assert (row.case_id, row.id_number, row.retirement_month, row.path) == (
            "case-1",
            ID,
            "2026-08",
            "normal",
        )
        assert row.declaration["archive_refs"] == ["A-1"]


def test_switch_to_retiree_changes_the_insured_status(sessions: sessionmaker[Session]) -> None:
    seed(sessions, ID, "张三")
    receipt = d.DatabaseSocialInsurance(sessions).switch_to_retiree(f.retiree_switch(ID))
    assert receipt.reference.startswith("IS-")
    with sessions() as session:
        assert session.get_one(ContributionRecord, ID).insured_status == "retiree"
        change = session.scalars(select(InsuredStatusChange)).one()
        assert (change.from_status, change.to_status, change.effective_month) == (
            "contributor",
            "retiree",
            "2026-08",
        )


def test_award_writes_the_award_and_its_payment_schedule(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions, ID, "张三")
    receipt = d.DatabaseSocialInsurance(sessions).award_pension(f.award(ID))
    with sessions() as session:
        award = session.scalars(select(PensionAwardRow)).one()
        assert receipt.reference == award.award_no == f"PA-{award.id:06d}"
        assert (award.basic, award.personal_account, award.transitional) == (
            Decimal("1800.00"),
            Decimal("1256.78"),
            Decimal("400.00"),
        )
        assert (award.monthly_amount, award.first_month, award.confirmed_by) == (
            Decimal("3456.78"),
            "2026-09",
            "clerk-1",
        )
        schedule = session.scalars(select(PaymentSchedule)).one()
        assert (schedule.award_id, schedule.start_month, schedule.monthly_amount) == (
            award.id,
            "2026-09",
            Decimal("3456.78"),
        )
        assert schedule.status == "scheduled"


def test_award_whose_parts_do_not_add_up_is_refused(sessions: sessionmaker[Session]) -> None:
    seed(sessions, ID, "张三")
    with pytest.raises(Refused) as excinfo:
        d.DatabaseSocialInsurance(sessions).award_pension(f.award(ID, basic="1800.01"))
    assert _refusal(excinfo)[1:] == (
        "award-pension",
        "the pension parts do not add up to the monthly amount",
    )
    assert _count(sessions, PensionAwardRow) == _count(sessions, PaymentSchedule) == 0


# ---- 人社 HR -------------------------------------------------------------------------------


def test_approval_gets_a_readable_number(sessions: sessionmaker[Session]) -> None:
    first = d.DatabaseHrSystem(sessions).record_approval(f.approval(ID, key="a"))
    second = d.DatabaseHrSystem(sessions).record_approval(f.approval(OTHER, key="b"))
    with sessions() as session:
        numbers = session.scalars(
            select(RetirementApproval.approval_no).order_by(RetirementApproval.id)
        ).all()
        row = session.scalars(select(RetirementApproval).where(RetirementApproval.id_number == ID))
        approval = row.one()
        assert (approval.approver_id, approval.approver_department, approval.approver_region) == (
            "clerk-1",
            "hr",
            f.REGION,
        )
    assert [first.reference, second.reference] == numbers
    assert all(n is not None and n.startswith("RA-") and len(n) == 9 for n in numbers)


# ---- 医保 medical --------------------------------------------------------------------------


def test_medical_record(sessions: sessionmaker[Session]) -> None:
    seed(sessions, ID, "张三", medical_actual_years=Decimal("21.5"))
    record = d.DatabaseMedicalSystem(sessions).medical_record(_query())
    assert (record.actual_years, record.deemed_years) == (Decimal("21.5"), Decimal(0))


def test_medical_record_missing_is_a_refusal(sessions: sessionmaker[Session]) -> None:
    seed(sessions, OTHER, "李四", with_medical=False)
    with pytest.raises(Refused) as excinfo:
        d.DatabaseMedicalSystem(sessions).medical_record(_query(OTHER))
    assert _refusal(excinfo) == (
        Department.MEDICAL,
        "medical-record",
        "no medical insurance record for this person",
    )


@pytest.mark.parametrize("outcome", list(MedicalOutcome))
def test_settle_status_records_the_change_and_updates_the_record(
    sessions: sessionmaker[Session], outcome: MedicalOutcome
) -> None:
    seed(sessions, ID, "张三")
    receipt = d.DatabaseMedicalSystem(sessions).settle_status(f.medical_switch(ID, outcome=outcome))
    assert receipt.reference.startswith("MC-")
    with sessions() as session:
        assert session.get_one(MedicalInsuranceRecord, ID).status == str(outcome)
        change = session.scalars(select(MedicalStatusChange)).one()
        assert (change.from_status, change.outcome) == ("contributor", str(outcome))


def test_settle_status_without_a_record_is_a_refusal(sessions: sessionmaker[Session]) -> None:
    seed(sessions, OTHER, "李四", with_medical=False)
    with pytest.raises(Refused, match="no medical insurance record"):
        d.DatabaseMedicalSystem(sessions).settle_status(f.medical_switch(OTHER))
    assert _count(sessions, MedicalStatusChange) == 0


# ---- 公积金 provident fund ------------------------------------------------------------------


def test_fund_account_of_a_person_without_one_is_not_found(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions, OTHER, "李四", with_fund=False)
    assert d.DatabaseProvidentFund(sessions).account(_query(OTHER)) == FundAccount(found=False)


def test_fund_account_shows_only_the_cards_last_four_digits(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions, ID, "张三", fund_balance=Decimal("86000.50"))
    account = d.DatabaseProvidentFund(sessions).account(_query())
    assert account == FundAccount(
        found=True,
        balance=Decimal("86000.50"),
        status=FundAccountStatus.ACTIVE,
        card_last4="3445",
    )


@pytest.mark.parametrize("status", [FundAccountStatus.ACTIVE, FundAccountStatus.SEALED])
def test_withdraw_pays_the_whole_balance_and_closes_the_account(
    sessions: sessionmaker[Session], status: FundAccountStatus
) -> None:
    seed(sessions, ID, "张三", fund_balance=Decimal("86000.50"), fund_status=status)
    receipt = d.DatabaseProvidentFund(sessions).withdraw_and_close(f.withdrawal(ID))
    assert (receipt.amount, receipt.card_last4, receipt.duplicate) == (
        Decimal("86000.50"),
        "3445",
        False,
    )
    with sessions() as session:
        account = session.get_one(FundAccountRow, ID)
        assert (account.balance, account.status) == (Decimal("0.00"), "closed")
        payout = session.scalars(select(FundPayout)).one()
        assert receipt.payout_id == payout.payout_no == f"FP-{payout.id:06d}"
        assert (payout.amount, payout.card_last4, payout.approved_by) == (
            Decimal("86000.50"),
            "3445",
            "clerk-1",
        )


@pytest.mark.parametrize(
    ("status", "card", "reason", "code"),
    [
        (FundAccountStatus.FROZEN, "6222020200112233445", "the account is frozen", "frozen"),
        (
            FundAccountStatus.CLOSED,
            "6222020200112233445",
            "the account is already closed",
            "closed",
        ),
        (FundAccountStatus.ACTIVE, None, "no bank card is registered for the payout", "no-card"),
    ],
)
def test_withdraw_refusals_pay_nothing(
    sessions: sessionmaker[Session],
    status: FundAccountStatus,
    card: str | None,
    reason: str,
    code: str,
) -> None:
    seed(sessions, ID, "张三", fund_status=status, card_number=card)
    with pytest.raises(Refused) as excinfo:
        d.DatabaseProvidentFund(sessions).withdraw_and_close(f.withdrawal(ID))
    assert _refusal(excinfo) == (Department.PROVIDENT_FUND, "withdraw-and-close", reason)
    assert excinfo.value.code == code
    assert _count(sessions, FundPayout) == 0
    with sessions() as session:
        account = session.get_one(FundAccountRow, ID)
        assert (account.balance, account.status) == (Decimal("86000.00"), str(status))


def test_withdraw_without_an_account_is_a_refusal(sessions: sessionmaker[Session]) -> None:
    seed(sessions, OTHER, "李四", with_fund=False)
    with pytest.raises(Refused, match="no provident fund account"):
        d.DatabaseProvidentFund(sessions).withdraw_and_close(f.withdrawal(OTHER))
    assert _count(sessions, FundPayout) == 0


# ---- 卫健, SMS and the app ----------------------------------------------------------------------


def test_reward_notice_is_recorded(sessions: sessionmaker[Session]) -> None:
    receipt = d.DatabaseHealthCommission(sessions).record_reward_notice(f.reward_notice(ID))
    assert receipt.reference.startswith("RN-")
    with sessions() as session:
        assert session.scalars(select(RewardNotice.concerns)).one() is True


def test_the_sms_platform_and_the_app_keep_what_they_sent(sessions: sessionmaker[Session]) -> None:
    texted = d.DatabaseSms(sessions).send(f.sms())
    pushed = d.DatabasePush(sessions).push(f.push())
    with sessions() as session:
        sms = session.scalars(select(SmsRow)).one()
        push = session.scalars(select(PushRow)).one()
    assert texted.reference == f"SM-{sms.id:06d}" and pushed.reference == f"PU-{push.id:06d}"
    assert (sms.mobile, sms.text) == ("13812345678", "【吉林人社】您好")
    assert (push.user, push.title, push.text) == (f.EMPLOYER, "办理提醒", "您好")


# ---- scripted people ----------------------------------------------------------------------


def test_scripting_a_person_twice_replaces_the_records(sessions: sessionmaker[Session]) -> None:
    seed(sessions, ID, "张三", fund_balance=Decimal("1.00"))
    seed(sessions, ID, "张三", fund_balance=Decimal("2.00"), with_medical=False)
    with sessions() as session:
        assert session.get_one(FundAccountRow, ID).balance == Decimal("2.00")
        assert session.scalar(select(func.count()).select_from(FundAccountRow)) == 1
        # Every record is replaced: the one the second scenario leaves out is gone.
        assert session.get(MedicalInsuranceRecord, ID) is None
    with pytest.raises(Refused, match="no medical insurance record"):
        d.DatabaseMedicalSystem(sessions).medical_record(_query())


def test_scripting_can_leave_departments_out(sessions: sessionmaker[Session]) -> None:
    seed(sessions, ID, "张三", with_contributions=False, with_medical=False, with_fund=False)
    assert d.DatabaseHouseholdRegistry(sessions).verify(_check()).matches
    assert d.DatabaseProvidentFund(sessions).account(_query()) == FundAccount(found=False)
    assert _count(sessions, ContributionRecord) == 0
    assert _count(sessions, MedicalInsuranceRecord) == 0
    assert _count(sessions, FundAccountRow) == 0
