"""Scenarios: a person's department records set on purpose, through the admin API or a CSV.

A scenario replaces whatever the departments knew of the person and marks them scripted, so
nothing is derived for them later: a record the scenario leaves out (``no-household``,
``no-contribution-record``) stays missing and the department refuses or reports a mismatch.

The CSV (``python -m simulator --scenarios FILE``, or ``POST /admin/scenarios.csv``) has a header
``id_number,name,scenario`` and one named scenario a row; ``PUT /admin/people/{id_number}`` takes a
whole :class:`PersonScenario` for anything the names do not cover.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import Field, ValidationError
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from contracts.base import Model, Name, RegionCode, Years
from contracts.departments import FundAccountStatus
from contracts.workflow import ContributionProblem, ContributionProblemKind
from domain.idcard import InvalidIdNumber, parse_id_number
from simulator import people
from simulator.models import (
    ContributionRecord,
    FundAccountRow,
    HouseholdRecord,
    HouseholdStatus,
    InsuredStatus,
    MedicalInsuranceRecord,
    MedicalStatus,
    ScriptedPerson,
)

Money = Annotated[Decimal, Field(ge=0, le=Decimal(10) ** 10)]
DEFAULT_REGION = "220102"  # 长春市南关区


class HouseholdScenario(Model):
    name: Name | None = Field(default=None, description="as registered; default the person's")
    region_code: RegionCode = DEFAULT_REGION
    status: HouseholdStatus = HouseholdStatus.REGISTERED


class ContributionScenario(Model):
    status: Annotated[str, Field(max_length=64)] = "normal"
    problems: Annotated[list[ContributionProblem], Field(max_length=20)] = []
    contribution_index: Annotated[Decimal, Field(gt=0, le=10)] = Decimal("1.0")
    actual_years: Years = Decimal(30)
    deemed_years: Years = Decimal(0)
    account_balance: Money = Decimal("120000.00")
    insured_status: InsuredStatus = InsuredStatus.CONTRIBUTOR


class MedicalScenario(Model):
    actual_years: Years = Decimal(25)
    deemed_years: Years = Decimal(0)
    status: MedicalStatus = MedicalStatus.CONTRIBUTOR


class FundScenario(Model):
    balance: Money = Decimal("86000.00")
    status: FundAccountStatus = FundAccountStatus.ACTIVE
    card_number: Annotated[str, Field(pattern=r"^[0-9]{12,19}$")] | None = "6222020200112233445"


class PersonScenario(Model):
    """Every record the departments keep of one person; ``None`` means the department has none."""

    name: Name
    scenario: Annotated[str, Field(max_length=32)] = "custom"
    household: HouseholdScenario | None = HouseholdScenario()
    contributions: ContributionScenario | None = ContributionScenario()
    medical: MedicalScenario | None = MedicalScenario()
    fund: FundScenario | None = FundScenario()


ScenarioName = Literal[
    "normal",
    "arrears",
    "interruption",
    "transfer-pending",
    "consolidation",
    "no-household",
    "name-differs",
    "deceased",
    "no-contribution-record",
    "medical-shortfall",
    "no-fund-account",
    "frozen-fund",
    "no-card",
]
SCENARIOS: tuple[str, ...] = get_args(ScenarioName)

_PROBLEMS: dict[str, ContributionProblem] = {
    "arrears": ContributionProblem(
        id="arrears-1",
        kind=ContributionProblemKind.ARREARS,
        detail="contributions unpaid for 6 months",
        amount_yuan=Decimal("5400.00"),
    ),
    "interruption": ContributionProblem(
        id="interruption-1",
        kind=ContributionProblemKind.INTERRUPTION,
        detail="contributions interrupted for 14 months: confirm the gap",
    ),
    "transfer-pending": ContributionProblem(
        id="transfer-1",
        kind=ContributionProblemKind.TRANSFER,
        detail="a transfer of the insurance relation from another province is still open",
    ),
    "consolidation": ContributionProblem(
        id="consolidation-1",
        kind=ContributionProblemKind.CONSOLIDATION,
        detail="two personal accounts to consolidate",
    ),
}


def person(
    name: str,
    *,
    region_code: str = DEFAULT_REGION,
    household_status: HouseholdStatus | str = HouseholdStatus.REGISTERED,
    household_name: str | None = None,
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
    card_number: str | None = "6222020200112233445",
    with_household: bool = True,
    with_contributions: bool = True,
    with_medical: bool = True,
    with_fund: bool = True,
) -> PersonScenario:
    """A whole scenario from keyword figures (what tests and demos set, record by record)."""
    return PersonScenario(
        name=name,
        household=HouseholdScenario(
            name=household_name, region_code=region_code, status=HouseholdStatus(household_status)
        )
        if with_household
        else None,
        contributions=ContributionScenario(
            status=contribution_status,
            problems=list(contribution_problems),
            contribution_index=contribution_index,
            actual_years=actual_years,
            deemed_years=deemed_years,
            account_balance=account_balance,
            insured_status=InsuredStatus(insured_status),
        )
        if with_contributions
        else None,
        medical=MedicalScenario(
            actual_years=medical_actual_years,
            deemed_years=medical_deemed_years,
            status=MedicalStatus(medical_status),
        )
        if with_medical
        else None,
        fund=FundScenario(
            balance=fund_balance, status=FundAccountStatus(fund_status), card_number=card_number
        )
        if with_fund
        else None,
    )


def named(id_number: str, name: str, scenario: str) -> PersonScenario:
    """The records of a named scenario: the derived ones, with the one thing the name says."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    base = people.contributions(id_number)
    contributions: ContributionScenario | None = ContributionScenario(
        contribution_index=base.contribution_index,
        actual_years=base.actual_years,
        deemed_years=base.deemed_years,
        account_balance=base.account_balance,
    )
    fund_row = people.fund_account(id_number)
    household: HouseholdScenario | None = HouseholdScenario(region_code=id_number[:6])
    medical: MedicalScenario | None = MedicalScenario(
        actual_years=base.actual_years, deemed_years=base.deemed_years
    )
    fund: FundScenario | None = FundScenario(
        balance=fund_row.balance, card_number=fund_row.card_number
    )
    if scenario in _PROBLEMS and contributions is not None:
        contributions = contributions.model_copy(
            update={"status": "problems", "problems": [_PROBLEMS[scenario]]}
        )
    elif scenario == "no-household":
        household = None
    elif scenario == "name-differs":
        household = HouseholdScenario(name=f"{name}某", region_code=id_number[:6])
    elif scenario == "deceased":
        household = HouseholdScenario(region_code=id_number[:6], status=HouseholdStatus.DECEASED)
    elif scenario == "no-contribution-record":
        contributions = None
    elif scenario == "medical-shortfall":
        medical = MedicalScenario(actual_years=Decimal(8), deemed_years=Decimal(2))
    elif scenario == "no-fund-account":
        fund = None
    elif scenario == "frozen-fund" and fund is not None:
        fund = fund.model_copy(update={"status": FundAccountStatus.FROZEN})
    elif scenario == "no-card" and fund is not None:
        fund = fund.model_copy(update={"card_number": None})
    return PersonScenario(
        name=name,
        scenario=scenario,
        household=household,
        contributions=contributions,
        medical=medical,
        fund=fund,
    )


