"""What every route may depend on: the caller, a database session, the Temporal client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import Principal, TokenVerifier
from api.problems import Problem
from contracts.people import Role
from domain.policy import Policy
from service.codec import EncryptionCodec
from service.settings import Settings


@dataclass
class ApiContext:
    """Built once at start-up (``api.app.create_app``) and shared by every request."""

    settings: Settings
    client: Client
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]  # for reads only: never wait on a writer
    verifier: TokenVerifier
    policy: Policy
    sealer: EncryptionCodec  # the key ring, for the mobile numbers kept in the database


# The dependencies below are ``async`` though they never await: FastAPI runs a plain ``def``
# dependency in its thread pool, a hop per dependency per request, for work (reading the app's
# state, checking a signature) far cheaper than the hop (docs/performance.md).


async def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.context
    return ctx


ContextDep = Annotated[ApiContext, Depends(context)]


def session(ctx: ContextDep) -> Iterator[Session]:
    """A read-only session: every route that takes one only reads."""
    with ctx.read_sessions() as db:
        yield db


SessionDep = Annotated[Session, Depends(session)]


# Declares the bearer scheme in the OpenAPI schema (Swagger UI's Authorize button); the header
# itself is read below, so a malformed one gets this API's own problem answer.
BEARER = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A token from the province's identity platform (RS256/ES256, with the claims "
    "role and, by role, organisation, department and region, or id_number).",
)


async def principal(
    ctx: ContextDep,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    if not authorization:
        raise Problem(401, "a bearer token is required", "missing-token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "use the Authorization: Bearer <token> header", "missing-token")
    return ctx.verifier.verify(token.strip())


PrincipalDep = Annotated[Principal, Depends(principal)]


def require(who: Principal, *roles: Role) -> None:
    """403 unless the caller has one of ``roles``."""
    if who.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Problem(403, f"this needs the role {allowed}; the caller is {who.role}", "forbidden")


CaseIdPath = Annotated[
    str,
    Path(
        pattern=r"^retirement-[0-9a-f]{24}(-[0-9]{1,4})?$",
        examples=["retirement-4980485a0cb82a790ebef0dc"],
    ),
]
TaskIdPath = Annotated[str, Path(pattern=r"^[a-z-]+-[0-9]{1,9}$", examples=["pre-review-1"])]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="the same key gives the same answer and applies the request once",
    ),
]
