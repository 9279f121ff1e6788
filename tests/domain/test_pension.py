from decimal import Decimal

import pytest

from domain.months import YearMonth
from domain.pension import PensionInputError, estimate_pension, months_divisor
from domain.policy import Policy


def test_worked_example(policy: Policy) -> None:
    # A man born 1966-01 retires 2026-05 at 60y4m. Wage base 2025-07..2026-06
    # (吉人社联〔2025〕97号): W = 7322.08 a month (87,865 a year). index 1.2 -> indexed wage
    # 7322.08 × 1.2 = 8786.496; years 30 actual + 5 deemed = 35.
    #   basic        = (7322.08 + 8786.496) / 2 × 35 × 1% = 8054.288 × 0.35 = 2819.0008 → 2819.00
    #   personal     = 150000 / 139 (age 60)               = 1079.1366…       → 1079.14
    #   transitional = 8786.496 × 5 × 1.2%                 = 527.18976        → 527.19
    #   total        = 2819.00 + 1079.14 + 527.19                             = 4425.33
    est = estimate_pension(
        birth_month=YearMonth(1966, 1), retirement_month=YearMonth(2026, 5),
        contribution_index=Decimal("1.2"), actual_years=Decimal(30), deemed_years=Decimal(5),
        account_balance=Decimal(150000), policy=policy,
    )  # fmt: skip
    assert (est.wage_base, est.wage_base_provisional) == (Decimal("7322.08"), False)
    assert est.indexed_wage == Decimal("8786.50")
    assert est.basic == Decimal("2819.00")
    assert est.personal_account == Decimal("1079.14")
    assert est.transitional == Decimal("527.19")
    assert est.total == Decimal("4425.33")
    assert all(isinstance(v, Decimal) for v in (est.basic, est.personal_account, est.total))


def test_changchun_wage_and_half_up_rounding(policy: Policy) -> None:
    # Changchun W = 7978.25 (95,739 a year), index 1; 26 actual years, no deemed, age 55 (170).
    #   basic    = (7978.25 + 7978.25) / 2 × 26 × 1% = 79.7825 × 26 = 2074.345 → 2074.35 (half
    #              up; half-even would give 2074.34)
    #   personal = 20000.85 / 170 = 117.6520… → 117.65
    est = estimate_pension(
        birth_month=YearMonth(1970, 7), retirement_month=YearMonth(2025, 7),
        contribution_index=Decimal(1), actual_years=Decimal(26), deemed_years=Decimal(0),
        account_balance=Decimal("20000.85"), policy=policy, wage_area="changchun",
    )  # fmt: skip
    assert est.wage_base == Decimal("7978.25")
    assert (est.basic, est.personal_account, est.transitional) == (
        Decimal("2074.35"),
        Decimal("117.65"),
        Decimal("0.00"),
    )


def test_state_farm_wage_base(policy: Policy) -> None:
    # State farms (农垦) W = 2223.42 (26,681 a year), index 1, 20 years: 2223.42 × 0.2 = 444.684
    # → 444.68.
    est = estimate_pension(
        birth_month=YearMonth(1966, 1), retirement_month=YearMonth(2026, 1),
        contribution_index=Decimal(1), actual_years=Decimal(20), deemed_years=Decimal(0),
        account_balance=Decimal(0), policy=policy, wage_area="state-farm",
    )  # fmt: skip
    assert (est.wage_base, est.basic) == (Decimal("2223.42"), Decimal("444.68"))


def test_future_retirement_uses_the_latest_base_flagged_provisional(policy: Policy) -> None:
    est = estimate_pension(
        birth_month=YearMonth(1970, 1), retirement_month=YearMonth(2031, 5),
        contribution_index=Decimal(1), actual_years=Decimal(20), deemed_years=Decimal(0),
        account_balance=Decimal(0), policy=policy,
    )  # fmt: skip
    assert est.wage_base_provisional
    assert est.wage_base_period == "2025-07..2026-06"


def test_divisor_interpolation_is_a_policy_switch(policy: Policy) -> None:
    assert months_divisor(60, 3, policy) == 139
    divisor = policy.pension.divisor.model_copy(update={"interpolate_months": True})
    pension = policy.pension.model_copy(update={"divisor": divisor})
    interpolating = policy.model_copy(update={"pension": pension})
    # 139 - (139 - 132) × 3/12 = 137.25
    assert months_divisor(60, 3, interpolating) == Decimal("137.25")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"birth_month": YearMonth(1987, 1)}, "no months divisor"),  # 39
        ({"wage_area": "shanghai"}, "no wage base for area"),
        ({"contribution_index": Decimal(0)}, "index"),
        ({"birth_month": YearMonth(2026, 2)}, "before the birth month"),
    ],
)
def test_bad_inputs(policy: Policy, kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "birth_month": YearMonth(1966, 1), "retirement_month": YearMonth(2026, 1),
        "contribution_index": Decimal(1), "actual_years": Decimal(20),
        "deemed_years": Decimal(0), "account_balance": Decimal(0),
    }  # fmt: skip
    with pytest.raises(PensionInputError, match=message):
        estimate_pension(**{**base, **kwargs}, policy=policy)  # type: ignore[arg-type]
