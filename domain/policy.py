"""The versioned policy: every provincial figure the rules use, loaded from a TOML file.

Logic never hard-codes a figure; it takes a :class:`Policy`. Each section carries where its
figures come from and whether they were verified against an official text, so an administrator
can see (``retirement rules policy``) and correct the uncertain ones without a release.
"""

from __future__ import annotations

import itertools
import tomllib
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.months import YearMonth

Years = Annotated[Decimal, Field(ge=0, le=80)]
PositiveInt = Annotated[int, Field(ge=1)]


class Category(StrEnum):
    """The three statutory-age categories of the 2024 reform."""

    MALE = "male"
    FEMALE_CADRE = "female-cadre"
    FEMALE_WORKER = "female-worker"


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(_Model):
    """Where a section's figures come from; ``verified = false`` means "correct me"."""

    verified: bool
    source: str
    note: str = ""


class CategoryRule(_Model):
    gender: Gender
    original_age_years: Annotated[int, Field(ge=40, le=70)]
    step_months: PositiveInt
    max_delay_months: Annotated[int, Field(ge=0, le=120)]


class StatutoryAge(Provenance):
    reform_start: YearMonth
    categories: dict[Category, CategoryRule]

    @model_validator(mode="after")
    def _all_categories(self) -> Self:
        missing = set(Category) - set(self.categories)
        if missing:
            raise ValueError(f"statutory_age.categories lacks {sorted(missing)}")
        return self


class ContributionSchedule(_Model):
    """Minimum contribution years by retirement year: ``base_years`` until the year before
    ``rise_from_year``, then ``rise_per_year`` more each year up to ``max_years``."""

    base_years: Years
    rise_from_year: int
    rise_per_year: Years
    max_years: Years

    @model_validator(mode="after")
    def _rises(self) -> Self:
        if self.max_years < self.base_years:
            raise ValueError(f"max_years {self.max_years} is below base_years {self.base_years}")
        return self

    def years_for(self, retirement_year: int) -> Decimal:
        """Contribution years needed by someone retiring in ``retirement_year``."""
        steps = max(0, retirement_year - self.rise_from_year + 1)
        years = min(self.base_years + self.rise_per_year * steps, self.max_years)
        # 15 + 6 × 0.5 is Decimal("18.0"): say 18, as the law and every message should.
        return years.quantize(Decimal(1)) if years == years.to_integral_value() else years


class MinContribution(Provenance, ContributionSchedule):
    """The national minimum for a monthly pension (2024 reform, art. 2)."""


class Flexible(Provenance):
    max_early_months: Annotated[int, Field(ge=0)]
    max_delay_months: Annotated[int, Field(ge=0)]
    early_notice_months: Annotated[int, Field(ge=0)]
    delay_confirmation_months: Annotated[int, Field(ge=0)]


class SpecialJobKind(StrEnum):
    """Special-job (特殊工种) categories, most demanding first."""

    HIGH_ALTITUDE_HEAVY = "high-altitude-heavy"
    UNDERGROUND_HIGH_TEMPERATURE = "underground-high-temperature"
    HARMFUL = "harmful"


class SpecialJobs(Provenance):
    age_male: Annotated[int, Field(ge=40, le=70)]
    age_female: Annotated[int, Field(ge=40, le=70)]
    required_years: dict[SpecialJobKind, Years]

    @model_validator(mode="after")
    def _all_kinds(self) -> Self:
        missing = set(SpecialJobKind) - set(self.required_years)
        if missing:
            raise ValueError(f"early.special_jobs.required_years lacks {sorted(missing)}")
        return self


