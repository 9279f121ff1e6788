"""What the employer or agency declares for a person (申报): the path, the years, and what each
path needs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, model_validator

from contracts.base import Model, Month, Ref, Years
from domain.early import Appraisal, SpecialJobPeriod
from domain.plan import RetirementPath
from domain.policy import SpecialJobKind


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
