"""Pension estimate for an enterprise employee at retirement, in yuan as ``Decimal``.

basic         = (W + W × index) / 2 × (actual + deemed years) × basic rate (1%)
personal      = personal account balance ÷ months divisor (国发〔2005〕38号, by age)
transitional  = W × index × deemed years before personal accounts × Jilin rate (1.2%)

W is the average monthly wage published for the period containing the retirement month. Each
part is rounded to the fen (half up) and the total is the sum of the rounded parts, as a payment
slip shows them. Money is never a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.months import YearMonth
from domain.policy import Policy, WageBase

FEN = Decimal("0.01")
MAX_YEARS = Decimal(80)
MAX_INDEX = Decimal(10)  # contribution bases are capped at 3× the average wage; 10 is generous
MAX_BALANCE = Decimal(10) ** 10  # yuan; far above any personal account


class PensionInputError(ValueError):
    """The inputs cannot give an estimate under the policy (the message says why)."""


@dataclass(frozen=True, slots=True)
class PensionEstimate:
    retirement_month: YearMonth
    age: int  # at retirement, in months: the months divisor's age
    wage_area: str
    wage_base: Decimal
    wage_base_period: str
    wage_base_provisional: bool
    indexed_wage: Decimal
    contribution_years: Decimal
    divisor: Decimal
    basic: Decimal
    personal_account: Decimal
    transitional: Decimal

    @property
    def total(self) -> Decimal:
        return self.basic + self.personal_account + self.transitional

    @property
    def age_years(self) -> int:
        return self.age // 12

    @property
    def age_months(self) -> int:
        return self.age % 12


def to_fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def estimate_pension(
    *,
    birth_month: YearMonth,
    retirement_month: YearMonth,
    contribution_index: Decimal,
    actual_years: Decimal,
    deemed_years: Decimal,
    account_balance: Decimal,
    policy: Policy,
    wage_area: str | None = None,
) -> PensionEstimate:
    """Estimate the monthly pension of someone born in ``birth_month`` who retires in
    ``retirement_month`` (their age then picks the months divisor); :class:`PensionInputError`
    when the inputs don't fit. The API, the CLI and the workflow all call it so: one mapping."""
    if not 0 < contribution_index <= MAX_INDEX:
        raise PensionInputError(f"the average contribution index must be in (0, {MAX_INDEX}]")
    for name, years in (("actual", actual_years), ("deemed", deemed_years)):
        if not 0 <= years <= MAX_YEARS:
            raise PensionInputError(f"{name} years must be 0..{MAX_YEARS}")
    if not 0 <= account_balance <= MAX_BALANCE:
        raise PensionInputError(f"the account balance must be 0..{MAX_BALANCE:f} yuan")
    age = retirement_month.months_since(birth_month)
    if age < 0:
        raise PensionInputError("the retirement month is before the birth month")
    rules = policy.pension
    area = wage_area or rules.default_wage_area
    base, provisional = wage_base_for(retirement_month, policy)
    if area not in base.areas:
        raise PensionInputError(
            f"no wage base for area {area!r}; known: {', '.join(sorted(base.areas))}"
        )
    wage = base.areas[area]
    indexed = wage * contribution_index
    years = actual_years + deemed_years
    divisor = months_divisor(age // 12, age % 12, policy)
    return PensionEstimate(
        retirement_month=retirement_month,
        age=age,
        wage_area=area,
        wage_base=wage,
        wage_base_period=f"{base.start}..{base.end}",
        wage_base_provisional=provisional,
        indexed_wage=to_fen(indexed),
        contribution_years=years,
        divisor=divisor,
        basic=to_fen((wage + indexed) / 2 * years * rules.basic_rate),
        personal_account=to_fen(account_balance / divisor),
        transitional=to_fen(indexed * deemed_years * rules.transitional.rate),
    )


def wage_base_for(month: YearMonth, policy: Policy) -> tuple[WageBase, bool]:
    """The wage base in force for ``month``; outside every published period the nearest one,
    flagged provisional (an estimate for a future retirement uses the latest published figure)."""
    bases = sorted(policy.pension.wage_bases, key=lambda b: b.start)
    for base in bases:
        if base.start <= month <= base.end:
            return base, False
    return (bases[-1] if month > bases[-1].end else bases[0]), True


def months_divisor(age_years: int, age_months: int, policy: Policy) -> Decimal:
    """计发月数 for an age at retirement; interpolated by month only if the policy says so."""
    table = policy.pension.divisor.months_by_age
    if age_years not in table:
        raise PensionInputError(
            f"no months divisor for age {age_years}; the table covers {min(table)}..{max(table)}"
        )
    divisor = Decimal(table[age_years])
    if policy.pension.divisor.interpolate_months and age_months and age_years + 1 in table:
        step = Decimal(table[age_years] - table[age_years + 1])
        divisor -= step * age_months / 12
    return divisor
