"""The driver's initiation wait: it follows the workflow's rule (the window's first day), so a
real-clock run started in the small hours of the 1st does not stall until office hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any

import pytest

from contracts.workflow import Initiate, TaskKind
from domain.timeline import CHINA_TZ
from service.driver import Driver, Step, Waiting
from service.people import early_retiree

OPENS = date(2026, 12, 1)


class _Handle:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    async def execute_update(self, update: Any, request: Any) -> None:
        self.sent.append(request)


async def _initiate_at(now: datetime) -> tuple[Step | Waiting, list[Any]]:
    handle = _Handle()
    person, _ = early_retiree(0, organisation="org-1")
    driver = Driver(handle=handle, person=person, person_key="p")  # type: ignore[arg-type]
    snap = SimpleNamespace(deadlines=SimpleNamespace(initiation_opens=OPENS))
    task = SimpleNamespace(kind=TaskKind.INITIATE)
    result = await driver._act(snap, task, now)  # type: ignore[arg-type]
    return result, handle.sent


@pytest.mark.parametrize(
    "now",
    [
        datetime.combine(OPENS, time(0, 51), CHINA_TZ),  # the window's day, before office hours
        datetime(2026, 11, 30, 16, 51, tzinfo=UTC),  # the same moment seen from UTC
        datetime.combine(OPENS, time(10), CHINA_TZ),
    ],
)
async def test_initiates_once_the_window_day_has_come(now: datetime) -> None:
    result, sent = await _initiate_at(now)
    assert result is Step.ACTED
    assert len(sent) == 1 and isinstance(sent[0], Initiate)


async def test_waits_for_office_hours_on_the_first_day_before_the_window() -> None:
    result, sent = await _initiate_at(datetime(2026, 11, 30, 23, 59, tzinfo=CHINA_TZ))
    assert result == Waiting(datetime.combine(OPENS, time(9), CHINA_TZ))
    assert sent == []