def apply(sessions: sessionmaker[Session], id_number: str, scenario: PersonScenario) -> None:
    """Replace every record of the person by the scenario's, in one transaction."""
    with sessions.begin() as session:
        _apply(session, id_number, scenario)


def _apply(session: Session, id_number: str, scenario: PersonScenario) -> None:
    for model in (HouseholdRecord, ContributionRecord, MedicalInsuranceRecord, FundAccountRow):
        session.execute(delete(model).where(model.id_number == id_number))
    session.merge(ScriptedPerson(id_number=id_number, scenario=scenario.scenario))
    if (h := scenario.household) is not None:
        session.add(
            HouseholdRecord(
                id_number=id_number,
                name=h.name or scenario.name,
                region_code=h.region_code,
                status=h.status,
            )
        )
    if (c := scenario.contributions) is not None:
        session.add(
            ContributionRecord(
                id_number=id_number,
                status=c.status,
                contribution_index=c.contribution_index,
                actual_years=c.actual_years,
                deemed_years=c.deemed_years,
                account_balance=c.account_balance,
                insured_status=c.insured_status,
                problems=[{**p.model_dump(mode="json"), "settled": False} for p in c.problems],
            )
        )
    if (m := scenario.medical) is not None:
        session.add(
            MedicalInsuranceRecord(
                id_number=id_number,
                actual_years=m.actual_years,
                deemed_years=m.deemed_years,
                status=m.status,
            )
        )
    if (f := scenario.fund) is not None:
        session.add(
            FundAccountRow(
                id_number=id_number, balance=f.balance, status=f.status, card_number=f.card_number
            )
        )


class CsvError(ValueError):
    """A CSV row that names no valid person or scenario: nothing of the file is applied."""


def parse_csv(text: str) -> list[tuple[str, PersonScenario]]:
    """Every row of a scenarios CSV, or :class:`CsvError` naming the first bad row."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"id_number", "name", "scenario"} - set(reader.fieldnames or [])
    if missing:
        raise CsvError(f"the header lacks {', '.join(sorted(missing))}")
    rows: list[tuple[str, PersonScenario]] = []
    for line, row in enumerate(reader, start=2):
        id_number = (row["id_number"] or "").strip().upper()
        try:
            check_id(id_number)
            rows.append((id_number, named(id_number, (row["name"] or "").strip(), row["scenario"])))
        except (ValueError, ValidationError) as exc:
            raise CsvError(f"line {line}: {exc}") from None
    return rows


def check_id(id_number: str) -> None:
    try:
        parse_id_number(id_number, datetime.now(UTC).date())
    except InvalidIdNumber as exc:
        raise ValueError(f"ID number {id_number!r}: {exc}") from None


def apply_all(sessions: sessionmaker[Session], rows: Iterable[tuple[str, PersonScenario]]) -> int:
    """Apply every row in one transaction: all or none."""
    count = 0
    with sessions.begin() as session:
        for id_number, scenario in rows:
            _apply(session, id_number, scenario)
            count += 1
    return count
