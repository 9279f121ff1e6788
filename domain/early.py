"""Early retirement eligibility: special jobs (特殊工种) and illness or non-work disability.

Both give an earliest month (birth month + the early age) and list every unmet condition.
The ages and thresholds are policy parameters: rules.md marks them unverified after the reform.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.months import YearMonth
from domain.policy import Gender, Policy, SpecialJobKind
from domain.refusal import Refusal


class EarlyPath(StrEnum):
    SPECIAL_JOB = "special-job"
    ILLNESS = "illness"


class Appraisal(StrEnum):
    """Conclusion of the labour-capacity appraisal (劳动能力鉴定)."""

    COMPLETE_LOSS = "complete-loss"
    PARTIAL_LOSS = "partial-loss"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class SpecialJobPeriod:
    kind: SpecialJobKind
    years: Decimal


@dataclass(frozen=True, slots=True)
class EarlyAssessment:
    path: EarlyPath
    earliest_month: YearMonth
    refusals: tuple[Refusal, ...]
    required_years: Decimal
    held_years: Decimal
    qualifying_kind: SpecialJobKind | None = None

    @property
    def eligible(self) -> bool:
        return not self.refusals


# The order of SpecialJobKind is most demanding first; the list index ranks them.
_DEMAND = {kind: rank for rank, kind in enumerate(SpecialJobKind)}


def special_job_early_retirement(
    birth_month: YearMonth,
    gender: Gender,
    periods: Iterable[SpecialJobPeriod],
    statutory_month: YearMonth,
    policy: Policy,
) -> EarlyAssessment:
    """Years in different special jobs add up and are measured against the most demanding
    category the person held."""
    rule = policy.early.special_jobs
    held = [p for p in periods if p.years > 0]
    age = rule.age_male if gender is Gender.MALE else rule.age_female
    earliest = birth_month.plus(age * 12)
    total = sum((p.years for p in held), Decimal(0))
    refusals: list[Refusal] = []
    kind: SpecialJobKind | None = None
    required = Decimal(0)
    if not held:
        refusals.append(Refusal("early.special-job.none", "no years in a special job"))
    else:
        kind = min((p.kind for p in held), key=_DEMAND.__getitem__)
        required = rule.required_years[kind]
        if total < required:
            refusals.append(
                Refusal(
                    "early.special-job.years",
                    f"{kind} work needs {required} cumulative years, {total} are recorded",
                )
            )
    refusals.extend(_not_before_statutory(earliest, statutory_month, "special-job"))
    return EarlyAssessment(
        path=EarlyPath.SPECIAL_JOB,
        earliest_month=earliest,
        refusals=tuple(refusals),
        required_years=required,
        held_years=total,
        qualifying_kind=kind,
    )


def illness_early_retirement(
    birth_month: YearMonth,
    gender: Gender,
    appraisal: Appraisal,
    contribution_years: Decimal,
    statutory_month: YearMonth,
    policy: Policy,
    *,
    retirement_month: YearMonth | None = None,
) -> EarlyAssessment:
    """Needs an appraisal concluding complete loss of labour capacity and the policy's years.

    The years required depend on the year the person retires (``retirement_month``; without
    it, the earliest month the early age allows): like the national minimum they rise from
    2030 (15 until 2029, 15.5 in 2030 … 20 from 2039), so the same record can qualify in 2029
    and fall short in 2031.
    """
    rule = policy.early.illness
    age = rule.age_male if gender is Gender.MALE else rule.age_female
    earliest = birth_month.plus(age * 12)
    required = rule.min_contribution_years((retirement_month or earliest).year)
    refusals: list[Refusal] = []
    if appraisal is not Appraisal.COMPLETE_LOSS:
        refusals.append(
            Refusal(
                "early.illness.appraisal",
                f"the labour-capacity appraisal must conclude complete loss, it says {appraisal}",
            )
        )
    if contribution_years < required:
        refusals.append(
            Refusal(
                "early.illness.contribution",
                f"needs {required} contribution years, {contribution_years} are recorded",
            )
        )
    refusals.extend(_not_before_statutory(earliest, statutory_month, "illness"))
    return EarlyAssessment(
        path=EarlyPath.ILLNESS,
        earliest_month=earliest,
        refusals=tuple(refusals),
        required_years=required,
        held_years=contribution_years,
    )


def _not_before_statutory(
    earliest: YearMonth, statutory_month: YearMonth, path: str
) -> list[Refusal]:
    if earliest < statutory_month:
        return []
    return [
        Refusal(
            f"early.{path}.not-earlier",
            f"the early age is reached in {earliest}, not before the statutory month "
            f"{statutory_month}",
        )
    ]
