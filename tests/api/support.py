"""Helpers shared by the API tests: fresh people and organisations, callers' headers, request
bodies, polling, problem checks.

The helpers that take an ``httpx.AsyncClient`` speak HTTP only, so the same code drives the
in-process app (ASGI transport) and the one served by uvicorn in the end-to-end test; those that
take an :class:`~tests.api.conftest.Api` also seed the department simulator or mint tokens.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import httpx

from contracts.workflow import ContributionProblem
from domain.months import YearMonth
from domain.timeline import CHINA_TZ
from tests.api.conftest import REGION, Api
from tests.support.people import new_id_number

T = TypeVar("T")
Json = dict[str, Any]
PROBLEM_KEYS = {"type", "title", "status", "detail"}

# A man born 1967-01 retires in 2027-08 (statutory, 7 months' delay): initiation opens 2027-07-01.
NORMAL_BORN = (1967, 1)
NORMAL_T = "2027-08"
NORMAL_OPENS = "2027-07-01"
ILLNESS_BORN = (1980, 1)  # a female worker: early retirement for illness from 45

_regions = itertools.count(20)


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


def new_org() -> str:
    """An organisation no other test uses."""
    return f"emp-{uuid.uuid4().hex[:8]}"


def employer_headers(api: Api, org: str) -> dict[str, str]:
    """An officer of the employer ``org`` (subject ``<org>-officer``)."""
    return api.as_(role="employer", organisation=org, sub=f"{org}-officer")


def clerk_headers(
    api: Api, department: str, region: str = REGION, sub: str | None = None
) -> dict[str, str]:
    """A clerk of ``department`` in ``region`` (subject ``<department>-c`` unless given)."""
    return api.as_(role="clerk", department=department, region=region, sub=sub or f"{department}-c")


async def declare_case(
    api: Api,
    employer: dict[str, str],
    *,
    illness: bool = False,
    born: tuple[int, int] = NORMAL_BORN,
    region: str = REGION,
    problems: tuple[ContributionProblem, ...] = (),
    declaration: Json | None = None,
    name: str = "王建国",
) -> tuple[str, str]:
    """Seed a fresh person's department records and declare them: (case id, ID number). A man
    born in ``born`` on the normal path, or with ``illness`` a woman born in
    :data:`ILLNESS_BORN` retiring early next month."""
    if illness:
        born = ILLNESS_BORN
    female = illness
    id_number = new_id_number(*born, female=female)
    api.departments.seed(id_number, name, contribution_problems=problems)
    body = declare_body(
        id_number,
        name=name,
        category="female-worker" if illness else "male",
        region=region,
        declaration=declaration or (illness_declaration() if illness else normal_declaration()),
    )
    response = await api.http.post("/cases", json=body, headers=employer)
    assert response.status_code == 201, response.text
    assert_no_id_number(response, id_number)
    return response.json()["case_id"], id_number


async def to_initiation(api: Api, employer: dict[str, str], case_id: str, region: str) -> None:
    """Pre-review approved, no contribution problem, contributions confirmed."""
    await decide(api.http, clerk_headers(api, "hr", region), case_id, "pre-review")
    await decide(
        api.http, clerk_headers(api, "social-insurance", region), case_id, "confirm-contributions"
    )
    await wait_stage(api.http, employer, case_id, "awaiting-initiation")


def loose_client(api: Api) -> httpx.AsyncClient:
    """A client that shows an unhandled exception as the 500 a server would answer with."""
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://api")


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
