"""Plausible department records for anyone, derived from their ID number and declaration.

A real department knows everyone who has worked in the province; the simulator cannot, so the
first time a system is asked about a person it has no record of, it makes one up — the same one
every time for the same input, so a run can be repeated. The figures are drawn from a hash of the
ID number within ranges such records really have. Where the employer's declaration is known (HR
pushes it to social insurance at pre-review) the contribution record agrees with what was
declared, as it does for the great majority of real declarations; a disagreement is a scenario
(``simulator.scenarios``), not chance.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from contracts.departments import FundAccountStatus
from domain.idcard import parse_id_number
from simulator.models import (
    ContributionRecord,
    FundAccountRow,
    HouseholdRecord,
    HouseholdStatus,
    InsuredStatus,
    MedicalInsuranceRecord,
    MedicalStatus,
)

CENT = Decimal("0.01")
PERSONAL_ACCOUNTS_FROM = 1996  # personal pension accounts began; earlier years are deemed
MEDICAL_ACCOUNTS_FROM = 2001  # Jilin's urban employee medical insurance; earlier years deemed
MONTHLY_WAGE_BASE = Decimal("7978.25")  # Changchun's 2025 base (吉人社联〔2025〕97号)


def _draw(id_number: str, purpose: str) -> int:
    """A stable number in [0, 2**64) for this person and purpose."""
    digest = hashlib.sha256(f"{purpose}:{id_number}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _birth(id_number: str) -> date:
    return parse_id_number(id_number, datetime.now(UTC).date()).birth_date


def household(id_number: str, name: str, region_code: str) -> HouseholdRecord:
    """Registered under the name and region the first check asked about: the registry agrees
    with a declaration unless a scenario says it does not."""
    return HouseholdRecord(
        id_number=id_number,
        name=name,
        region_code=region_code,
        status=HouseholdStatus.REGISTERED,
    )


def _working_years(id_number: str, retirement_year: int | None) -> tuple[int, Decimal]:
    """The year the person started work (at 18 to 22) and the years until retirement."""
    born = _birth(id_number)
    start = born.year + 18 + _draw(id_number, "start") % 5
    end = retirement_year if retirement_year is not None else born.year + 60
    return start, Decimal(max(end - start, 0))


def contributions(
    id_number: str,
    *,
    declaration: dict[str, Any] | None = None,
    retirement_year: int | None = None,
) -> ContributionRecord:
    """The contribution record: the declared actual and deemed years when a declaration is known,
    else years from the first job (before 1996 deemed) to about the statutory age."""
    start, total = _working_years(id_number, retirement_year)
    if declaration is not None:
        actual = Decimal(str(declaration["contribution_years"]))
        deemed = Decimal(str(declaration.get("deemed_years", "0")))
    else:
        deemed = Decimal(max(min(PERSONAL_ACCOUNTS_FROM - start, int(total)), 0))
        actual = total - deemed
    index = (Decimal(80) + _draw(id_number, "index") % 80) / 100  # 0.80 to 1.59
    # 8% of the contribution wage went to the personal account each month (interest ignored).
    balance = actual * 12 * index * MONTHLY_WAGE_BASE * Decimal("0.6") * Decimal("0.08")
    return ContributionRecord(
        id_number=id_number,
        status="normal",
        contribution_index=index.quantize(Decimal("0.0001")),
        actual_years=actual,
        deemed_years=deemed,
        account_balance=balance.quantize(CENT),
        insured_status=InsuredStatus.CONTRIBUTOR,
        problems=[],
    )


def medical(
    id_number: str, pension: ContributionRecord | None, retirement_year: int | None
) -> MedicalInsuranceRecord:
    """Medical years: the pension years, those before 2001 deemed (the scheme began then)."""
    if pension is not None:
        total = pension.actual_years + pension.deemed_years
    else:
        total = _working_years(id_number, retirement_year)[1]
    end = retirement_year if retirement_year is not None else _birth(id_number).year + 60
    since_scheme = Decimal(max(end - MEDICAL_ACCOUNTS_FROM, 0))
    actual = min(total, since_scheme)
    return MedicalInsuranceRecord(
        id_number=id_number,
        actual_years=actual,
        deemed_years=total - actual,
        status=MedicalStatus.CONTRIBUTOR,
    )


def fund_account(id_number: str) -> FundAccountRow:
    """An active account with 20,000 to 150,000 yuan and a bank card on file."""
    cents = 2_000_000 + _draw(id_number, "fund") % 13_000_000
    card_digits = f"{_draw(id_number, 'card') % 10**15:015d}"
    return FundAccountRow(
        id_number=id_number,
        balance=(Decimal(cents) / 100).quantize(CENT),
        status=FundAccountStatus.ACTIVE,
        card_number=f"6222{card_digits}",
    )
