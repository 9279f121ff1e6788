"""What an unreachable department leaves on the case: the activity's last failure, encrypted,
must stay under the Temporal server's limit for a pending activity's failure (4 KB), or the
server replaces it with "Failure exceeds size limit." and nobody can see why the step retries.
(The chaos run found exactly that: the adapter chained httpx's whole cause chain.)"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from pydantic import SecretStr
from temporalio.api.failure.v1 import Failure

from adapters.departments import Platform
from adapters.platform import DepartmentUnavailable, Endpoint, MalformedAnswer, PlatformRejected
from contracts import platform as contract
from contracts.departments import PersonQuery
from contracts.platform import System
from harness.department_simulator import DepartmentSimulator
from harness.ports import free_port
from service.temporal import DATA_CONVERTER

PENDING_FAILURE_LIMIT = 4 * 1024  # the server's limit on a pending activity's last failure
ID_NUMBER = "220102196608150012"


async def test_an_unreachable_department_fails_small_and_says_why() -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    endpoints = {
        system: Endpoint(f"{nobody}/{system}", "retirement-service", SecretStr("s"))
        for system in System
    }
    with (
        Platform.connect(endpoints, timeout=httpx.Timeout(2.0)) as platform,
        pytest.raises(DepartmentUnavailable) as raised,
    ):
        platform.provident_fund.account(PersonQuery(case_id="c-1", id_number=ID_NUMBER))
    assert "provident-fund could not be reached" in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    failure = Failure()
    await DATA_CONVERTER.encode_failure(raised.value, failure)
    assert failure.application_failure_info.type == "DepartmentUnavailable"
    assert failure.ByteSize() < PENDING_FAILURE_LIMIT / 2, failure.ByteSize()
    assert ID_NUMBER not in failure.SerializeToString().decode(errors="replace")


@pytest.mark.parametrize(
    ("status", "expected"),
    [(429, DepartmentUnavailable), (408, DepartmentUnavailable), (503, DepartmentUnavailable),
     (409, MalformedAnswer), (401, PlatformRejected)],
)  # fmt: skip
def test_a_throttled_request_is_retried_later(status: int, expected: type[Exception]) -> None:
    """A gateway's 429 (or 408) means "not now", like a 5xx: retried by Temporal, not a
    failure of the contract; an answer the contract lacks, or a rejected signature, is not."""
    transport = httpx.MockTransport(lambda request: httpx.Response(status, text="slow down"))
    endpoints = {
        system: Endpoint(f"http://platform.test/{system}", "retirement-service", SecretStr("s"))
        for system in System
    }
    with (
        Platform.connect(endpoints, transport=transport) as platform,
        pytest.raises(expected) as raised,
    ):
        platform.provident_fund.account(PersonQuery(case_id="c-1", id_number=ID_NUMBER))
    assert type(raised.value) is expected


def test_an_id_number_in_an_error_body_stays_out_of_the_failure() -> None:
    """Failures are encrypted in Temporal, but the worker logs them: a department that echoes
    the ID number in an error must not put it there."""
    body = f'{{"detail": "no such person {ID_NUMBER}", "legacy": "220102660815001"}}'
    transport = httpx.MockTransport(lambda request: httpx.Response(400, text=body))
    endpoints = {
        system: Endpoint(f"http://platform.test/{system}", "retirement-service", SecretStr("s"))
        for system in System
    }
    with (
        Platform.connect(endpoints, transport=transport) as platform,
        pytest.raises(PlatformRejected) as raised,
    ):
        platform.provident_fund.account(PersonQuery(case_id="c-1", id_number=ID_NUMBER))
    message = str(raised.value)
    assert ID_NUMBER not in message and "220102660815001" not in message
    assert "no such person <id number>" in message


def test_the_simulator_says_where_a_request_is_wrong_not_what_was_sent(
    departments: DepartmentSimulator,
) -> None:
    """Its 400 names the field and the reason, never the value (an ID number, here)."""
    body = json.dumps({"case_id": "c-1", "id_number": ID_NUMBER, "stray": ID_NUMBER}).encode()
    path = f"/{System.PROVIDENT_FUND}{contract.Path.FUND_ACCOUNT_QUERY}"
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    secret = departments.secret.get_secret_value().encode()
    headers = {
        "Content-Type": "application/json",
        contract.APP_ID: departments.app_id,
        contract.TIMESTAMP: timestamp,
        contract.NONCE: nonce,
        contract.SIGNATURE: contract.sign(secret, "POST", path, timestamp, nonce, body),
    }
    response = httpx.post(f"{departments.url}{path}", content=body, headers=headers)
    assert response.status_code == 400
    assert "stray" in response.text
    assert ID_NUMBER not in response.text
