"""The people a benchmark plays: distinct, valid ID numbers, and a case each that can run from
declaration to completion today on the real clock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from contracts.case import Declaration, Person
from db.seed import seed_person
from domain.early import Appraisal
from domain.idcard import check_character
from domain.months import YearMonth
from domain.plan import RetirementPath
from domain.policy import Category
from domain.timeline import CHINA_TZ

REGION = "220102"
EMPLOYER = "emp-bench"
# 28 birth days x 500 even (female) sequence numbers: the most distinct people one birth month
# gives; a run needs the throughput, latency and scale cases together below this.
CAPACITY = 28 * 500


def person(serial: int) -> tuple[Person, Declaration]:
    """The ``serial``-th person: a woman of 46 retiring early for illness next month, so her
    initiation window is open today and her case can complete without waiting on the calendar
    (the same shape as the chaos run's people). ``serial`` < ``CAPACITY``."""
    if not 0 <= serial < CAPACITY:
        raise ValueError(f"serial {serial} outside 0..{CAPACITY - 1}")
    requested = YearMonth.of(datetime.now(CHINA_TZ).date()).plus(1)
    birth = requested.minus(46 * 12)
    day = 1 + serial % 28
    sequence = 2 * (serial // 28)  # even: a woman
    first17 = f"{REGION}{birth.year:04d}{birth.month:02d}{day:02d}{sequence:03d}"
    who = Person(
        id_number=first17 + check_character(first17),
        name=f"测试{serial}",
        category=Category.FEMALE_WORKER,
        region_code=REGION,
        employer_id=EMPLOYER,
    )
    declaration = Declaration(
        path=RetirementPath.ILLNESS,
        contribution_years=Decimal(16),
        requested_month=requested,
        appraisal=Appraisal.COMPLETE_LOSS,
    )
    return who, declaration


def people(first: int, count: int) -> list[tuple[Person, Declaration]]:
    return [person(serial) for serial in range(first, first + count)]


def seed(sessions: sessionmaker[Session], who: Person, *, full: bool = True) -> None:
    """The department records the case reads. ``full=False`` seeds only the household record,
    which is all a case needs to reach pre-review (the scale phase)."""
    seed_person(
        sessions,
        who.id_number,
        who.name,
        region_code=who.region_code,
        actual_years=Decimal(16),
        with_contributions=full,
        with_medical=full,
        with_fund=full,
    )
