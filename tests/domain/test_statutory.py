from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.months import YearMonth
from domain.policy import Category, Policy
from domain.statutory import (
    first_birth_month_retiring_from,
    min_contribution_years,
    statutory_retirement,
)
from policies import load_policy

M = YearMonth.parse
# Hypothesis tests cannot take function-scoped fixtures; the policy is immutable, so share it.
_POLICY = load_policy()


@pytest.mark.parametrize(
    ("category", "birth", "retirement", "years", "months"),
    [
        # The published rows (rules.md §1).
        (Category.MALE, "1964-02", "2024-02", 60, 0),
        (Category.MALE, "1965-01", "2025-02", 60, 1),
        (Category.MALE, "1965-12", "2026-03", 60, 3),
        (Category.FEMALE_CADRE, "1971-04", "2026-08", 55, 4),
        (Category.FEMALE_WORKER, "1995-12", "2050-12", 55, 0),
        # The first birth months at the cap.
        (Category.MALE, "1976-09", "2039-09", 63, 0),
        (Category.FEMALE_CADRE, "1981-09", "2039-09", 58, 0),
        (Category.FEMALE_WORKER, "1984-11", "2039-11", 55, 0),
    ],
)
def test_published_rows(
    policy: Policy, category: Category, birth: str, retirement: str, years: int, months: int
) -> None:
    result = statutory_retirement(M(birth), category, policy)
    assert str(result.retirement_month) == retirement
    assert (result.age_years, result.age_extra_months) == (years, months)


@pytest.mark.parametrize(
    ("category", "first_capped", "cap"),
    [
        (Category.MALE, "1976-09", 36),
        (Category.FEMALE_CADRE, "1981-09", 36),
        (Category.FEMALE_WORKER, "1984-11", 60),
    ],
)
def test_cap_is_reached_exactly_at_the_published_month(
    policy: Policy, category: Category, first_capped: str, cap: int
) -> None:
    first = M(first_capped)
    assert statutory_retirement(first, category, policy).delay_months == cap
    assert statutory_retirement(first.minus(1), category, policy).delay_months == cap - 1
    assert statutory_retirement(first.plus(1), category, policy).delay_months == cap


def test_no_delay_before_the_reform(policy: Policy) -> None:
    result = statutory_retirement(M("1964-12"), Category.MALE, policy)
    assert (result.original_retirement_month, result.delay_months) == (M("2024-12"), 0)


@pytest.mark.parametrize(
    ("year", "years"),
    [
        (2024, "15"),
        (2029, "15"),
        (2030, "15.5"),
        (2031, "16"),
        (2038, "19.5"),
        (2039, "20"),
        (2060, "20"),
    ],
)
def test_minimum_contribution_years(policy: Policy, year: int, years: str) -> None:
    assert min_contribution_years(year, policy) == Decimal(years)


births = st.builds(YearMonth, st.integers(1940, 2000), st.integers(1, 12))
categories = st.sampled_from(list(Category))


@given(births, categories)
def test_a_later_birth_never_retires_earlier(birth: YearMonth, category: Category) -> None:
    policy = _POLICY
    this = statutory_retirement(birth, category, policy)
    later = statutory_retirement(birth.plus(1), category, policy)
    assert later.retirement_month > this.retirement_month
    assert 0 <= later.delay_months - this.delay_months <= 1


@given(births, categories)
def test_delay_steps_every_step_months(birth: YearMonth, category: Category) -> None:
    policy = _POLICY
    rule = policy.statutory_age.categories[category]
    this = statutory_retirement(birth, category, policy)
    after = statutory_retirement(birth.plus(rule.step_months), category, policy)
    if this.original_retirement_month < policy.statutory_age.reform_start:
        assert this.delay_months == 0
    elif this.delay_months < rule.max_delay_months:
        assert after.delay_months == this.delay_months + 1
    else:
        assert after.delay_months == rule.max_delay_months
    assert this.retirement_month == this.original_retirement_month.plus(this.delay_months)


@given(st.builds(YearMonth, st.integers(2000, 2060), st.integers(1, 12)), categories)
def test_first_birth_month_retiring_from_is_the_inverse(
    month: YearMonth, category: Category
) -> None:
    birth = first_birth_month_retiring_from(month, category, _POLICY)
    assert statutory_retirement(birth, category, _POLICY).retirement_month >= month
    assert statutory_retirement(birth.minus(1), category, _POLICY).retirement_month < month
