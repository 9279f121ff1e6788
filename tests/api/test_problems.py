"""``api/problems.py`` (and the body limit of ``api/app.py``): every error is an RFC 9457 problem,
and a Temporal that does not answer in time is a 503 to retry, not an internal error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from tests.api.conftest import Api
from tests.api.support import (
    NORMAL_BORN,
    assert_problem,
    case_of,
    clerk_headers,
    declare_body,
    declare_case,
    employer_headers,
    inbox_task,
    loose_client,
    new_org,
    normal_declaration,
)
from tests.support.people import new_id_number


async def test_errors_are_problem_details(api: Api) -> None:
    employer = employer_headers(api, new_org())
    assert_problem(await api.http.get("/nowhere", headers=employer), 404)
    assert_problem(await api.http.delete("/cases", headers=employer), 405)
    broken = await api.http.post(
        "/cases",
        content=b"{not json",
        headers={**employer, "Content-Type": "application/json"},
    )
    assert_problem(broken, 422, slug="validation")
    key = await api.http.post(
        "/cases",
        json=declare_body(new_id_number(*NORMAL_BORN)),
        headers={**employer, "Idempotency-Key": "spaces are not allowed"},
    )
    assert_problem(key, 422, slug="validation")
    huge = await api.http.post(
        "/rules/pension-estimate",
        content=b"x" * (api.settings.max_body_bytes + 1),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(huge, 413, slug="too-large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(api.settings.max_body_bytes // 4096 + 2):
            yield b"x" * 4096

    streamed = await api.http.post(
        "/rules/pension-estimate",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in streamed.request.headers
    assert_problem(streamed, 413, slug="too-large")


async def test_temporal_not_answering_in_time_is_a_503_to_retry(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An overloaded or unreachable Temporal is not an internal error: 503 with Retry-After, and
    the request is safe to repeat with its Idempotency-Key."""
    employer = employer_headers(api, new_org())
    case_id, _ = await declare_case(api, employer)
    hr = clerk_headers(api, "hr")
    task = await inbox_task(api.http, hr, case_id, "pre-review")

    async def deadline(*_args: Any, **_kwargs: Any) -> Any:
        raise RPCError("context deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b"")

    async def update_timeout(*_args: Any, **_kwargs: Any) -> Any:
        raise WorkflowUpdateRPCTimeoutOrCancelledError()

    async with loose_client(api) as http:
        with monkeypatch.context() as patch:
            patch.setattr(Client, "start_workflow", deadline)
            # A declaration starts the person's case.
            id_number = new_id_number(*NORMAL_BORN, female=False)
            api.departments.seed(id_number, "王建国")
            body = declare_body(id_number, name="王建国", declaration=normal_declaration())
            declared = await http.post("/cases", json=body, headers=employer)
            assert_problem(declared, 503, slug="temporal-unavailable")
            assert declared.headers["retry-after"] == "5"
            # A case's progress comes from the read model: still there while Temporal is not.
            page = await http.get(f"/cases/{case_id}", headers=employer)
            assert page.status_code == 200, page.text
            assert page.json()["case_id"] == case_id
        url = f"/cases/{case_id}/tasks/{task['task_id']}/decision"
        keyed = {**hr, "Idempotency-Key": "decide-once"}
        with monkeypatch.context() as patch:
            patch.setattr(WorkflowHandle, "execute_update", update_timeout)
            refused = await http.post(url, json={"outcome": "approve"}, headers=keyed)
        assert_problem(refused, 503, slug="temporal-unavailable")
        retried = await http.post(url, json={"outcome": "approve"}, headers=keyed)
        assert retried.status_code == 200, retried.text
    snapshot = await case_of(api.http, employer, case_id)
    assert [d["task_id"] for d in snapshot["decisions"]] == [task["task_id"]]  # applied once
