from decimal import Decimal

from domain.early import (
    Appraisal,
    SpecialJobPeriod,
    illness_early_retirement,
    special_job_early_retirement,
)
from domain.months import YearMonth
from domain.policy import Gender, Policy, SpecialJobKind

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
