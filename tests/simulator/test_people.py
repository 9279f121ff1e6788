"""Records the simulator derives for a person no department has heard of (``simulator.people``):
the same every time, plausible, in agreement with the declaration once HR has pushed it, and
never made up for a person a scenario scripted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.declarations import Declaration
from contracts.departments import (
    FundAccount,
    FundAccountStatus,
    HouseholdCheck,
    HouseholdStep,
    PersonQuery,
    PrereviewPush,
)
from contracts.people import Department
from domain.months import YearMonth
from simulator import people
from simulator import storage as d
from simulator.models import (
    Base,
    ContributionRecord,
    FundAccountRow,
    HouseholdRecord,
    MedicalInsuranceRecord,
)
from simulator.storage import Refused
from tests.db import factories as f
from tests.simulator.conftest import seed
from tests.support.people import fixed_id_number

ID = f.id_number(1)


# People born across the years whose records the service meets, men and women.
PEOPLE = [
    fixed_id_number(
        date(year, 1 + serial % 12, 1 + serial % 28),
        serial,
        female=serial % 2 == 1,
        region=f.REGION,
    )
    for serial, year in enumerate(range(1958, 1978))
]


def _columns(row: Base) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def _query(number: str = ID) -> PersonQuery:
    return PersonQuery(case_id="case-1", id_number=number)


def _check(number: str = ID, name: str = "张三") -> HouseholdCheck:
    return HouseholdCheck(
        case_id="case-1",
        step=HouseholdStep.DECLARATION,
        id_number=number,
        name=name,
        region_code=f.REGION,
    )


def _count(sessions: sessionmaker[Session], model: type[Base]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# ---- the same every time -------------------------------------------------------------------


@pytest.mark.parametrize("number", PEOPLE[:5])
def test_derivation_is_a_function_of_the_id_number(number: str) -> None:
    assert _columns(people.contributions(number)) == _columns(people.contributions(number))
    assert _columns(people.fund_account(number)) == _columns(people.fund_account(number))
    pension = people.contributions(number)
    assert _columns(people.medical(number, pension, 2026)) == _columns(
        people.medical(number, pension, 2026)
    )
    assert _columns(people.household(number, "张三", f.REGION)) == _columns(
        people.household(number, "张三", f.REGION)
    )


def test_different_people_get_different_figures() -> None:
    """The figures are drawn from the ID number, not constants."""
    assert len({people.fund_account(n).balance for n in PEOPLE}) > len(PEOPLE) // 2
    assert len({people.fund_account(n).card_number for n in PEOPLE}) == len(PEOPLE)
    assert len({people.contributions(n).contribution_index for n in PEOPLE}) > 5


def test_a_department_answers_the_same_after_forgetting_the_person(
    sessions: sessionmaker[Session],
) -> None:
    """What the departments derived once, they derive again from nothing: a run can be repeated
    on a fresh simulator."""

    def answers() -> tuple[Any, ...]:
        return (
            d.DatabaseHouseholdRegistry(sessions).verify(_check()),
            d.DatabaseSocialInsurance(sessions).contribution_status(_query()),
            d.DatabaseMedicalSystem(sessions).medical_record(_query()),
            d.DatabaseProvidentFund(sessions).account(_query()),
        )

    first = answers()
    assert answers() == first  # the second look reads the stored records
    with sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
    assert answers() == first
    assert _count(sessions, ContributionRecord) == 1  # derived once, then kept


# ---- plausible -----------------------------------------------------------------------------


@pytest.mark.parametrize("number", PEOPLE)
def test_derived_figures_are_plausible(number: str) -> None:
    born = int(number[6:10])
    record = people.contributions(number)
    total = record.actual_years + record.deemed_years
    # Work started at 18 to 22 and runs to about 60; the years before 1996 are deemed.
    start = born + 60 - int(total)
    assert 18 <= start - born <= 22
    assert record.deemed_years == max(min(people.PERSONAL_ACCOUNTS_FROM - start, int(total)), 0)
    assert record.actual_years >= 0
    assert Decimal("0.80") <= record.contribution_index <= Decimal("1.59")
    assert Decimal(0) <= record.account_balance < Decimal(300_000)
    assert (record.account_balance == 0) == (record.actual_years == 0)
    assert (record.status, record.insured_status, record.problems) == (
        "normal",
        "contributor",
        [],
    )

    medical = people.medical(number, record, None)
    assert medical.actual_years + medical.deemed_years == total
    assert medical.actual_years <= max(born + 60 - people.MEDICAL_ACCOUNTS_FROM, 0)
    assert medical.deemed_years >= 0
    assert medical.status == "contributor"

    fund = people.fund_account(number)
    assert Decimal(20_000) <= fund.balance < Decimal(150_000)
    assert fund.balance == fund.balance.quantize(Decimal("0.01"))
    assert fund.status == FundAccountStatus.ACTIVE
    assert fund.card_number is not None
    assert fund.card_number.isdigit()
    assert len(fund.card_number) == 19
    assert fund.card_number.startswith("6222")

    household = people.household(number, "李四", "220103")
    assert (household.name, household.region_code, household.status) == (
        "李四",
        "220103",
        "registered",
    )


def test_the_years_run_to_the_retirement_year_when_it_is_known() -> None:
    number = PEOPLE[0]
    to_sixty = people.contributions(number)
    later = people.contributions(number, retirement_year=int(number[6:10]) + 63)
    years = later.actual_years + later.deemed_years
    assert years == to_sixty.actual_years + to_sixty.deemed_years + 3


def test_the_household_is_registered_under_the_first_name_asked_about(
    sessions: sessionmaker[Session],
) -> None:
    registry = d.DatabaseHouseholdRegistry(sessions)
    assert registry.verify(_check(name="张三")).matches
    later = registry.verify(_check(name="李四"))
    assert (later.matches, later.detail) == (False, d.HOUSEHOLD_NAME_DIFFERS)


# ---- agreeing with the declaration ---------------------------------------------------------


def _push(number: str, actual: str, deemed: str) -> PrereviewPush:
    return PrereviewPush(
        idempotency_key=f"case-1:prereview:{number}",
        case_id="case-1",
        person=f.person(number),
        declaration=Declaration(
            contribution_years=Decimal(actual), deemed_years=Decimal(deemed), archive_refs=["A-1"]
        ),
        retirement_month=YearMonth(2026, 8),
    )


def test_a_prereview_push_makes_the_contribution_record_agree_with_the_declaration(
    sessions: sessionmaker[Session],
) -> None:
    underived = people.contributions(ID)
    assert (underived.actual_years, underived.deemed_years) != (Decimal("27.5"), Decimal(4))

    d.DatabaseSocialInsurance(sessions).receive_prereview(_push(ID, "27.5", "4"))

    status = d.DatabaseSocialInsurance(sessions).contribution_status(_query())
    assert (status.actual_years, status.deemed_years) == (Decimal("27.5"), Decimal(4))
    assert status.problems == []
    # Medical years follow the pension years; those before 2001 are deemed (retiring 2026).
    medical = d.DatabaseMedicalSystem(sessions).medical_record(_query())
    assert medical.actual_years + medical.deemed_years == Decimal("31.5")
    assert medical.actual_years == Decimal(2026 - people.MEDICAL_ACCOUNTS_FROM)


def test_a_record_derived_before_the_push_is_kept(sessions: sessionmaker[Session]) -> None:
    """Derived once, the record is the department's: a later declaration does not rewrite it
    (a disagreement is for the clerk, not for the simulator to paper over)."""
    social = d.DatabaseSocialInsurance(sessions)
    before = social.contribution_status(_query())
    social.receive_prereview(_push(ID, "27.5", "4"))
    assert social.contribution_status(_query()) == before


# ---- scripted people -----------------------------------------------------------------------


def test_a_scripted_person_gets_no_derived_records(sessions: sessionmaker[Session]) -> None:
    seed(
        sessions,
        ID,
        "张三",
        with_household=False,
        with_contributions=False,
        with_medical=False,
        with_fund=False,
    )
    household = d.DatabaseHouseholdRegistry(sessions).verify(_check())
    assert (household.matches, household.detail) == (False, d.HOUSEHOLD_NOT_FOUND)
    with pytest.raises(Refused) as refused:
        d.DatabaseSocialInsurance(sessions).contribution_status(_query())
    assert (refused.value.department, refused.value.code) == (
        Department.SOCIAL_INSURANCE,
        "no-record",
    )
    with pytest.raises(Refused, match=d.NO_MEDICAL_RECORD):
        d.DatabaseMedicalSystem(sessions).medical_record(_query())
    assert d.DatabaseProvidentFund(sessions).account(_query()) == FundAccount(found=False)
    with pytest.raises(Refused, match=d.NO_FUND_ACCOUNT):
        d.DatabaseProvidentFund(sessions).withdraw_and_close(f.withdrawal(ID))
    # Not even the pre-review push, which derives a record for anyone else, makes one up.
    d.DatabaseSocialInsurance(sessions).receive_prereview(_push(ID, "27.5", "4"))
    with pytest.raises(Refused, match=d.NO_CONTRIBUTION_RECORD):
        d.DatabaseSocialInsurance(sessions).contribution_status(_query())
    for model in (HouseholdRecord, ContributionRecord, MedicalInsuranceRecord, FundAccountRow):
        assert _count(sessions, model) == 0, model.__name__


def test_scripting_replaces_what_was_derived(sessions: sessionmaker[Session]) -> None:
    assert d.DatabaseProvidentFund(sessions).account(_query()).found
    seed(sessions, ID, "张三", with_fund=False)
    assert d.DatabaseProvidentFund(sessions).account(_query()) == FundAccount(found=False)
