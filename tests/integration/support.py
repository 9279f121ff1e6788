"""Helpers shared by the integration tests."""

from __future__ import annotations

import uuid

from contracts.declarations import Declaration
from contracts.people import Person
from harness.people import MAX_PEOPLE, early_retiree

REGION = "220102"


def illness_case_retiring_next_month() -> tuple[Person, Declaration]:
    """A woman of 46 retiring early next month (her initiation window is open today), not used
    by another test of this session: the department records are shared."""
    return early_retiree(uuid.uuid4().int % MAX_PEOPLE, organisation="emp-can-1", region=REGION)
