"""A signed HTTP call to one department's system through the data-sharing platform, and what its
answer means for the activity that made it.

* 200 with a body that fits the contract: the result.
* 422 with a ``Refusal``: :class:`~activities.errors.DepartmentRefusal`, which the activity
  turns into a non-retryable failure and the workflow into a task for that department's clerk,
  in the department's own words.
* A timeout, a connection error, a 5xx, a 408 or a 429 (the platform's gateway throttling):
  :class:`DepartmentUnavailable`. Temporal retries the
  activity with backoff for as long as it takes (``workflows.steps.DEPARTMENT_RETRY``); a write
  retried after an answer was lost carries the same ``Idempotency-Key``, so the department
  applies it once.
* An answer that does not fit the contract (a 200 that is not the result, a 422 that is not a
  refusal) or a request the department calls malformed (400) or unsigned (401):
  :class:`MalformedAnswer` or :class:`PlatformRejected`, never a silent success. They are
  retried too — a department's bug or a wrong secret is fixed by a deploy, after which the case
  goes on by itself — and the failure, with its reason, is on the case in the Temporal UI and in
  ``retirement doctor``.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from activities.errors import DepartmentRefusal
from contracts import platform
from contracts.platform import DEPARTMENT_OF, Refusal, System

M = TypeVar("M", bound=BaseModel)


class DepartmentUnavailable(Exception):
    """The department's system did not answer in time, or answered 5xx: try again later."""


class MalformedAnswer(Exception):
    """The department answered something that is not what its contract says."""


class PlatformRejected(Exception):
    """The department refused the request itself (400: it does not fit the contract; 401: the
    signature or the app id is wrong) — a deployment to fix, not a person's problem."""


@dataclass(frozen=True)
class Endpoint:
    """Where one system answers and how this service signs its requests there."""

    base_url: str
    app_id: str
    secret: SecretStr


DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class PlatformClient:
    """Signed calls to one system. Thread-safe: activities run on a thread pool and share it."""

    def __init__(
        self,
        system: System,
        endpoint: Endpoint,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.system = system
        self._endpoint = endpoint
        self._secret = endpoint.secret.get_secret_value().encode()
        self._base_path = urlsplit(endpoint.base_url).path.rstrip("/")
        self._http = httpx.Client(
            base_url=endpoint.base_url.rstrip("/"), timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def post(
        self, path: str, body: BaseModel, result: type[M], *, idempotency_key: str | None = None
    ) -> M:
        """POST ``body`` as JSON; a write passes its command's ``idempotency_key``."""
        content = body.model_dump_json().encode()
        headers = {"Content-Type": "application/json"}
        if idempotency_key is not None:
            headers[platform.IDEMPOTENCY_KEY] = idempotency_key
        return self._send("POST", path, content, headers, result, step=path)

    def get(self, path: str, params: dict[str, str], result: type[M]) -> M:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        target = f"{path}?{query}" if query else path
        return self._send("GET", target, b"", {}, result, step=path)

    def _send(
        self,
        method: str,
        target: str,
        content: bytes,
        headers: dict[str, str],
        result: type[M],
        *,
        step: str,
    ) -> M:
        timestamp = str(int(time.time()))
        nonce = uuid.uuid4().hex
        signed_path = f"{self._base_path}{target}"
        headers = {
            **headers,
            platform.APP_ID: self._endpoint.app_id,
            platform.TIMESTAMP: timestamp,
            platform.NONCE: nonce,
            platform.SIGNATURE: platform.sign(
                self._secret, method, signed_path, timestamp, nonce, content
            ),
        }
        # ``from None`` on every failure here: the activity's failure carries its whole cause chain
        # with a stack trace each (httpx, httpcore, the socket), encrypted, and a failure over the
        # server's size limit is replaced by "Failure exceeds size limit." — the clerk and the
        # operator would lose the one line that says what happened.
        try:
            response = self._http.request(method, target, content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise DepartmentUnavailable(
                f"{self.system} did not answer in time ({type(exc).__name__})"
            ) from None
        except httpx.TransportError as exc:
            raise DepartmentUnavailable(
                f"{self.system} could not be reached ({type(exc).__name__}: {exc})"
            ) from None
        code = response.status_code
        if code >= 500 or code in (408, 429):  # in trouble, timed out, or asking us to slow down
            raise DepartmentUnavailable(f"{self.system} answered {code}: {_excerpt(response)}")
        if code == 422:
            raise self._refusal(response, step)
        if code in (400, 401, 403, 404, 405, 413):
            raise PlatformRejected(
                f"{self.system} rejected {method} {target.split('?')[0]} ({code}): "
                f"{_excerpt(response)}"
            )
        if code != 200:
            raise MalformedAnswer(f"{self.system} answered {code}, which its contract lacks")
        try:
            return result.model_validate_json(response.content)
        except ValidationError as exc:
            raise MalformedAnswer(
                f"{self.system}'s answer to {target.split('?')[0]} is not a "
                f"{result.__name__}: {exc.error_count()} problems, first: {_first(exc)}"
            ) from None

    def _refusal(self, response: httpx.Response, step: str) -> Exception:
        try:
            refusal = Refusal.model_validate_json(response.content)
        except ValidationError:
            return MalformedAnswer(f"{self.system} answered 422 without a refusal")
        department = DEPARTMENT_OF[self.system]
        if department is None:  # the SMS gateway has no clerk to hand a refusal to
            return PlatformRejected(f"{self.system} refused: {refusal.message}")
        return DepartmentRefusal(department, refusal.step or step, refusal.message)


# An ID number a department echoes in an error body must not reach the activity's failure (and
# so the worker's log): failures are encrypted in Temporal, logs are not.
_ID_NUMBER = re.compile(r"\d{17}[\dXx]|\d{15}")


def _excerpt(response: httpx.Response) -> str:
    return _ID_NUMBER.sub("<id number>", response.text[:200].replace("\n", " "))


def _first(exc: ValidationError) -> str:
    error: dict[str, Any] = dict(exc.errors()[0])
    where = ".".join(str(part) for part in error.get("loc", ())) or "body"
    return f"{where}: {error.get('msg', '')}"
