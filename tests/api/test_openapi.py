"""The OpenAPI schema says what the API does: every route, the bearer scheme (Swagger UI's
Authorize button) and, for every route, the problem answers it gives, as
``application/problem+json``; the Swagger UI is served, and the schema's examples are valid."""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import Api
from tests.api.support import assert_problem, declare_body, employer_headers, new_org

PROBLEM = "#/components/schemas/ProblemDetails"
CASE = "retirement-" + "0" * 24


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


async def test_the_schema_declares_the_bearer_scheme_and_problem_answers(api: Api) -> None:
    schema = api.app.openapi()
    schemes = schema["components"]["securitySchemes"]
    assert [s for s in schemes.values() if s == {**s, "type": "http", "scheme": "bearer"}]
    assert "HTTPValidationError" not in str(schema)  # FastAPI's model; this API never sends it
    for method, path, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400 or path == "/health":  # /health answers 503 with its own body
                continue
            content = response["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"]["$ref"] == PROBLEM
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in operation["responses"], (method, path)
        if operation.get("requestBody"):
            assert {"400", "413"} <= set(operation["responses"]), (method, path)
    decision = schema["paths"]["/cases/{case_id}/tasks/{task_id}/decision"]["post"]
    assert set(decision["responses"]) >= {"400", "401", "403", "404", "409", "413", "422", "503"}


async def test_every_route_that_needs_a_token_says_so_and_answers_401(api: Api) -> None:
    """Checked against the running app: each operation that documents 401 lists the bearer
    scheme, and answers 401 as a problem without a token."""
    schema = api.app.openapi()
    guarded = [
        (method, path)
        for method, path, operation in _operations(schema)
        if "401" in operation["responses"]
    ]
    assert len(guarded) >= 15
    for method, path in guarded:
        operation = schema["paths"][path][method.lower()]
        assert operation.get("security"), (method, path)
        url = re.sub(r"\{case_id\}", CASE, path).replace("{task_id}", "pre-review-1")
        response = await api.http.request(method, url, json={} if method == "POST" else None)
        if path.startswith("/codec"):
            continue  # in development mode the codec answers loopback callers without a token
        assert_problem(response, 401)


async def test_openapi_and_docs(api: Api) -> None:
    schema = await api.http.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/cases",
        "/cases/{case_id}",
        "/cases/{case_id}/audit",
        "/cases/{case_id}/resubmission",
        "/cases/{case_id}/settlements",
        "/cases/{case_id}/initiation",
        "/cases/{case_id}/withdrawal",
        "/cases/{case_id}/cancellation",
        "/cases/{case_id}/retirement-correction",
        "/cases/{case_id}/tasks/{task_id}/decision",
        "/cases/{case_id}/tasks/{task_id}/claim",
        "/cases/{case_id}/tasks/{task_id}/release",
        "/cases/{case_id}/tasks/{task_id}/assignment",
        "/inbox",
        "/escalations",
        "/rules/retirement-date",
        "/rules/timeline",
        "/rules/pension-estimate",
        "/health",
        "/codec/encode",
        "/codec/decode",
    ):
        assert path in paths, path
    docs = await api.http.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger" in docs.text.lower()


async def test_the_documented_id_number_example_is_valid(api: Api) -> None:
    schema = (await api.http.get("/openapi.json")).json()
    example = schema["components"]["schemas"]["NewPerson"]["properties"]["id_number"]["examples"][0]
    id_number = str(example)
    api.departments.seed(id_number, "王建国")
    response = await api.http.post(
        "/cases", json=declare_body(id_number), headers=employer_headers(api, new_org())
    )
    assert response.status_code == 201, response.text
