"""``api/workflow_gateway.py``: the API reads a case from the read model only — it never queries
a case's workflow — and waits for a case's first projection before answering 503."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from contracts.people import Person
from policies import load_policy
from service.case_start import start_case
from tests.api.conftest import REGION, Api
from tests.api.support import (
    NORMAL_BORN,
    assert_problem,
    case_of,
    clerk_headers,
    declare_case,
    employer_headers,
    inbox_task,
    new_org,
)
from tests.support.people import new_id_number


async def test_the_api_never_queries_a_case(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A query to a running case can make a worker apply events outside a workflow task and
    leave the case unreplayable (docs/reliability.md): declaring, deciding and reading a case
    work from the read model alone, and each answer already shows the caller's own change."""

    async def no_query(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the API queried a case")

    monkeypatch.setattr(WorkflowHandle, "query", no_query)
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
    hr = clerk_headers(api, "hr")
    task = await inbox_task(api.http, hr, case_id, "pre-review")
    url = f"/cases/{case_id}/tasks/{task['task_id']}/decision"
    decided = await api.http.post(url, json={"outcome": "approve"}, headers=hr)
    assert decided.status_code == 200, decided.text
    snapshot = await case_of(api.http, employer, case_id)  # read at once after the answer
    assert snapshot["version"] >= decided.json()["version"]
    assert [d["task_id"] for d in snapshot["decisions"]] == [task["task_id"]]


async def test_a_decision_is_readable_from_its_own_answer(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Update's answer carries the committed case (``contracts.read_model.Answer``) and
    the API writes it to the read model before answering: a decision does not wait for the
    workflow's own projection, and the next read shows it."""
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
    hr = clerk_headers(api, "hr")
    task = await inbox_task(api.http, hr, case_id, "pre-review")

    async def no_wait(*_args: Any, **_kwargs: Any) -> bool:
        raise AssertionError("the API waited for the workflow's projection")

    monkeypatch.setattr("api.workflow_gateway.until_projected", no_wait)
    url = f"/cases/{case_id}/tasks/{task['task_id']}/decision"
    decided = await api.http.post(url, json={"outcome": "approve"}, headers=hr)
    assert decided.status_code == 200, decided.text
    assert "projection" not in decided.json()  # the answer's copy is the read model's
    snapshot = await case_of(api.http, employer, case_id)
    assert snapshot["version"] >= decided.json()["version"]
    assert [d["task_id"] for d in snapshot["decisions"]] == [task["task_id"]]


async def test_a_case_not_projected_yet_is_waited_for_then_a_503(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case Temporal knows but the read model does not yet (no worker has run its first
    workflow task) is not asked for its state: the API waits for its projection, then answers
    503 with Retry-After; an id Temporal does not know is a 404 at once."""
    monkeypatch.setattr("api.workflow_gateway.PROJECTION_WAIT", 0.3)
    person = Person(
        id_number=new_id_number(*NORMAL_BORN, female=False),
        name="周立",
        category="male",
        region_code=REGION,
        employer_id=new_org(),
    )
    started = await start_case(
        api.env.client,
        person=person,
        policy=load_policy(),
        secret=api.settings.case_secret,
        task_queue=f"no-worker-{uuid.uuid4().hex[:6]}",  # nobody runs it
        search_attributes=False,
    )
    try:
        admin = api.as_(role="admin", region="220000")
        waiting = await api.http.get(f"/cases/{started.case_id}", headers=admin)
        assert_problem(waiting, 503, slug="not-projected-yet")
        assert waiting.headers["retry-after"] == "2"
        unknown = await api.http.get("/cases/retirement-000000000000000000000000", headers=admin)
        assert_problem(unknown, 404, slug="unknown-case")
    finally:
        await started.handle.terminate("test over")
