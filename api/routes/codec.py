"""The codec endpoint (Temporal's remote codec protocol) so the Temporal UI can show decoded
payloads to an administrator: ``POST /codec/encode`` and ``POST /codec/decode``.

In production it demands an administrator's bearer token (the UI passes its access token). In
development (``AUTH_DEV_MODE``) the UI started by ``make run`` calls it from this machine without
one, so loopback callers are let in then — and only then.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import APIRouter, Header, Request, Security
from google.protobuf import json_format
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload

from api.deps import BEARER, ContextDep
from api.problems import Problem, problems
from contracts.people import Role
from service.codec import CodecError
from service.temporal import payload_codec

# The bearer scheme, for the schema: _authorise reads the header itself.
router = APIRouter(prefix="/codec", tags=["codec"], dependencies=[Security(BEARER)])


class WirePayload(BaseModel):
    metadata: dict[str, str] = Field(default_factory=dict, description="base64 values")
    data: str = Field(default="", description="base64")


class Payloads(BaseModel):
    payloads: Annotated[list[WirePayload], Field(max_length=1000)]


def _authorise(request: Request, ctx: ContextDep, authorization: str | None) -> None:
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise Problem(401, "use the Authorization: Bearer <token> header", "missing-token")
        who = ctx.verifier.verify(token.strip())
        if who.role is not Role.ADMIN:
            raise Problem(403, "decoding payloads needs an administrator's token", "forbidden")
        return
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not (ctx.settings.auth_dev_mode and loopback):
        raise Problem(401, "an administrator's bearer token is required", "missing-token")


def _to_proto(wire: WirePayload) -> Payload:
    try:
        return json_format.ParseDict(wire.model_dump(), Payload())
    except json_format.ParseError as exc:
        raise Problem(422, f"not a payload: {exc}", "validation") from None


def _to_wire(payload: Payload) -> WirePayload:
    return WirePayload.model_validate(json_format.MessageToDict(payload))


@router.post(
    "/decode",
    response_model=Payloads,
    summary="Decrypt payloads for the Temporal UI",
    responses=problems(400, 401, 403, 413, 422),
)
async def decode(
    body: Payloads,
    request: Request,
    ctx: ContextDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Payloads:
    _authorise(request, ctx, authorization)
    codec = payload_codec(ctx.settings)
    try:
        decoded = await codec.decode([_to_proto(p) for p in body.payloads])
    except CodecError as exc:
        raise Problem(422, str(exc), "undecodable") from None
    return Payloads(payloads=[_to_wire(p) for p in decoded])


@router.post(
    "/encode",
    response_model=Payloads,
    summary="Encrypt payloads (Temporal UI, CLI)",
    responses=problems(400, 401, 403, 413, 422),
)
async def encode(
    body: Payloads,
    request: Request,
    ctx: ContextDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Payloads:
    _authorise(request, ctx, authorization)
    encoded = await payload_codec(ctx.settings).encode([_to_proto(p) for p in body.payloads])
    return Payloads(payloads=[_to_wire(p) for p in encoded])
