"""The driver's initiation wait: it follows the workflow's rule (the window's first day), so a
real-clock run started in the small hours of the 1st does not stall until office hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any

import pytest

from contracts.workflow import Initiate, TaskKind
from domain.timeline import CHINA_TZ
from harness.driver import Driver, Step, Waiting
from harness.people import early_retiree

OPENS = date(2026, 12, 1)


class _Handle:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    async def execute_update(self, update: Any, request: Any) -> Any:
        self.sent.append(request)
        return SimpleNamespace(version=len(self.sent), projection=None)


class _View:
    """A read model holding ``seen[0]``; it records what an answer carries."""

    def __init__(self, seen: Any = None) -> None:
        self.seen = seen
        self.recorded: list[Any] = []

    async def look(self) -> Any:
        return self.seen

    async def record(self, projection: Any) -> None:
        self.recorded.append(projection)


async def _initiate_at(now: datetime) -> tuple[Step | Waiting, list[Any]]:
    handle = _Handle()
    person, _ = early_retiree(0, organisation="org-1")
    driver = Driver(handle=handle, person=person, person_key="p", view=_View())  # type: ignore[arg-type]
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


class _UnqueriedHandle(_Handle):
    id = "case-1"

    async def query(self, *_args: Any) -> None:
        raise AssertionError("a driver with a read model must not act on a query's answer")


async def test_a_driver_with_a_read_model_acts_only_on_what_is_projected() -> None:
    """Acting on a query's answer after a worker crash made a case unreplayable (the chaos run
    of 2026-11-30); the driver looks where the API's clients look, and waits while the case is
    not projected."""
    handle = _UnqueriedHandle()
    person, _ = early_retiree(0, organisation="org-1")
    view = _View()
    driver = Driver(handle=handle, person=person, person_key="p", view=view)  # type: ignore[arg-type]
    assert await driver.step(None) is Step.BUSY
    assert driver.last is None and handle.sent == []
    with pytest.raises(TimeoutError, match="not projected"):
        await driver.run(timeout=0.05, poll=0.01)

    view.seen = SimpleNamespace(stage=SimpleNamespace(terminal=True), version=1)
    assert await driver.step(None) is Step.DONE
    assert driver.last is view.seen


async def test_a_driver_records_an_answer_s_projection_as_the_api_does() -> None:
    """The API writes an Update's answer to the read model before it answers; a driver plays
    the same part, so a benchmark's cases cost what the API's do."""

    class _Answering(_Handle):
        async def execute_update(self, update: Any, request: Any) -> Any:
            self.sent.append(request)
            return SimpleNamespace(version=5, projection="the case at version 5")

    handle = _Answering()
    view = _View()
    person, _ = early_retiree(0, organisation="org-1")
    driver = Driver(handle=handle, person=person, person_key="p", view=view)  # type: ignore[arg-type]
    snap = SimpleNamespace(deadlines=SimpleNamespace(initiation_opens=OPENS))
    task = SimpleNamespace(kind=TaskKind.INITIATE)
    now = datetime.combine(OPENS, time(10), CHINA_TZ)
    assert await driver._act(snap, task, now) is Step.ACTED  # type: ignore[arg-type]
    assert view.recorded == ["the case at version 5"]