class Illness(Provenance):
    age_male: Annotated[int, Field(ge=40, le=70)]
    age_female: Annotated[int, Field(ge=40, le=70)]
    min_contribution: ContributionSchedule

    @model_validator(mode="before")
    @classmethod
    def _fixed_years(cls, data: Any) -> Any:
        """Policies before 2025.2 gave one fixed figure (``min_contribution_years = 15``). Such
        a policy is in the history of every case started with it (the workflow's input and the
        result of ``load_current_policy``), so it must still load, and mean what it meant then:
        the same years whatever the retirement year. One fixed figure is a flat schedule."""
        if not isinstance(data, dict) or "min_contribution_years" not in data:
            return data
        if "min_contribution" in data:
            raise ValueError(
                "give min_contribution (a schedule) or min_contribution_years, not both"
            )
        data = dict(data)
        years = data.pop("min_contribution_years")
        data["min_contribution"] = {
            "base_years": years,
            "rise_from_year": _FLAT_RISE_FROM,
            "rise_per_year": 0,
            "max_years": years,
        }
        return data

    def min_contribution_years(self, retirement_year: int) -> Decimal:
        """Contribution years an illness early retirement in ``retirement_year`` needs."""
        return self.min_contribution.years_for(retirement_year)


# Any year serves for a flat schedule (it rises by 0); this one is the reform's first rise.
_FLAT_RISE_FROM = 2030


class Early(_Model):
    special_jobs: SpecialJobs
    illness: Illness


class Timeline(Provenance):
    """Months before the retirement month T at which each stage is due or opens."""

    declaration_months_before: PositiveInt
    contribution_check_months_before: PositiveInt
    initiation_months_before: PositiveInt

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not (
            self.declaration_months_before
            > self.contribution_check_months_before
            > self.initiation_months_before
        ):
            raise ValueError("timeline must be declaration > contribution check > initiation")
        return self


class Reminders(Provenance):
    """Days before each deadline at which the party who must act is reminded."""

    declaration: list[PositiveInt]
    contribution_check: list[PositiveInt]
    initiation: list[PositiveInt]


class ClerkTask(StrEnum):
    """Clerk decisions with a service-level deadline in working days."""

    PRE_REVIEW = "pre-review"
    HOUSEHOLD_CHECK = "household-check"
    CONTRIBUTION_CHECK = "contribution-check"
    FORMAL_APPROVAL = "formal-approval"
    PENSION_CONFIRMATION = "pension-confirmation"
    MEDICAL_CONFIRMATION = "medical-confirmation"
    PROVIDENT_FUND = "provident-fund"
    DEPARTMENT_ISSUE = "department-issue"


class ClerkSla(Provenance):
    working_days: dict[ClerkTask, PositiveInt]

    @model_validator(mode="after")
    def _all_tasks(self) -> Self:
        missing = set(ClerkTask) - set(self.working_days)
        if missing:
            raise ValueError(f"clerk_sla.working_days lacks {sorted(missing)}")
        return self


class WageBase(Provenance):
    """Average monthly wages (yuan) in force for retirements in ``start``..``end``.

    ``annual_areas`` holds the yearly figures where the notice states them too; each monthly
    figure must then be its yearly one divided by 12, to the fen, so a figure mistyped in one
    place is refused instead of paying every pension of the period wrongly. It is optional:
    policies recorded in running cases' histories before version 2025.2 have none.
    """

    start: YearMonth
    end: YearMonth
    areas: dict[str, Annotated[Decimal, Field(gt=0)]]
    annual_areas: dict[str, Annotated[Decimal, Field(gt=0)]] = {}

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"wage base {self.start}..{self.end} ends before it starts")
        for area, annual in self.annual_areas.items():
            if area not in self.areas:
                raise ValueError(
                    f"wage base {self.start}: annual_areas.{area} has no monthly figure"
                )
            monthly = (annual / 12).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if monthly != self.areas[area]:
                raise ValueError(
                    f"wage base {self.start}: {area} is {self.areas[area]} a month but "
                    f"{annual} a year, which is {monthly} a month"
                )
        return self


class Divisor(Provenance):
    """国发〔2005〕38号 months divisor by whole years of age; ages listed here are disputed."""

    months_by_age: dict[int, PositiveInt]
    unverified_ages: list[int] = []
    interpolate_months: bool = False


