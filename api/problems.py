"""Errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from contracts.workflow import RefusalType

log = structlog.get_logger("api")
PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://retirement.jl.gov.cn/problems/"

# How a workflow's refusal (an Update validator's ApplicationError type) reads over HTTP.
REFUSAL_STATUS = {
    RefusalType.DUPLICATE: 409,
    RefusalType.STALE: 409,
    RefusalType.WRONG_STAGE: 409,
    RefusalType.NOT_YET: 409,
    RefusalType.CLOSED: 409,
    RefusalType.FORBIDDEN: 403,
    RefusalType.WRONG_DEPARTMENT: 403,
    RefusalType.WRONG_REGION: 403,
    RefusalType.WRONG_ORGANISATION: 403,
    RefusalType.INVALID: 422,
    RefusalType.RULES: 422,
}
_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(Exception):
    """An error the API answers with; ``slug`` names the problem type for programs."""

    def __init__(
        self,
        status: int,
        detail: str,
        slug: str | None = None,
        *,
        retry_after: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.retry_after = retry_after  # seconds, for a 503
        self.extra = extra

    def response(self, instance: str | None = None) -> JSONResponse:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug if self.slug else "about:blank",
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return JSONResponse(body, status_code=self.status, media_type=PROBLEM_JSON, headers=headers)


# Temporal did not answer in time, or cannot be reached: nothing is known to have been applied,
# and a retry with the same Idempotency-Key is safe (the workflow de-duplicates by request id).
TEMPORAL_BUSY = {
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.CANCELLED,
}
TEMPORAL_UNAVAILABLE = Problem(
    503,
    "the case service did not answer in time; retry with the same Idempotency-Key",
    "temporal-unavailable",
    retry_after=5,
)


def refusal_problem(error: ApplicationError) -> Problem:
    """The HTTP form of a workflow's refusal; an unknown type is a conflict, never a 500."""
    try:
        kind = RefusalType(error.type or "")
    except ValueError:
        return Problem(409, error.message, "refused")
    return Problem(REFUSAL_STATUS[kind], error.message, _slug(kind.value))


def _slug(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return exc.response(request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", ""))}
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'][1:]) or 'request'}: {first['msg']}"
        return Problem(422, detail, "validation", errors=errors).response(request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return Problem(exc.status_code, str(exc.detail)).response(request.url.path)

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError) -> JSONResponse:
        if exc.status not in TEMPORAL_BUSY:
            return await _unexpected(request, exc)
        log.warning("temporal did not answer", path=request.url.path, status=exc.status.name)
        return TEMPORAL_UNAVAILABLE.response(request.url.path)

    @app.exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError)
    async def _update_timeout(
        request: Request, exc: WorkflowUpdateRPCTimeoutOrCancelledError
    ) -> JSONResponse:
        log.warning("update not answered in time", path=request.url.path)
        return TEMPORAL_UNAVAILABLE.response(request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged with its traceback by the server; the caller learns nothing internal.
        return Problem(500, "an internal error occurred; it has been logged").response(
            request.url.path
        )


class ProblemDetails(BaseModel):
    """An error, as every error of this API is answered (RFC 9457, ``application/problem+json``);
    ``type`` names the problem for programs, ``detail`` says what went wrong for people."""

    type: str = Field(examples=[PROBLEM_BASE + "stale-decision"])
    title: str = Field(examples=["Conflict"])
    status: int = Field(examples=[409])
    detail: str = Field(examples=["task pre-review-1 is done already"])
    instance: str | None = Field(default=None, examples=["/cases/retirement-…/tasks/…/decision"])


_MEANINGS = {
    400: "the request body could not be read",
    401: "no bearer token, or one that is not valid (expired, wrong issuer or audience)",
    403: "the caller's role, department, region or organisation may not do this",
    404: "no such case, or no such task on it",
    409: "stale or out of order: decided already, not open yet, the case closed or declared "
    "already, the task claimed by another clerk",
    413: "the request body is larger than the limit (MAX_BODY_BYTES)",
    422: "invalid, or refused by the retirement rules; the detail gives the reasons",
    503: "the case service (Temporal) or the case's read model did not answer in time: retry "
    "after Retry-After, with the same Idempotency-Key",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem answers a route really gives, for its OpenAPI ``responses``."""
    return {
        status: {"model": ProblemDetails, "description": _MEANINGS[status]} for status in statuses
    }


def document_problems(app: FastAPI) -> None:
    """Serve an OpenAPI schema whose error answers are ``application/problem+json`` with the
    :class:`ProblemDetails` schema (FastAPI would list them as ``application/json``, and its own
    validation-error model for 422, which this API never sends)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for operations in schema["paths"].values():
                for operation in operations.values():
                    for response in operation.get("responses", {}).values():
                        content = response.get("content", {})
                        ref = content.get("application/json", {}).get("schema", {}).get("$ref")
                        if ref == "#/components/schemas/ProblemDetails":
                            content[PROBLEM_JSON] = content.pop("application/json")
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
