"""Flexible retirement (实施弹性退休制度暂行办法): choosing to retire early or to delay.

Early: at most ``max_early_months`` before the statutory month and never before the original
(pre-reform) month, only with the minimum contribution years met, written notice to the employer
at least ``early_notice_months`` ahead. Delay: at most ``max_delay_months`` after the statutory
month, agreed by worker and employer, confirmed in writing at least ``delay_confirmation_months``
before the statutory month; once set it can be ended early by agreement but not extended.
Every rule a request breaks is reported, not just the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.months import YearMonth
from domain.policy import Policy
from domain.refusal import Refusal
from domain.statutory import StatutoryRetirement, min_contribution_years


class FlexibleKind(StrEnum):
    STATUTORY = "statutory"
    EARLY = "early"
    DELAY = "delay"


@dataclass(frozen=True, slots=True)
class FlexibleOutcome:
    statutory: StatutoryRetirement
    requested_month: YearMonth
    kind: FlexibleKind
    earliest_month: YearMonth
    latest_month: YearMonth
    refusals: tuple[Refusal, ...]

    @property
    def accepted(self) -> bool:
        return not self.refusals

    @property
    def retirement_month(self) -> YearMonth:
        """The month that applies: the request if accepted, else the statutory month."""
        return self.requested_month if self.accepted else self.statutory.retirement_month


def flexible_bounds(statutory: StatutoryRetirement, policy: Policy) -> tuple[YearMonth, YearMonth]:
    """The earliest and latest months a flexible choice may name."""
    rule = policy.flexible
    earliest = max(
        statutory.retirement_month.minus(rule.max_early_months),
        statutory.original_retirement_month,
    )
    return earliest, statutory.retirement_month.plus(rule.max_delay_months)


def flexible_retirement(
    statutory: StatutoryRetirement,
    requested: YearMonth,
    *,
    notice_month: YearMonth,
    contribution_years: Decimal,
    employer_agreed: bool,
    agreed_delay_month: YearMonth | None = None,
    policy: Policy,
) -> FlexibleOutcome:
    """Check a requested retirement month against the flexible-retirement rules.

    ``notice_month`` is when the worker gave written notice (early) or when the delay was
    confirmed in writing (delay). ``agreed_delay_month`` is a delay already set, if any.
    """
    rule = policy.flexible
    earliest, latest = flexible_bounds(statutory, policy)
    month = statutory.retirement_month
    refusals: list[Refusal] = []
    if requested < month:
        kind = FlexibleKind.EARLY
        if requested < earliest:
            refusals.append(
                Refusal(
                    "flexible.early.too-early",
                    f"{requested} is before {earliest}, the earliest allowed: at most "
                    f"{rule.max_early_months} months early and never before the original "
                    f"retirement month {statutory.original_retirement_month}",
                )
            )
        needed = min_contribution_years(requested.year, policy)
        if contribution_years < needed:
            refusals.append(
                Refusal(
                    "flexible.early.min-contribution",
                    f"early retirement needs {needed} contribution years, "
                    f"{contribution_years} are recorded",
                )
            )
        notice_by = requested.minus(rule.early_notice_months)
        if notice_month > notice_by:
            refusals.append(
                Refusal(
                    "flexible.early.notice",
                    f"written notice must reach the employer by {notice_by} "
                    f"({rule.early_notice_months} months ahead), it came in {notice_month}",
                )
            )
    elif requested > month:
        kind = FlexibleKind.DELAY
        if requested > latest:
            refusals.append(
                Refusal(
                    "flexible.delay.too-late",
                    f"{requested} is after {latest}: a delay is at most "
                    f"{rule.max_delay_months} months",
                )
            )
        if not employer_agreed:
            refusals.append(
                Refusal("flexible.delay.agreement", "a delay needs the employer's agreement")
            )
        confirm_by = month.minus(rule.delay_confirmation_months)
        if notice_month > confirm_by:
            refusals.append(
                Refusal(
                    "flexible.delay.confirmation",
                    f"a delay must be confirmed in writing by {confirm_by}, "
                    f"it was confirmed in {notice_month}",
                )
            )
        if agreed_delay_month is not None and requested > agreed_delay_month:
            refusals.append(
                Refusal(
                    "flexible.delay.extension",
                    f"a delay to {agreed_delay_month} is set and cannot be extended",
                )
            )
    else:
        kind = FlexibleKind.STATUTORY
    return FlexibleOutcome(
        statutory=statutory,
        requested_month=requested,
        kind=kind,
        earliest_month=earliest,
        latest_month=latest,
        refusals=tuple(refusals),
    )