class TransitionalRate(Provenance):
    rate: Annotated[Decimal, Field(ge=0, lt=1)]


class Pension(_Model):
    basic_rate: Annotated[Decimal, Field(gt=0, lt=1)]
    transitional: TransitionalRate
    divisor: Divisor
    wage_bases: list[WageBase]
    default_wage_area: str

    @model_validator(mode="after")
    def _wage_bases(self) -> Self:
        if not self.wage_bases:
            raise ValueError("pension.wage_bases is empty")
        ordered = sorted(self.wage_bases, key=lambda w: w.start)
        for before, after in itertools.pairwise(ordered):
            if after.start <= before.end:
                raise ValueError(f"wage bases {before.start} and {after.start} overlap")
        for base in ordered:
            if self.default_wage_area not in base.areas:
                raise ValueError(f"wage base {base.start} lacks the default area")
        return self


class MedicalThreshold(_Model):
    total_years_male: Years
    total_years_female: Years
    min_actual_years: Years = Decimal(0)


class Medical(Provenance):
    """Retiree medical cover thresholds by region code; ``default`` applies elsewhere."""

    thresholds: dict[str, MedicalThreshold]

    @model_validator(mode="after")
    def _default(self) -> Self:
        if "default" not in self.thresholds:
            raise ValueError("medical.thresholds needs a 'default' entry")
        return self


class OneChildReward(Provenance):
    """Shown to retirees it concerns (item 8); the joint service does not pay it."""

    child_born_on_or_before: date
    one_off_amount_yuan: Decimal | None = None
    policy_text: str
    channel: str
    procedure: list[str]


class ExtraCalendarYear(_Model):
    """A year's official holiday arrangement, for years the packaged calendar lacks."""

    holidays: list[date]
    workdays: list[date] = []


class Calendar(_Model):
    extra_years: dict[int, ExtraCalendarYear] = {}

    @model_validator(mode="after")
    def _dates_in_year(self) -> Self:
        for year, extra in self.extra_years.items():
            for day in [*extra.holidays, *extra.workdays]:
                if day.year != year:
                    raise ValueError(f"calendar.extra_years.{year} lists {day}")
        return self


class Meta(_Model):
    id: str
    version: str
    title: str
    province_code: Annotated[str, Field(pattern=r"^\d{2}$")]


class Policy(_Model):
    meta: Meta
    statutory_age: StatutoryAge
    min_contribution: MinContribution
    flexible: Flexible
    early: Early
    timeline: Timeline
    reminders: Reminders
    clerk_sla: ClerkSla
    pension: Pension
    medical: Medical
    one_child_reward: OneChildReward
    calendar: Calendar = Calendar()

    def unverified(self) -> list[tuple[str, str]]:
        """Every figure not verified against an official text: (where, why) pairs."""
        found: list[tuple[str, str]] = []

        def visit(model: BaseModel, path: str) -> None:
            if isinstance(model, Provenance) and not model.verified:
                found.append((path, model.note or model.source))
            if isinstance(model, Divisor):
                for age in model.unverified_ages:
                    found.append((f"{path}.months_by_age.{age}", model.note or model.source))
            for name in type(model).model_fields:
                value = getattr(model, name)
                if isinstance(value, BaseModel):
                    visit(value, f"{path}.{name}" if path else name)
                elif isinstance(value, list):
                    for i, item in enumerate(value):
                        if isinstance(item, BaseModel):
                            visit(item, f"{path}.{name}[{i}]")

        visit(self, "")
        return found


class PolicyError(ValueError):
    """The policy file is missing or does not validate; the message says where."""


def parse_policy(text: str, origin: str = "<policy>") -> Policy:
    """Validate a policy from TOML text (pure: no file access)."""
    try:
        return Policy.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{origin}: not valid TOML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise PolicyError(f"{origin}: {problems}") from exc
