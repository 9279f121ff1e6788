"""Retiree medical cover: do actual + deemed years reach the region's threshold?

Jilin's thresholds are unverified (rules.md §4): while the policy section is unverified the
result says a medical clerk must confirm, and the service never decides alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.pension import MAX_YEARS
from domain.policy import Gender, Policy


@dataclass(frozen=True, slots=True)
class MedicalCheck:
    threshold_region: str
    required_total_years: Decimal
    required_actual_years: Decimal
    actual_years: Decimal
    deemed_years: Decimal
    needs_clerk_confirmation: bool

    @property
    def total_years(self) -> Decimal:
        return self.actual_years + self.deemed_years

    @property
    def shortfall_years(self) -> Decimal:
        """Years still to pay for: contributions count as actual years and towards the total."""
        return max(
            Decimal(0),
            self.required_total_years - self.total_years,
            self.required_actual_years - self.actual_years,
        )

    @property
    def meets_threshold(self) -> bool:
        return self.shortfall_years == 0


def medical_retiree_check(
    gender: Gender,
    actual_years: Decimal,
    deemed_years: Decimal,
    region_code: str,
    policy: Policy,
) -> MedicalCheck:
    for name, years in (("actual", actual_years), ("deemed", deemed_years)):
        if not 0 <= years <= MAX_YEARS:
            raise ValueError(f"{name} years must be 0..{MAX_YEARS}")
    thresholds = policy.medical.thresholds
    region = region_code if region_code in thresholds else "default"
    rule = thresholds[region]
    return MedicalCheck(
        threshold_region=region,
        required_total_years=(
            rule.total_years_male if gender is Gender.MALE else rule.total_years_female
        ),
        required_actual_years=rule.min_actual_years,
        actual_years=actual_years,
        deemed_years=deemed_years,
        needs_clerk_confirmation=not policy.medical.verified,
    )
