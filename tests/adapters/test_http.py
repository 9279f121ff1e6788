"""The adapters (``adapters/``) against the department simulator over real HTTP: what each kind of
answer becomes, that a write retried after a lost answer is applied once, and that the platform's
signing keeps out a wrong secret, a replay and a stale request.

The simulator is the session's (``departments``), shared with other test modules: every test
uses people of its own and clears the faults it set, which name the one system they are for.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from activities.errors import DEPARTMENT_REFUSAL, DepartmentRefusal
from activities.provident_fund import ProvidentFundActivities
from adapters.departments import Platform
from adapters.platform import (
    DepartmentUnavailable,
    Endpoint,
    MalformedAnswer,
    PlatformClient,
    PlatformRejected,
)
from contracts import platform as contract
from contracts.departments import (
    DepartmentRefusalInfo,
    FundAccountStatus,
    FundReceipt,
    FundWithdrawal,
    HouseholdCheck,
    HouseholdStep,
    PersonQuery,
)
from contracts.people import Department
from contracts.platform import Effect, Path, System
from harness.department_simulator import DepartmentSimulator
from simulator import scenarios
from simulator.faults import FaultMode
from simulator.storage import FUND_FROZEN
from tests.db import factories as f
from tests.support.people import SIMULATOR_REGION, new_simulator_id_number

SHORT = httpx.Timeout(0.5)


@pytest.fixture(autouse=True)
def no_faults_left(departments: DepartmentSimulator) -> Iterator[None]:
    """Faults set by a test end with it (the simulator is the whole session's)."""
    yield
    departments.clear_faults()


@pytest.fixture
def case_id() -> str:
    return f"retirement-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def hasty(departments: DepartmentSimulator) -> Iterator[Platform]:
    """Adapters that wait half a second for an answer."""
    with departments.platform(timeout=SHORT) as connected:
        yield connected


def _withdrawal(number: str, case_id: str) -> FundWithdrawal:
    return FundWithdrawal(
        idempotency_key=f"{case_id}:fund",
        case_id=case_id,
        id_number=number,
        approved_by=f.clerk(Department.PROVIDENT_FUND),
    )


def _payouts(platform: Platform, case_id: str) -> list[Effect]:
    return [e for e in platform.effects(case_id=case_id) if e.kind == "payout"]


def _frozen(departments: DepartmentSimulator) -> str:
    number = new_simulator_id_number()
    departments.put_person(number, scenarios.named(number, "张三", "frozen-fund"))
    return number


# ---- answers -------------------------------------------------------------------------------


def test_a_person_never_seeded_is_answered_by_every_department(
    platform: Platform, case_id: str
) -> None:
    number = new_simulator_id_number()
    query = PersonQuery(case_id=case_id, id_number=number)
    household = platform.household.verify(
        HouseholdCheck(
            case_id=case_id,
            step=HouseholdStep.DECLARATION,
            id_number=number,
            name="王建国",
            region_code=SIMULATOR_REGION,
        )
    )
    assert (household.matches, household.detail) == (True, "")
    status = platform.social_insurance.contribution_status(query)
    assert (status.status, status.problems) == ("normal", [])
    assert status.actual_years + status.deemed_years > 30
    medical = platform.medical.medical_record(query)
    assert medical.actual_years + medical.deemed_years == status.actual_years + status.deemed_years
    account = platform.provident_fund.account(query)
    assert (account.found, account.status) == (True, FundAccountStatus.ACTIVE)
    assert Decimal(20_000) <= account.balance < Decimal(150_000)
    assert account.card_last4 is not None
    assert len(account.card_last4) == 4


def test_a_refusal_is_a_department_refusal_in_the_departments_words(
    departments: DepartmentSimulator, platform: Platform, case_id: str
) -> None:
    number = _frozen(departments)
    with pytest.raises(DepartmentRefusal) as excinfo:
        platform.provident_fund.withdraw_and_close(_withdrawal(number, case_id))
    assert excinfo.value.info == DepartmentRefusalInfo(
        department=Department.PROVIDENT_FUND, step="withdraw-and-close", reason=FUND_FROZEN
    )
    assert _payouts(platform, case_id) == []


def test_an_activity_makes_the_refusal_final(
    departments: DepartmentSimulator, platform: Platform, case_id: str
) -> None:
    """``refusals_are_final``: Temporal will not retry it; a clerk gets the task."""
    number = _frozen(departments)
    activities = ProvidentFundActivities(platform.provident_fund)
    with pytest.raises(ApplicationError) as excinfo:
        activities.withdraw_and_close(_withdrawal(number, case_id))
    error = excinfo.value
    assert (error.type, error.non_retryable, error.message) == (
        DEPARTMENT_REFUSAL,
        True,
        FUND_FROZEN,
    )
    assert error.details == (
        DepartmentRefusalInfo(
            department=Department.PROVIDENT_FUND, step="withdraw-and-close", reason=FUND_FROZEN
        ),
    )


def test_an_unavailable_department_stays_retryable_in_an_activity(
    departments: DepartmentSimulator, platform: Platform, case_id: str
) -> None:
    departments.fault(FaultMode.DOWN, system=System.PROVIDENT_FUND)
    activities = ProvidentFundActivities(platform.provident_fund)
    with pytest.raises(DepartmentUnavailable):  # not an ApplicationError: Temporal retries it
        activities.account(PersonQuery(case_id=case_id, id_number=new_simulator_id_number()))


# ---- a department in trouble ---------------------------------------------------------------


def test_a_5xx_is_unavailable_and_the_next_call_succeeds(
    departments: DepartmentSimulator, platform: Platform, case_id: str
) -> None:
    query = PersonQuery(case_id=case_id, id_number=new_simulator_id_number())
    departments.fault(FaultMode.ERROR, system=System.PROVIDENT_FUND, count=1)
    with pytest.raises(DepartmentUnavailable, match="answered 500"):
        platform.provident_fund.account(query)
    assert platform.provident_fund.account(query).found


def test_a_fault_on_one_system_leaves_the_others_alone(
    departments: DepartmentSimulator, platform: Platform, case_id: str
) -> None:
    number = new_simulator_id_number()
    departments.fault(FaultMode.DOWN, system=System.PROVIDENT_FUND)
    query = PersonQuery(case_id=case_id, id_number=number)
    assert platform.medical.medical_record(query).actual_years >= 0
    with pytest.raises(DepartmentUnavailable):
        platform.provident_fund.account(query)


def test_a_department_that_is_down_is_unavailable(
    departments: DepartmentSimulator, platform: Platform, case_id: str
) -> None:
    query = PersonQuery(case_id=case_id, id_number=new_simulator_id_number())
    departments.fault(FaultMode.DOWN, system=System.PROVIDENT_FUND)
    for _ in range(2):  # until cleared
        with pytest.raises(DepartmentUnavailable, match="answered 503"):
            platform.provident_fund.account(query)
    departments.clear_faults()
    assert platform.provident_fund.account(query).found


def test_a_write_whose_answer_times_out_is_applied_once_when_retried(
    departments: DepartmentSimulator, platform: Platform, hasty: Platform, case_id: str
) -> None:
    number = new_simulator_id_number()
    balance = platform.provident_fund.account(PersonQuery(case_id=case_id, id_number=number))
    command = _withdrawal(number, case_id)
    departments.fault(FaultMode.SLOW, system=System.PROVIDENT_FUND, count=1, seconds=3)
    started = time.monotonic()
    with pytest.raises(DepartmentUnavailable, match="did not answer in time"):
        hasty.provident_fund.withdraw_and_close(command)
    assert time.monotonic() - started < 2.5  # the client gave up; it did not wait the answer out

    retried = hasty.provident_fund.withdraw_and_close(command)  # the same key, a new request
    assert retried.duplicate
    assert retried.amount == balance.balance
    again = platform.provident_fund.withdraw_and_close(command)
    assert again == retried
    payouts = _payouts(platform, case_id)
    assert [(p.reference, p.amount, p.idempotency_key) for p in payouts] == [
        (retried.payout_id, balance.balance, command.idempotency_key)
    ]


def test_a_malformed_answer_to_a_read_is_never_a_result(
    departments: DepartmentSimulator, platform: Platform, case_id: str
) -> None:
    query = PersonQuery(case_id=case_id, id_number=new_simulator_id_number())
    departments.fault(FaultMode.MALFORMED, system=System.PROVIDENT_FUND, count=1)
    with pytest.raises(MalformedAnswer, match="is not a FundAccount"):
        platform.provident_fund.account(query)
    assert platform.provident_fund.account(query).found


def test_a_write_whose_answer_was_malformed_is_not_applied_twice(
    departments: DepartmentSimulator, platform: Platform, case_id: str
) -> None:
    command = _withdrawal(new_simulator_id_number(), case_id)
    departments.fault(FaultMode.MALFORMED, system=System.PROVIDENT_FUND, count=1)
    with pytest.raises(MalformedAnswer):
        platform.provident_fund.withdraw_and_close(command)
    retried = platform.provident_fund.withdraw_and_close(command)
    assert retried.duplicate
    assert [p.reference for p in _payouts(platform, case_id)] == [retried.payout_id]


# ---- the platform's signing ----------------------------------------------------------------


def _endpoints(
    departments: DepartmentSimulator, *, app_id: str | None = None, secret: str | None = None
) -> dict[System, Endpoint]:
    return {
        system: Endpoint(
            base_url=endpoint.base_url,
            app_id=app_id or endpoint.app_id,
            secret=SecretStr(secret) if secret is not None else endpoint.secret,
        )
        for system, endpoint in departments.endpoints().items()
    }


@pytest.mark.parametrize(
    ("app_id", "secret"), [(None, "not-the-secret"), ("someone-else", None)], ids=["secret", "app"]
)
def test_a_wrong_secret_or_app_id_is_rejected(
    departments: DepartmentSimulator, case_id: str, app_id: str | None, secret: str | None
) -> None:
    query = PersonQuery(case_id=case_id, id_number=new_simulator_id_number())
    wrong = Platform.connect(_endpoints(departments, app_id=app_id, secret=secret))
    with wrong, pytest.raises(PlatformRejected, match=r"\(401\)"):
        wrong.provident_fund.account(query)


def _signed(
    departments: DepartmentSimulator,
    system: System,
    path: Path,
    body: bytes,
    *,
    timestamp: int | None = None,
) -> tuple[str, dict[str, str]]:
    """A request signed by hand, as the contract describes: its URL and headers."""
    signed_path = f"/{system}{path}"
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = uuid.uuid4().hex
    secret = departments.secret.get_secret_value().encode()
    headers = {
        "Content-Type": "application/json",
        contract.APP_ID: departments.app_id,
        contract.TIMESTAMP: stamp,
        contract.NONCE: nonce,
        contract.SIGNATURE: contract.sign(secret, "POST", signed_path, stamp, nonce, body),
    }
    return f"{departments.url}{signed_path}", headers


def _account_query(case_id: str) -> bytes:
    return (
        PersonQuery(case_id=case_id, id_number=new_simulator_id_number()).model_dump_json().encode()
    )


def test_a_replayed_request_is_refused(departments: DepartmentSimulator, case_id: str) -> None:
    body = _account_query(case_id)
    url, headers = _signed(departments, System.PROVIDENT_FUND, Path.FUND_ACCOUNT_QUERY, body)
    with httpx.Client(timeout=10) as http:
        first = http.post(url, content=body, headers=headers)
        replayed = http.post(url, content=body, headers=headers)
    assert first.status_code == 200, first.text  # the hand-made signature is right
    assert replayed.status_code == 401
    assert "nonce" in replayed.json()["detail"]


@pytest.mark.parametrize("off", [-contract.MAX_SKEW - 60, contract.MAX_SKEW + 60])
def test_a_request_outside_the_time_window_is_refused(
    departments: DepartmentSimulator, case_id: str, off: int
) -> None:
    body = _account_query(case_id)
    url, headers = _signed(
        departments,
        System.PROVIDENT_FUND,
        Path.FUND_ACCOUNT_QUERY,
        body,
        timestamp=int(time.time()) + off,
    )
    response = httpx.post(url, content=body, headers=headers, timeout=10)
    assert response.status_code == 401
    assert "window" in response.json()["detail"]


def test_a_tampered_body_is_refused(departments: DepartmentSimulator, case_id: str) -> None:
    body = _account_query(case_id)
    url, headers = _signed(departments, System.PROVIDENT_FUND, Path.FUND_ACCOUNT_QUERY, body)
    other = _account_query(case_id)
    response = httpx.post(url, content=other, headers=headers, timeout=10)
    assert response.status_code == 401
    assert "signature" in response.json()["detail"]


@pytest.mark.parametrize("key", ["another-key", None], ids=["different", "missing"])
def test_a_write_whose_idempotency_key_header_differs_is_rejected(
    platform: Platform, case_id: str, key: str | None
) -> None:
    command = _withdrawal(new_simulator_id_number(), case_id)
    client: PlatformClient = platform.clients[System.PROVIDENT_FUND]
    with pytest.raises(PlatformRejected, match=r"\(400\)"):
        client.post(Path.FUND_WITHDRAWALS, command, FundReceipt, idempotency_key=key)
    assert _payouts(platform, case_id) == []  # nothing was paid


# ---- concurrency ---------------------------------------------------------------------------

THREADS = 8


def test_concurrent_retries_of_one_withdrawal_pay_once(platform: Platform, case_id: str) -> None:
    number = new_simulator_id_number()
    command = _withdrawal(number, case_id)
    start = threading.Barrier(THREADS)

    def withdraw() -> FundReceipt:
        start.wait(timeout=10)
        return platform.provident_fund.withdraw_and_close(command)

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(withdraw) for _ in range(THREADS)]
        receipts = [future.result(timeout=60) for future in futures]
    assert sorted(r.duplicate for r in receipts) == [False] + [True] * (THREADS - 1)
    assert len({(r.payout_id, r.amount) for r in receipts}) == 1
    payouts = _payouts(platform, case_id)
    assert [p.reference for p in payouts] == [receipts[0].payout_id]
    account = platform.provident_fund.account(PersonQuery(case_id=case_id, id_number=number))
    assert (account.status, account.balance) == (FundAccountStatus.CLOSED, Decimal(0))
