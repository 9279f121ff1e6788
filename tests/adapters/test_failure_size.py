"""What an unreachable department leaves on the case: the activity's last failure, encrypted,
must stay under the Temporal server's limit for a pending activity's failure (4 KB), or the
server replaces it with "Failure exceeds size limit." and nobody can see why the step retries.
(The chaos run found exactly that: the adapter chained httpx's whole cause chain.)"""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr
from temporalio.api.failure.v1 import Failure

from adapters.departments import Platform
from adapters.platform import DepartmentUnavailable, Endpoint, MalformedAnswer, PlatformRejected
from contracts.departments import PersonQuery
from contracts.platform import System
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
