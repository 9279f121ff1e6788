"""Made-up people for chaos, load and benchmark runs whose cases can finish today on the real
clock: women of 46 retiring early for illness next month, so their initiation window (T-1) is
open now whatever today is."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from contracts.case import Declaration, Person
from domain.early import Appraisal
from domain.idcard import check_character
from domain.months import YearMonth
from domain.plan import RetirementPath
from domain.policy import Category
from domain.timeline import CHINA_TZ

REGION = "220102"
MAX_PEOPLE = 28 * 500  # birth days × even sequence numbers: distinct ID numbers per region


def early_retirees(
    count: int, *, organisation: str, regions: tuple[str, ...] = (REGION,)
) -> list[tuple[Person, Declaration]]:
    """``count`` distinct people, spread round-robin over ``regions``, with their declaration."""
    if count > MAX_PEOPLE * len(regions):
        raise ValueError(f"at most {MAX_PEOPLE} people per region")
    requested = YearMonth.of(datetime.now(CHINA_TZ).date()).plus(1)
    birth = requested.minus(46 * 12)
    people = []
    for serial in range(count):
        region = regions[serial % len(regions)]
        n = serial // len(regions)
        day, sequence = 1 + n % 28, (n // 28) * 2  # an even sequence number: a woman
        first17 = f"{region}{birth.year:04d}{birth.month:02d}{day:02d}{sequence:03d}"
        person = Person(
            id_number=first17 + check_character(first17),
            name=f"测试{serial}",
            category=Category.FEMALE_WORKER,
            region_code=region,
            employer_id=organisation,
        )
        declaration = Declaration(
            path=RetirementPath.ILLNESS,
            contribution_years=Decimal(16),
            requested_month=requested,
            appraisal=Appraisal.COMPLETE_LOSS,
        )
        people.append((person, declaration))
    return people
