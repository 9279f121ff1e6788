"""Errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.exceptions import ApplicationError

from contracts.workflow import RefusalType

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

    def __init__(self, status: int, detail: str, slug: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
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
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse(body, status_code=self.status, media_type=PROBLEM_JSON, headers=headers)


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

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged with its traceback by the server; the caller learns nothing internal.
        return Problem(500, "an internal error occurred; it has been logged").response(
            request.url.path
        )
