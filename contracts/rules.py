"""Views of the rules' answers, shared by the CLI's ``--json`` and the HTTP API.

Numbers (years, yuan) are JSON numbers, not strings: scripts compare them. Amounts are rounded
to the fen by the rules, so their float form is exact text.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, PlainSerializer

from domain.months import YearMonth
from domain.pension import PensionEstimate
from domain.policy import Category
from domain.statutory import StatutoryRetirement
from domain.timeline import CaseTimeline, Milestone


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


Number = Annotated[Decimal, PlainSerializer(_number, return_type=int | float, when_used="json")]


class RetirementDate(BaseModel):
    birth_month: YearMonth
    category: Category
    original_retirement_month: YearMonth
    retirement_month: YearMonth
    retirement_age_years: int
    retirement_age_months: int
    delay_months: int
    min_contribution_years: Number

    @classmethod
    def of(cls, s: StatutoryRetirement) -> Self:
        return cls(
            birth_month=s.birth_month,
            category=s.category,
            original_retirement_month=s.original_retirement_month,
            retirement_month=s.retirement_month,
            retirement_age_years=s.age_years,
            retirement_age_months=s.age_extra_months,
            delay_months=s.delay_months,
            min_contribution_years=s.min_contribution_years,
        )


class ReminderView(BaseModel):
    milestone: Milestone
    on: date
    days_before: int
    due: date


class Timeline(BaseModel):
    retirement_month: YearMonth
    declaration_due: date
    contribution_check_due: date
    initiation_opens: date
    initiation_due: date
    retirement_effective: date
    first_pension_month: YearMonth
    reminders: list[ReminderView]

    @classmethod
    def of(cls, t: CaseTimeline) -> Self:
        return cls(
            retirement_month=t.retirement_month,
            declaration_due=t.declaration_due,
            contribution_check_due=t.contribution_check_due,
            initiation_opens=t.initiation_opens,
            initiation_due=t.initiation_due,
            retirement_effective=t.retirement_effective,
            first_pension_month=t.first_pension_month,
            reminders=[
                ReminderView(milestone=r.milestone, on=r.on, days_before=r.days_before, due=r.due)
                for r in t.reminders
            ],
        )


class Pension(BaseModel):
    retirement_month: YearMonth
    age_years: int
    age_months: int
    wage_area: str
    wage_base: Number
    wage_base_period: str
    wage_base_provisional: bool
    indexed_wage: Number
    contribution_years: Number
    divisor_months: Number
    basic: Number
    personal_account: Number
    transitional: Number
    total: Number

    @classmethod
    def of(cls, e: PensionEstimate) -> Self:
        return cls(
            retirement_month=e.retirement_month,
            age_years=e.age_years,
            age_months=e.age_months,
            wage_area=e.wage_area,
            wage_base=e.wage_base,
            wage_base_period=e.wage_base_period,
            wage_base_provisional=e.wage_base_provisional,
            indexed_wage=e.indexed_wage,
            contribution_years=e.contribution_years,
            divisor_months=e.divisor,
            basic=e.basic,
            personal_account=e.personal_account,
            transitional=e.transitional,
            total=e.total,
        )
