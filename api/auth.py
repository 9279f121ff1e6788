"""Bearer tokens from the province's unified identity platform (an OIDC-style issuer).

A token is accepted only with a valid signature from one of the issuer's public keys (RS256 or
ES256 — never ``none`` and never a symmetric algorithm, which would let a public key sign), the
configured issuer and audience, and an unexpired ``exp``. Its claims say who the caller is:
``role`` and, by role, ``organisation`` (employer, agency), ``department`` and ``region``
(clerks, supervisors, admins) or ``id_number`` (an individual, as verified by the platform).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jwt
from jwt import PyJWK, PyJWKSet
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from api.problems import Problem
from contracts.base import Identifier, RegionCode
from contracts.identity import person_key
from contracts.people import Actor, Department, Role, region_covers
from domain.idcard import InvalidIdNumber, parse_id_number

ALGORITHMS = ("RS256", "ES256")
_LATEST_BIRTH = date(9999, 12, 31)  # the birth-date bound is checked where "today" is known


class Claims(BaseModel):
    """The claims this service reads; anything else in the token is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: Identifier
    role: Role
    organisation: Identifier | None = None
    department: Department | None = None
    region: RegionCode | None = None
    id_number: str | None = None

    @field_validator("id_number")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return parse_id_number(value, _LATEST_BIRTH).number
        except InvalidIdNumber as exc:
            raise ValueError(str(exc)) from None


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    subject: str
    role: Role
    organisation: str | None
    department: Department | None
    region: str | None
    person_key: str | None  # individuals: the pseudonym of their ID number

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.CLERK, Role.SUPERVISOR, Role.ADMIN)

    def covers(self, region_code: str) -> bool:
        return self.region is not None and region_covers(self.region, region_code)

    def actor(self, *, at_counter: bool = False) -> Actor:
        """How the workflow and the audit log record this caller."""
        if self.role is Role.INDIVIDUAL and self.person_key is not None:
            return Actor(id=self.person_key, role=Role.INDIVIDUAL)
        return Actor(
            id=self.subject,
            role=self.role,
            organisation=self.organisation,
            department=self.department,
            region=self.region,
            at_counter=at_counter and self.role is Role.CLERK,
        )


class TokenVerifier:
    def __init__(self, *, issuer: str, audience: str, keys: list[PyJWK], secret: bytes) -> None:
        if not keys:
            raise ValueError("no public keys to verify tokens with")
        self._issuer = issuer
        self._audience = audience
        self._keys = {key.key_id: key for key in keys}
        self._secret = secret

    @classmethod
    def from_jwks_file(
        cls, path: Path, *, issuer: str, audience: str, secret: bytes
    ) -> TokenVerifier:
        keys = PyJWKSet.from_dict(json.loads(path.read_text(encoding="utf-8"))).keys
        usable = [k for k in keys if k.algorithm_name in ALGORITHMS]
        return cls(issuer=issuer, audience=audience, keys=usable, secret=secret)

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Problem(401, "the bearer token is malformed", "invalid-token") from None
        if header.get("alg") not in ALGORITHMS:
            raise Problem(
                401, f"tokens signed with {header.get('alg')!r} are not accepted", "invalid-token"
            )
        key = self._key_for(header.get("kid"))
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Problem(401, "the bearer token has expired", "invalid-token") from None
        except jwt.InvalidAudienceError:
            raise Problem(
                401, "the bearer token is for another audience", "invalid-token"
            ) from None
        except jwt.InvalidIssuerError:
            raise Problem(401, "the bearer token is from another issuer", "invalid-token") from None
        except jwt.PyJWTError as exc:
            raise Problem(401, f"the bearer token is not valid: {exc}", "invalid-token") from None
        try:
            claims = Claims.model_validate(payload)
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise Problem(
                401, f"the token's claims are incomplete ({where})", "invalid-token"
            ) from None
        return self._principal(claims)

    def _key_for(self, kid: object) -> PyJWK:
        if isinstance(kid, str) and kid in self._keys:
            return self._keys[kid]
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        raise Problem(401, "the bearer token is signed with an unknown key", "invalid-token")

    def _principal(self, claims: Claims) -> Principal:
        missing = {
            Role.EMPLOYER: ("organisation",),
            Role.AGENCY: ("organisation",),
            Role.INDIVIDUAL: ("id_number",),
            Role.CLERK: ("department", "region"),
            Role.SUPERVISOR: ("department", "region"),
            Role.ADMIN: ("region",),
        }.get(claims.role)
        if missing is None:
            raise Problem(401, f"role {claims.role} cannot call this API", "invalid-token")
        absent = [name for name in missing if getattr(claims, name) is None]
        if absent:
            raise Problem(401, f"a {claims.role} token needs {', '.join(absent)}", "invalid-token")
        return Principal(
            subject=claims.sub,
            role=claims.role,
            organisation=claims.organisation,
            department=claims.department,
            region=claims.region,
            person_key=person_key(claims.id_number, self._secret) if claims.id_number else None,
        )
