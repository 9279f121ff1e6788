"""Who a case is about and who acts on it: the person, the actors and their roles, the
departments, and which regions a region covers."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import Field, field_validator, model_validator

from contracts.base import Identifier, Model, Name, RegionCode
from domain.idcard import InvalidIdNumber, parse_id_number
from domain.months import YearMonth
from domain.policy import Category, Gender

# Validation of an ID number's birth date needs "today"; inside a model we only refuse dates no
# one alive could have. The API checks against the real date before it starts a case.
_LATEST_PLAUSIBLE_BIRTH = date(9999, 12, 31)


class Department(StrEnum):
    HR = "hr"  # 人社: pre-review, formal approval
    SOCIAL_INSURANCE = "social-insurance"  # 社保经办: contributions, pension
    MEDICAL = "medical-security"  # 医保: deemed years, retiree cover
    PROVIDENT_FUND = "provident-fund"  # 公积金: seal and pay out
    PUBLIC_SECURITY = "public-security"  # 公安: household registration
    HEALTH = "health-commission"  # 卫健: one-child reward policy


class Role(StrEnum):
    EMPLOYER = "employer"
    AGENCY = "agency"  # 流动人员档案托管机构, for people without an employer
    INDIVIDUAL = "individual"
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SYSTEM = "system"


def region_prefix(actor_region: str) -> str:
    """The start every region code under ``actor_region`` shares: a province-level code (xx0000)
    covers its cities and counties (xx), a city-level one (xxxx00) its counties (xxxx), a county
    only itself. The one statement of the rule: Python checks use :func:`region_covers`, the read
    model's queries ``api.queries.region_filter``."""
    if actor_region.endswith("0000"):
        return actor_region[:2]
    if actor_region.endswith("00"):
        return actor_region[:4]
    return actor_region


def region_covers(actor_region: str, case_region: str) -> bool:
    return case_region.startswith(region_prefix(actor_region))


class Actor(Model):
    """Who did something: recorded with every decision and in the audit log."""

    id: Identifier
    role: Role
    organisation: Identifier | None = None
    department: Department | None = None
    region: RegionCode | None = None
    at_counter: bool = Field(
        default=False, description="a clerk acting for the person at the offline counter"
    )

    @model_validator(mode="after")
    def _clerks_have_a_department(self) -> Self:
        if self.role in (Role.CLERK, Role.SUPERVISOR) and (
            self.department is None or self.region is None
        ):
            raise ValueError(f"a {self.role} acts for a department and region")
        if self.role in (Role.EMPLOYER, Role.AGENCY) and self.organisation is None:
            raise ValueError(f"an {self.role} acts for an organisation")
        return self

    def label(self) -> str:
        if self.role is Role.INDIVIDUAL:
            return f"individual:{self.id[:12]}"  # a pseudonym (person key): short is enough
        where = self.department or self.organisation or ""
        counter = " at the counter" if self.at_counter else ""
        return f"{self.role}:{self.id}{'@' + where if where else ''}{counter}"


SYSTEM = Actor(id="workflow", role=Role.SYSTEM)


class Person(Model):
    """The retiree. Personal data: never in workflow ids, search attributes or logs."""

    id_number: str
    name: Name
    category: Category
    region_code: RegionCode = Field(description="the region whose HR bureau manages the case")
    employer_id: Identifier | None = None
    agency_id: Identifier | None = None

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        try:
            return parse_id_number(value, _LATEST_PLAUSIBLE_BIRTH).number
        except InvalidIdNumber as exc:
            raise ValueError(f"ID number: {exc}") from None

    @model_validator(mode="after")
    def _one_organisation(self) -> Self:
        if (self.employer_id is None) == (self.agency_id is None):
            raise ValueError("a person has either an employer or an archive agency, not both")
        gender = parse_id_number(self.id_number, _LATEST_PLAUSIBLE_BIRTH).gender
        female = self.category in (Category.FEMALE_CADRE, Category.FEMALE_WORKER)
        if female != (gender is Gender.FEMALE):
            raise ValueError(f"category {self.category} does not match the ID number's gender")
        return self

    @property
    def birth_month(self) -> YearMonth:
        return YearMonth.of(parse_id_number(self.id_number, _LATEST_PLAUSIBLE_BIRTH).birth_date)

    @property
    def gender(self) -> Gender:
        return parse_id_number(self.id_number, _LATEST_PLAUSIBLE_BIRTH).gender

    @property
    def organisation(self) -> str:
        """The employer, or the archive agency for a person without one."""
        return self.employer_id or self.agency_id or ""

    @property
    def has_employer(self) -> bool:
        return self.employer_id is not None
