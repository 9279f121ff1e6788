"""Statutory retirement month under the 2024 reform, and the minimum contribution years.

The reform moves the original retirement month (birth month + original age) by one month for
every ``step`` months after the reform starts, up to a cap. Numbering months from the reform's
first month as 1, a person whose original month is M (M >= 1) is delayed
``min(floor((M - 1) / step) + 1, cap)`` months; every published table row satisfies this.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.months import YearMonth
from domain.policy import Category, Gender, Policy


@dataclass(frozen=True, slots=True)
class StatutoryRetirement:
    birth_month: YearMonth
    category: Category
    original_retirement_month: YearMonth
    delay_months: int
    retirement_month: YearMonth
    min_contribution_years: Decimal

    @property
    def retirement_age_months(self) -> int:
        """Age at retirement in whole months."""
        return self.retirement_month.months_since(self.birth_month)

    @property
    def age_years(self) -> int:
        return self.retirement_age_months // 12

    @property
    def age_extra_months(self) -> int:
        return self.retirement_age_months % 12


def statutory_retirement(
    birth_month: YearMonth, category: Category, policy: Policy
) -> StatutoryRetirement:
    """The month a person reaches statutory retirement age (the case's month T)."""
    rule = policy.statutory_age.categories[category]
    original = birth_month.plus(rule.original_age_years * 12)
    position = original.months_since(policy.statutory_age.reform_start) + 1
    delay = (
        0 if position < 1 else min((position - 1) // rule.step_months + 1, rule.max_delay_months)
    )
    retirement = original.plus(delay)
    return StatutoryRetirement(
        birth_month=birth_month,
        category=category,
        original_retirement_month=original,
        delay_months=delay,
        retirement_month=retirement,
        min_contribution_years=min_contribution_years(retirement.year, policy),
    )


def min_contribution_years(retirement_year: int, policy: Policy) -> Decimal:
    """Contribution years needed for a monthly pension when retiring in ``retirement_year``."""
    return policy.min_contribution.years_for(retirement_year)


def category_gender(category: Category, policy: Policy) -> Gender:
    return policy.statutory_age.categories[category].gender


def first_birth_month_retiring_from(
    month: YearMonth, category: Category, policy: Policy
) -> YearMonth:
    """The earliest birth month whose statutory retirement month is ``month`` or later.

    The inverse of :func:`statutory_retirement`, which is strictly increasing in the birth month
    but may skip months (a delay step moves two birth months a month apart by two): a roster
    looking ``month`` ahead uses this to find who reaches retirement age then.
    """
    rule = policy.statutory_age.categories[category]
    # The delay is at most the cap, so the answer lies within cap months before month - age.
    birth = month.minus(rule.original_age_years * 12 + rule.max_delay_months)
    while statutory_retirement(birth, category, policy).retirement_month < month:
        birth = birth.plus(1)
    return birth
