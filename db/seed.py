"""Department records for a person, for tests and the demo.

``seed_person`` writes what each department system knows about someone before a case starts:
the household registration, the social insurance contribution record (with any problems to
settle), the medical insurance record and the provident fund account. It upserts, so calling it
again for the same person replaces those records.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from contracts.departments import FundAccountStatus
from contracts.workflow import ContributionProblem
from db.models import (
    ContributionRecord,
    FundAccountRow,
    HouseholdRecord,
    HouseholdStatus,
    InsuredStatus,
    MedicalInsuranceRecord,
    MedicalStatus,
)

DEMO_CARD_NUMBER = "6222020200112233445"
DEMO_REGION = "220102"  # 长春市南关区


def seed_person(
    session_factory: sessionmaker[Session],
    id_number: str,
    name: str,
    *,
    region_code: str = DEMO_REGION,
    household_status: HouseholdStatus | str = HouseholdStatus.REGISTERED,
    contribution_status: str = "normal",
    contribution_problems: Sequence[ContributionProblem] = (),
    contribution_index: Decimal = Decimal("1.0"),
    actual_years: Decimal = Decimal("30"),
    deemed_years: Decimal = Decimal("0"),
    account_balance: Decimal = Decimal("120000.00"),
    insured_status: InsuredStatus | str = InsuredStatus.CONTRIBUTOR,
    medical_actual_years: Decimal = Decimal("25"),
    medical_deemed_years: Decimal = Decimal("0"),
    medical_status: MedicalStatus | str = MedicalStatus.CONTRIBUTOR,
    fund_balance: Decimal = Decimal("86000.00"),
    fund_status: FundAccountStatus | str = FundAccountStatus.ACTIVE,
    card_number: str | None = DEMO_CARD_NUMBER,
    with_household: bool = True,
    with_contributions: bool = True,
    with_medical: bool = True,
    with_fund: bool = True,
) -> None:
    """Create or replace the department records of one person (statuses are checked against
    their enums, so a typo fails here rather than in a department call)."""
    with session_factory.begin() as session:
        if with_household:
            session.merge(
                HouseholdRecord(
                    id_number=id_number,
                    name=name,
                    region_code=region_code,
                    status=str(HouseholdStatus(household_status)),
                )
            )
        if with_contributions:
            session.merge(
                ContributionRecord(
                    id_number=id_number,
                    status=contribution_status,
                    contribution_index=contribution_index,
                    actual_years=actual_years,
                    deemed_years=deemed_years,
                    account_balance=account_balance,
                    insured_status=str(InsuredStatus(insured_status)),
                    problems=[
                        {**problem.model_dump(mode="json"), "settled": False}
                        for problem in contribution_problems
                    ],
                )
            )
        if with_medical:
            session.merge(
                MedicalInsuranceRecord(
                    id_number=id_number,
                    actual_years=medical_actual_years,
                    deemed_years=medical_deemed_years,
                    status=str(MedicalStatus(medical_status)),
                )
            )
        if with_fund:
            session.merge(
                FundAccountRow(
                    id_number=id_number,
                    balance=fund_balance,
                    status=str(FundAccountStatus(fund_status)),
                    card_number=card_number,
                )
            )
