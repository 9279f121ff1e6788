"""Which month a case retires in, by the path the declaration takes.

normal          the statutory month
special-job     the requested month, no earlier than the early age and before the statutory month
illness         likewise, with the appraisal and contribution conditions
flexible-early  the requested month under the flexible-retirement rules
flexible-delay  likewise

Every condition the declaration breaks is returned, so a refusal can name them all at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.early import (
    Appraisal,
    EarlyAssessment,
    SpecialJobPeriod,
    illness_early_retirement,
    special_job_early_retirement,
)
from domain.flexible import FlexibleKind, FlexibleOutcome, flexible_retirement
from domain.months import YearMonth
from domain.policy import Category, Policy
from domain.refusal import Refusal
from domain.statutory import StatutoryRetirement, category_gender, statutory_retirement


class RetirementPath(StrEnum):
    NORMAL = "normal"
    SPECIAL_JOB = "special-job"
    ILLNESS = "illness"
    FLEXIBLE_EARLY = "flexible-early"
    FLEXIBLE_DELAY = "flexible-delay"


@dataclass(frozen=True, slots=True)
class RetirementPlan:
    path: RetirementPath
    statutory: StatutoryRetirement
    retirement_month: YearMonth
    refusals: tuple[Refusal, ...]
    early: EarlyAssessment | None = None
    flexible: FlexibleOutcome | None = None

    @property
    def accepted(self) -> bool:
        return not self.refusals


def plan_retirement(
    *,
    birth_month: YearMonth,
    category: Category,
    path: RetirementPath,
    policy: Policy,
    contribution_years: Decimal = Decimal(0),
    requested_month: YearMonth | None = None,
    special_jobs: Sequence[SpecialJobPeriod] = (),
    appraisal: Appraisal | None = None,
    notice_month: YearMonth | None = None,
    employer_agreed: bool = False,
    agreed_delay_month: YearMonth | None = None,
) -> RetirementPlan:
    statutory = statutory_retirement(birth_month, category, policy)
    if path is RetirementPath.NORMAL:
        return RetirementPlan(path, statutory, statutory.retirement_month, ())
    if requested_month is None:
        refusal = Refusal(f"{path}.month", f"the {path} path needs a requested retirement month")
        return RetirementPlan(path, statutory, statutory.retirement_month, (refusal,))
    gender = category_gender(category, policy)
    if path in (RetirementPath.SPECIAL_JOB, RetirementPath.ILLNESS):
        if path is RetirementPath.SPECIAL_JOB:
            early = special_job_early_retirement(
                birth_month, gender, special_jobs, statutory.retirement_month, policy
            )
        else:
            early = illness_early_retirement(
                birth_month, gender, appraisal or Appraisal.NONE, contribution_years,
                statutory.retirement_month, policy, retirement_month=requested_month,
            )  # fmt: skip
        refusals = list(early.refusals)
        if requested_month < early.earliest_month:
            refusals.append(
                Refusal(
                    f"early.{path}.month",
                    f"{requested_month} is before {early.earliest_month}, the early age",
                )
            )
        if requested_month >= statutory.retirement_month:
            refusals.append(
                Refusal(
                    f"early.{path}.month",
                    f"{requested_month} is not before the statutory month "
                    f"{statutory.retirement_month}",
                )
            )
        return RetirementPlan(path, statutory, requested_month, tuple(refusals), early=early)
    outcome = flexible_retirement(
        statutory,
        requested_month,
        notice_month=notice_month or requested_month,
        contribution_years=contribution_years,
        employer_agreed=employer_agreed,
        agreed_delay_month=agreed_delay_month,
        policy=policy,
    )
    refusals = list(outcome.refusals)
    wanted = FlexibleKind.EARLY if path is RetirementPath.FLEXIBLE_EARLY else FlexibleKind.DELAY
    if outcome.kind is not wanted:
        refusals.append(
            Refusal(
                f"{path}.direction",
                f"{requested_month} is not {'before' if wanted is FlexibleKind.EARLY else 'after'}"
                f" the statutory month {statutory.retirement_month}",
            )
        )
    return RetirementPlan(path, statutory, requested_month, tuple(refusals), flexible=outcome)
