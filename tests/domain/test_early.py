from decimal import Decimal

import pytest

from domain.early import (
    Appraisal,
    SpecialJobPeriod,
    illness_early_retirement,
    special_job_early_retirement,
)
from domain.months import YearMonth
from domain.plan import RetirementPath, plan_retirement
from domain.policy import Category, Gender, Policy, SpecialJobKind

M = YearMonth.parse
STATUTORY = M("2031-10")


def test_special_job_eligible_man(policy: Policy) -> None:
    result = special_job_early_retirement(
        M("1970-01"), Gender.MALE,
        [SpecialJobPeriod(SpecialJobKind.UNDERGROUND_HIGH_TEMPERATURE, Decimal(9))],
        STATUTORY, policy,
    )  # fmt: skip
    assert result.eligible
    assert result.earliest_month == M("2025-01")  # 55
    assert result.required_years == 9


def test_years_in_different_jobs_add_up_under_the_most_demanding(policy: Policy) -> None:
    periods = [
        SpecialJobPeriod(SpecialJobKind.HARMFUL, Decimal(5)),
        SpecialJobPeriod(SpecialJobKind.HIGH_ALTITUDE_HEAVY, Decimal(4)),
    ]
    short = special_job_early_retirement(M("1975-03"), Gender.FEMALE, periods, STATUTORY, policy)
    assert short.qualifying_kind is SpecialJobKind.HIGH_ALTITUDE_HEAVY
    assert (short.held_years, short.required_years) == (Decimal(9), Decimal(10))
    assert [r.rule for r in short.refusals] == ["early.special-job.years"]
    assert short.earliest_month == M("2020-03")  # women 45
    enough = [*periods, SpecialJobPeriod(SpecialJobKind.HARMFUL, Decimal(1))]
    assert special_job_early_retirement(
        M("1975-03"), Gender.FEMALE, enough, STATUTORY, policy
    ).eligible


def test_no_special_job(policy: Policy) -> None:
    result = special_job_early_retirement(M("1970-01"), Gender.MALE, [], STATUTORY, policy)
    assert [r.rule for r in result.refusals] == ["early.special-job.none"]


def test_illness_needs_complete_loss_and_years(policy: Policy) -> None:
    ok = illness_early_retirement(
        M("1975-06"), Gender.MALE, Appraisal.COMPLETE_LOSS, Decimal(15), STATUTORY, policy
    )
    assert ok.eligible and ok.earliest_month == M("2025-06")  # men 50
    refused = illness_early_retirement(
        M("1975-06"), Gender.FEMALE, Appraisal.PARTIAL_LOSS, Decimal("14.5"), STATUTORY, policy
    )
    assert {r.rule for r in refused.refusals} == {
        "early.illness.appraisal",
        "early.illness.contribution",
    }
    assert refused.earliest_month == M("2020-06")  # women 45


def test_early_age_must_come_before_the_statutory_month(policy: Policy) -> None:
    result = illness_early_retirement(
        M("1975-06"), Gender.MALE, Appraisal.COMPLETE_LOSS, Decimal(20), M("2025-06"), policy
    )
    assert [r.rule for r in result.refusals] == ["early.illness.not-earlier"]


# Illness early retirement needs the national minimum contribution years of the year the person
# retires (2024 reform: 15 until 2029, then +6 months a year from 2030 up to 20 in 2039).
ILLNESS_YEARS = [(2029, "15"), (2030, "15.5"), (2035, "18"), (2039, "20"), (2040, "20")]


@pytest.mark.parametrize(("year", "needed"), ILLNESS_YEARS)
def test_illness_contribution_years_depend_on_the_retirement_year(
    policy: Policy, year: int, needed: str
) -> None:
    # A man born 1975-06 reaches the illness age (50) in 2025-06; statutory month set far off.
    month, statutory = YearMonth(year, 6), M("2045-01")
    enough = illness_early_retirement(
        M("1975-06"), Gender.MALE, Appraisal.COMPLETE_LOSS, Decimal(needed), statutory, policy,
        retirement_month=month,
    )  # fmt: skip
    assert enough.eligible
    assert enough.required_years == Decimal(needed)
    short = illness_early_retirement(
        M("1975-06"), Gender.MALE, Appraisal.COMPLETE_LOSS, Decimal(needed) - Decimal("0.5"),
        statutory, policy, retirement_month=month,
    )  # fmt: skip
    assert [r.rule for r in short.refusals] == ["early.illness.contribution"]
    assert f"needs {needed} contribution years" in short.refusals[0].reason


def test_illness_years_default_to_the_earliest_month(policy: Policy) -> None:
    # A man born 1985-06 cannot retire for illness before 2035-06: 18 years then, not 15.
    result = illness_early_retirement(
        M("1985-06"), Gender.MALE, Appraisal.COMPLETE_LOSS, Decimal(15), M("2048-06"), policy
    )
    assert result.earliest_month == M("2035-06")
    assert result.required_years == 18
    assert [r.rule for r in result.refusals] == ["early.illness.contribution"]


@pytest.mark.parametrize(("year", "needed"), ILLNESS_YEARS)
def test_a_declared_illness_plan_uses_the_requested_year(
    policy: Policy, year: int, needed: str
) -> None:
    # The workflow's plan: a man born 1978-01 (illness age 2028-01; statutory 2041-01, capped at
    # 63) asks to retire in month 03 of ``year``, with exactly the years needed, then half a
    # year fewer.
    def plan(years: Decimal) -> list[str]:
        result = plan_retirement(
            birth_month=M("1978-01"), category=Category.MALE, path=RetirementPath.ILLNESS,
            policy=policy, contribution_years=years, requested_month=YearMonth(year, 3),
            appraisal=Appraisal.COMPLETE_LOSS,
        )  # fmt: skip
        assert result.statutory.retirement_month == M("2041-01")
        assert result.early is not None and result.early.required_years == Decimal(needed)
        return [r.rule for r in result.refusals]

    assert plan(Decimal(needed)) == []
    assert plan(Decimal(needed) - Decimal("0.5")) == ["early.illness.contribution"]
