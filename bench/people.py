"""The people a benchmark plays: distinct, valid ID numbers, and a case each that can run from
declaration to completion today on the real clock."""

from __future__ import annotations

from decimal import Decimal

from contracts.declarations import Declaration
from contracts.people import Person
from harness.department_simulator import DepartmentSimulator
from harness.people import MAX_PEOPLE, REGION, early_retiree

EMPLOYER = "emp-bench"
CAPACITY = MAX_PEOPLE  # a run needs its throughput, latency and scale cases together below this


def person(serial: int) -> tuple[Person, Declaration]:
    """The ``serial``-th person (the chaos and load runs' kind, ``harness.people``)."""
    return early_retiree(serial, organisation=EMPLOYER, region=REGION)


def people(first: int, count: int) -> list[tuple[Person, Declaration]]:
    return [person(serial) for serial in range(first, first + count)]


def seed(departments: DepartmentSimulator, who: Person, *, full: bool = True) -> None:
    """The department records the case reads, set in the simulator. ``full=False`` sets only
    the household record, which is all a case needs to reach pre-review (the scale phase)."""
    departments.seed(
        who.id_number,
        who.name,
        region_code=who.region_code,
        actual_years=Decimal(16),
        with_contributions=full,
        with_medical=full,
        with_fund=full,
    )
