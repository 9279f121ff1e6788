"""The province's data-sharing platform: how a caller reaches a department's system.

Every department answers under its own base URL (``{base}/v1/...``, the paths below). Each
request is signed with the caller's app id and shared secret, the scheme such platforms use:

    string to sign = METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n SHA-256 hex of the body
    X-Signature    = base64(HMAC-SHA256(secret, string to sign))

with ``X-App-Id``, ``X-Timestamp`` (Unix seconds) and ``X-Nonce`` (unique per request) beside it.
A receiver refuses a timestamp more than ``MAX_SKEW`` seconds off and a nonce it has seen, so a
captured request cannot be replayed; a retry is a new request with a new nonce. Every write also
carries ``Idempotency-Key`` (the command's own key): the department applies a key once and answers
a repeat with the first receipt (``duplicate = true``).

Answers: 200 with the result; 422 with a :class:`Refusal` when the department says no for a
business reason (no record, account frozen), which a clerk must look at; 400 when the request is
malformed (a bug on the caller's side); 401 when the signature is wrong; 5xx when the system is
in trouble. This module is the contract both sides import: the adapters (``adapters/``) and the
department simulator (``simulator/``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from contracts.base import CaseId, Model, Text
from contracts.people import Department

APP_ID = "X-App-Id"
TIMESTAMP = "X-Timestamp"
NONCE = "X-Nonce"
SIGNATURE = "X-Signature"
IDEMPOTENCY_KEY = "Idempotency-Key"
MAX_SKEW = 300  # seconds a request's timestamp may differ from the receiver's clock

# The development caller both sides default to (``make run``, the tests). Production sets the app
# id and secret the platform issued (README, Configuration) and runs no simulator.
DEV_APP_ID = "retirement-dev"
DEV_SECRET = "dev-only-platform-secret-change-me"  # noqa: S105 - development only, as above


class System(StrEnum):
    """The department systems a case talks to, as the platform names them (their URL slugs)."""

    PUBLIC_SECURITY = "public-security"
    HR = "hr"
    SOCIAL_INSURANCE = "social-insurance"
    MEDICAL_SECURITY = "medical-security"
    PROVIDENT_FUND = "provident-fund"
    HEALTH_COMMISSION = "health-commission"
    SMS = "sms"  # the province's SMS platform (政务短信平台)
    APP_PUSH = "app-push"  # the 吉事办 app's push service


# The department each system belongs to (the SMS platform and the app's push: no clerk).
DEPARTMENT_OF: dict[System, Department | None] = {
    System.PUBLIC_SECURITY: Department.PUBLIC_SECURITY,
    System.HR: Department.HR,
    System.SOCIAL_INSURANCE: Department.SOCIAL_INSURANCE,
    System.MEDICAL_SECURITY: Department.MEDICAL,
    System.PROVIDENT_FUND: Department.PROVIDENT_FUND,
    System.HEALTH_COMMISSION: Department.HEALTH,
    System.SMS: None,
    System.APP_PUSH: None,
}


class Path(StrEnum):
    """Every operation, relative to its system's base URL. Reads that name a person are POSTs,
    so an ID number never appears in a URL (and so in an access log)."""

    HOUSEHOLD_VERIFY = "/v1/household/verify"
    RETIREMENT_APPROVALS = "/v1/retirement-approvals"
    PREREVIEW = "/v1/prereview-receipts"
    CONTRIBUTIONS_QUERY = "/v1/contributions/query"
    SETTLEMENTS = "/v1/settlements"
    RETIREE_SWITCHES = "/v1/retiree-switches"
    PENSION_AWARDS = "/v1/pension-awards"
    MEDICAL_QUERY = "/v1/medical-records/query"
    MEDICAL_STATUS_CHANGES = "/v1/status-changes"
    FUND_ACCOUNT_QUERY = "/v1/accounts/query"
    FUND_WITHDRAWALS = "/v1/withdrawals"
    REWARD_NOTICES = "/v1/reward-notices"
    SMS = "/v1/sms"
    PUSH = "/v1/push"
    EFFECTS = "/v1/effects"


class Refusal(Model):
    """The body of a 422: the department's own words, shown to its clerk."""

    code: Annotated[str, Field(max_length=64)] = Field(description="e.g. no-record, frozen")
    step: Annotated[str, Field(max_length=64)]
    message: Text


class Effect(Model):
    """One side effect a department recorded for a case: what reconciliation compares with the
    case (``GET {base}/v1/effects?case_id=...``)."""

    id: int = Field(description="the department's own number for the record")
    system: System
    kind: Annotated[str, Field(max_length=64)] = Field(description="e.g. pension-award")
    case_id: CaseId
    idempotency_key: Annotated[str, Field(max_length=200)]
    reference: Annotated[str, Field(max_length=32)]
    at: datetime
    amount: Decimal | None = Field(default=None, description="yuan, for awards and payouts")
    scheduled: bool | None = Field(default=None, description="an award's payments are scheduled")
    fingerprint: str | None = Field(
        default=None, description="a message's recipient, kind and text hashed: a resend shows"
    )


class EffectPage(Model):
    effects: list[Effect]
    next_after: str | None = Field(default=None, description="pass as ``after`` for more")


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What the signature covers: the path includes the query string, if any."""
    return "\n".join([method.upper(), path, timestamp, nonce, body_digest(body)]).encode()


def sign(secret: bytes, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    mac = hmac.new(secret, string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def signature_matches(
    secret: bytes, method: str, path: str, timestamp: str, nonce: str, body: bytes, given: str
) -> bool:
    """Constant-time comparison, so a forger learns nothing from how long a refusal takes."""
    return hmac.compare_digest(sign(secret, method, path, timestamp, nonce, body), given)
