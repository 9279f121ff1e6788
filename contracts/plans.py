"""The retirement plan a declaration asks for, and everything wrong with one: the rules
(``domain.plan``) applied to the declaration as the API receives it. Pure, so the workflow plans
with it inside its sandbox, the API checks a declaration with it before starting a case, and
starting a case names the retirement month with it.
"""

from __future__ import annotations

from contracts.declarations import Declaration
from domain.months import YearMonth
from domain.plan import RetirementPath, RetirementPlan, plan_retirement
from domain.policy import Category, Policy
from domain.timeline import case_timeline

ARCHIVE_DRIFT_MONTHS = 60  # an archive's birth month this far from the ID number's is an error


def plan_for(
    person_birth: YearMonth, category: Category, declaration: Declaration | None, policy: Policy
) -> RetirementPlan:
    """The retirement plan a declaration asks for (the normal path before any declaration)."""
    if declaration is None:
        return plan_retirement(
            birth_month=person_birth,
            category=category,
            path=RetirementPath.NORMAL,
            policy=policy,
        )
    flexible = declaration.flexible
    return plan_retirement(
        birth_month=declaration.archive_birth_month or person_birth,
        category=category,
        path=declaration.path,
        policy=policy,
        contribution_years=declaration.contribution_years,
        requested_month=declaration.requested_month,
        special_jobs=[job.period() for job in declaration.special_jobs],
        appraisal=declaration.appraisal,
        notice_month=flexible.notice_month if flexible else None,
        employer_agreed=flexible.employer_agreed if flexible else False,
    )


def plan_problems(
    birth: YearMonth, category: Category, declaration: Declaration | None, policy: Policy
) -> list[str]:
    """Everything wrong with a declaration, in words: the retirement rules it breaks, an
    archive birth month implausibly far from the ID number's, dates out of any calendar. Empty
    when the case can run on it (a workflow must never be handed a plan it cannot compute)."""
    problems = []
    archive = declaration.archive_birth_month if declaration else None
    if archive is not None and abs(archive.months_since(birth)) > ARCHIVE_DRIFT_MONTHS:
        problems.append(
            f"archive_birth_month: {archive} is more than five years from the ID number's "
            f"birth month {birth}"
        )
    try:
        plan = plan_for(birth, category, declaration, policy)
        case_timeline(plan.retirement_month, policy)
    except ValueError as exc:
        return [*problems, f"dates out of range: {exc}"]
    return problems + [f"{r.rule}: {r.reason}" for r in plan.refusals]
