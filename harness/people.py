"""Made-up people for chaos, load and benchmark runs whose cases can finish today on the real
clock: women of 46 (then 47 and 48, for the benchmark's largest runs) retiring early for illness
next month, so their initiation window (T-1) is open now whatever today is."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from contracts.declarations import Declaration
from contracts.people import Person
from domain.early import Appraisal
from domain.idcard import check_character
from domain.months import YearMonth
from domain.plan import RetirementPath
from domain.policy import Category
from domain.timeline import CHINA_TZ

REGION = "220102"
# 28 birth days × 500 even (female) sequence numbers: the distinct people one birth month and
# region give; three birth years (all past the illness path's earliest age, 45, and before the
# statutory age) give three times as many.
PER_BIRTH_MONTH = 28 * 500
AGES = (46, 47, 48)
MAX_PEOPLE = len(AGES) * PER_BIRTH_MONTH


def early_retiree(
    serial: int, *, organisation: str, region: str = REGION
) -> tuple[Person, Declaration]:
    """The ``serial``-th such person of ``region`` (0 <= serial < MAX_PEOPLE), declared by
    ``organisation``, with her declaration."""
    if not 0 <= serial < MAX_PEOPLE:
        raise ValueError(f"serial {serial} outside 0..{MAX_PEOPLE - 1}")
    requested = YearMonth.of(datetime.now(CHINA_TZ).date()).plus(1)
    age, within = AGES[serial // PER_BIRTH_MONTH], serial % PER_BIRTH_MONTH
    birth = requested.minus(age * 12)
    day, sequence = 1 + within % 28, 2 * (within // 28)  # an even sequence number: a woman
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
    return person, declaration


def early_retirees(
    count: int, *, organisation: str, regions: tuple[str, ...] = (REGION,)
) -> list[tuple[Person, Declaration]]:
    """``count`` distinct people, dealt round-robin over ``regions``."""
    return [
        early_retiree(
            n // len(regions), organisation=organisation, region=regions[n % len(regions)]
        )
        for n in range(count)
    ]


def made_up_mobile(id_number: str) -> str:
    """A mobile number for a made-up person (139 and eight digits of their ID number's hash)."""
    digits = int(hashlib.sha256(id_number.encode()).hexdigest(), 16) % 10**8
    return f"139{digits:08d}"


def declare_body(person: Person, declaration: Declaration) -> dict[str, Any]:
    """The ``POST /cases`` body an employer sends for ``person`` (as JSON)."""
    return {
        "person": {
            "id_number": person.id_number,
            "name": person.name,
            "category": person.category.value,
            "region_code": person.region_code,
            "mobile": made_up_mobile(person.id_number),
        },
        "declaration": declaration.model_dump(mode="json", exclude_none=True),
    }
