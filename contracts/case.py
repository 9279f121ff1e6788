"""Who a case is about, who acts on it, and what the employer declares."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.early import Appraisal, SpecialJobPeriod
from domain.idcard import InvalidIdNumber, parse_id_number
from domain.months import YearMonth
from domain.plan import RetirementPath
from domain.policy import Category, Gender, SpecialJobKind

RegionCode = Annotated[str, Field(pattern=r"^\d{6}$", description="GB/T 2260 region code")]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:@-]+$")]
# Free text people send: no NUL or other control characters but newline and tab (PostgreSQL
# refuses NUL, and no name or reason needs the others).
_PRINTABLE = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
Text = Annotated[str, Field(max_length=2000, pattern=_PRINTABLE)]
Reason = Annotated[str, Field(min_length=1, max_length=2000, pattern=_PRINTABLE)]
Ref = Annotated[str, Field(max_length=200, pattern=_PRINTABLE)]  # evidence, archive pages
Name = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f]*$")]
IdNumber = Annotated[str, Field(pattern=r"^[0-9]{17}[0-9X]$", description="18-digit ID number")]
CaseId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
Years = Annotated[Decimal, Field(ge=0, le=80)]


def _plausible(month: YearMonth) -> YearMonth:
    if not 1900 <= month.year <= 2100:
        raise ValueError(f"{month} is outside 1900..2100")
    return month


Month = Annotated[YearMonth, AfterValidator(_plausible)]
# Validation of an ID number's birth date needs "today"; inside a model we only refuse dates no
# one alive could have. The API checks against the real date before it starts a case.
_LATEST_PLAUSIBLE_BIRTH = date(9999, 12, 31)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class SpecialJob(Model):
    kind: SpecialJobKind
    years: Annotated[Decimal, Field(gt=0, le=50)]

    def period(self) -> SpecialJobPeriod:
        return SpecialJobPeriod(self.kind, self.years)


class FlexibleChoice(Model):
    notice_month: Month = Field(
        description="written notice (early) or written confirmation (delay)"
    )
    employer_agreed: bool = False


class OneChild(Model):
    holds_certificate: bool
    child_birth_date: date | None = None
    further_children: bool = False
    registered_in_province: bool = True


class Declaration(Model):
    """What the employer or agency submits for pre-review (申报)."""

    path: RetirementPath = RetirementPath.NORMAL
    contribution_years: Years = Field(description="actual contribution years on record")
    deemed_years: Years = Field(default=Decimal(0), description="视同缴费年限 claimed")
    requested_month: Month | None = Field(
        default=None, description="early and flexible paths: the month asked for"
    )
    special_jobs: Annotated[list[SpecialJob], Field(max_length=20)] = []
    appraisal: Appraisal | None = None
    flexible: FlexibleChoice | None = None
    archive_birth_month: Month | None = Field(
        default=None,
        description="birth month first recorded in the personnel archive, where it differs "
        "from the ID number (the archive prevails)",
    )
    one_child: OneChild | None = None
    archive_refs: Annotated[list[Ref], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _path_needs(self) -> Self:
        needs = {
            RetirementPath.SPECIAL_JOB: ("special_jobs", bool(self.special_jobs)),
            RetirementPath.ILLNESS: ("appraisal", self.appraisal is not None),
            RetirementPath.FLEXIBLE_EARLY: ("flexible", self.flexible is not None),
            RetirementPath.FLEXIBLE_DELAY: ("flexible", self.flexible is not None),
        }
        if self.path in needs and not needs[self.path][1]:
            raise ValueError(f"the {self.path} path needs {needs[self.path][0]}")
        if self.path is not RetirementPath.NORMAL and self.requested_month is None:
            raise ValueError(f"the {self.path} path needs requested_month")
        return self
