"""Helpers shared by the API tests: fresh people, request bodies, polling, problem checks.

Every helper speaks HTTP through an ``httpx.AsyncClient``, so the same code drives the in-process
app (ASGI transport) and the one served by uvicorn in the end-to-end test.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import httpx

from domain.idcard import check_character
from domain.months import YearMonth
from domain.timeline import CHINA_TZ
from tests.api.conftest import REGION

T = TypeVar("T")
Json = dict[str, Any]
PROBLEM_KEYS = {"type", "title", "status", "detail"}

_serials = itertools.count()
_regions = itertools.count(20)


def new_id_number(year: int, month: int, *, female: bool = False, region: str = REGION) -> str:
    """A valid ID number born in ``year-month``, never handed out before in this process (the
    department records are keyed by ID number and shared by every test of a session)."""
    n = next(_serials)
    day = 1 + n % 28
    sequence = (n // 28) % 500 * 2 + (0 if female else 1)  # odd: a man, even: a woman
    first17 = f"{region}{year:04d}{month:02d}{day:02d}{sequence:03d}"
    return first17 + check_character(first17)


def new_region() -> str:
    """A county of 长春 (2201xx) no other test uses, for inbox and list counts of one test."""
    n = next(_regions)
    if n > 99:
        raise RuntimeError("out of test regions")
    return f"2201{n:02d}"


def china_today_month() -> YearMonth:
    return YearMonth.of(datetime.now(CHINA_TZ).date())


def next_month() -> str:
    """The month after this one in China: an early retirement then has its initiation window
    (T-1, this month) open today, whatever today is."""
    return str(china_today_month().plus(1))


def person(
    id_number: str, *, name: str = "王建国", category: str = "male", region: str = REGION
) -> Json:
    return {"id_number": id_number, "name": name, "category": category, "region_code": region}


def normal_declaration(**extra: Any) -> Json:
    return {"contribution_years": 30, **extra}


def illness_declaration(**extra: Any) -> Json:
    """Early retirement for complete loss of labour capacity, from next month."""
    return {
        "path": "illness",
        "contribution_years": 16,
        "appraisal": "complete-loss",
        "requested_month": next_month(),
        **extra,
    }


def declare_body(
    id_number: str,
    *,
    name: str = "王建国",
    category: str = "male",
    region: str = REGION,
    declaration: Json | None = None,
) -> Json:
    return {
        "person": person(id_number, name=name, category=category, region=region),
        "declaration": declaration if declaration is not None else normal_declaration(),
    }


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = 20.0, what: str = "condition"
) -> T:
    """Poll ``check`` until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.05)


async def case_of(http: httpx.AsyncClient, headers: dict[str, str], case_id: str) -> Json:
    response = await http.get(f"/cases/{case_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def wait_stage(
    http: httpx.AsyncClient, headers: dict[str, str], case_id: str, stage: str
) -> Json:
    async def reached() -> Json | None:
        snapshot = await case_of(http, headers, case_id)
        return snapshot if snapshot["stage"] == stage else None

    return await eventually(reached, what=f"stage {stage}")


async def open_task(
    http: httpx.AsyncClient, headers: dict[str, str], case_id: str, kind: str
) -> Json:
    """An open task of ``kind`` on the case's own page (organisation and retiree tasks)."""

    async def found() -> Json | None:
        snapshot = await case_of(http, headers, case_id)
        return next(
            (t for t in snapshot["tasks"] if t["kind"] == kind and t["status"] == "open"), None
        )

    return await eventually(found, what=f"open {kind} task")


async def inbox_task(
    http: httpx.AsyncClient, headers: dict[str, str], case_id: str, kind: str
) -> Json:
    """The case's task of ``kind`` as the clerk finds it: through GET /inbox."""

    async def found() -> Json | None:
        response = await http.get("/inbox", headers=headers, params={"kind": kind, "limit": 200})
        assert response.status_code == 200, response.text
        return next((t for t in response.json()["items"] if t["case_id"] == case_id), None)

    return await eventually(found, what=f"{kind} task in the inbox")


async def decide(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    case_id: str,
    kind: str,
    outcome: str = "approve",
    **extra: Any,
) -> Json:
    """Find the task in the clerk's inbox and decide it; the case's status after it."""
    task = await inbox_task(http, headers, case_id, kind)
    response = await http.post(
        f"/cases/{case_id}/tasks/{task['task_id']}/decision",
        json={"outcome": outcome, **extra},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def audit_of(http: httpx.AsyncClient, staff: dict[str, str], case_id: str) -> list[Json]:
    response = await http.get(f"/cases/{case_id}/audit", headers=staff)
    assert response.status_code == 200, response.text
    entries: list[Json] = response.json()
    return entries


async def audit_entry(
    http: httpx.AsyncClient,
    staff: dict[str, str],
    case_id: str,
    match: Callable[[Json], bool],
    *,
    what: str = "audit entry",
) -> Json:
    """An audit entry (accepted actions arrive with the workflow's next projection)."""

    async def found() -> Json | None:
        return next((e for e in await audit_of(http, staff, case_id) if match(e)), None)

    return await eventually(found, what=what)


def assert_problem(
    response: httpx.Response, status: int, *, slug: str | None = None, detail: str | None = None
) -> Json:
    """An RFC 9457 problem: ``application/problem+json`` with type, title, status, detail."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), response
    body: Json = response.json()
    assert body.keys() >= PROBLEM_KEYS, body
    assert body["status"] == status
    if slug is not None:
        assert body["type"].endswith("/" + slug), body
    if detail is not None:
        assert detail in body["detail"], body
    return body


def assert_no_id_number(response: httpx.Response, *id_numbers: str) -> None:
    """The raw text never carries a full ID number (only ``2201**********0013`` forms)."""
    for number in id_numbers:
        assert number not in response.text, f"full ID number in {response.request.url}"
        assert number[:17] not in response.text
