"""The departments' contracts (``contracts/openapi/{system}.json``) are what the simulator serves
and what the adapters call: the committed documents are the code's (``python -m simulator
contracts`` writes them), each system serves its own paths of ``contracts.platform.Path``, every
path is served, and the answers are documented as the platform's contract describes them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from adapters import departments
from adapters.departments import Platform
from adapters.platform import DepartmentUnavailable, Endpoint
from contracts import platform as contract
from contracts.departments import HouseholdCheck, HouseholdStep, PersonQuery
from contracts.platform import EffectPage, Path, System
from simulator.app import CONTRACTS, openapi_documents
from tests.db import factories as f

# Which system answers which operation (besides the effects listing, which every one answers).
SERVES: dict[System, set[Path]] = {
    System.PUBLIC_SECURITY: {Path.HOUSEHOLD_VERIFY},
    System.HR: {Path.RETIREMENT_APPROVALS},
    System.SOCIAL_INSURANCE: {
        Path.PREREVIEW,
        Path.CONTRIBUTIONS_QUERY,
        Path.SETTLEMENTS,
        Path.RETIREE_SWITCHES,
        Path.PENSION_AWARDS,
    },
    System.MEDICAL_SECURITY: {Path.MEDICAL_QUERY, Path.MEDICAL_STATUS_CHANGES},
    System.PROVIDENT_FUND: {Path.FUND_ACCOUNT_QUERY, Path.FUND_WITHDRAWALS},
    System.HEALTH_COMMISSION: {Path.REWARD_NOTICES},
    System.SMS: {Path.SMS},
    System.APP_PUSH: {Path.PUSH},
}
# The writes: they carry an idempotency key, and the Idempotency-Key header repeats it.
WRITES = {
    Path.RETIREMENT_APPROVALS,
    Path.PREREVIEW,
    Path.SETTLEMENTS,
    Path.RETIREE_SWITCHES,
    Path.PENSION_AWARDS,
    Path.MEDICAL_STATUS_CHANGES,
    Path.FUND_WITHDRAWALS,
    Path.REWARD_NOTICES,
    Path.SMS,
    Path.PUSH,
}


@pytest.fixture(scope="module")
def documents() -> dict[System, dict[str, Any]]:
    # Through JSON, as the committed files are.
    return {
        system: json.loads(json.dumps(document)) for system, document in openapi_documents().items()
    }


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


# ---- the committed documents ---------------------------------------------------------------


@pytest.mark.parametrize("system", list(System))
def test_the_committed_document_is_the_codes(
    system: System, documents: dict[System, dict[str, Any]]
) -> None:
    path = CONTRACTS / f"{system}.json"
    assert path.exists(), f"{path} is missing: run python -m simulator contracts"
    committed = json.loads(path.read_text(encoding="utf-8"))
    assert committed == documents[system], (
        f"{path} differs from what the simulator serves: run python -m simulator contracts"
    )


def test_there_is_one_document_per_system_and_no_other() -> None:
    assert sorted(p.name for p in CONTRACTS.glob("*.json")) == sorted(f"{s}.json" for s in System)


# ---- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize("system", list(System))
def test_each_system_serves_its_own_paths(
    system: System, documents: dict[System, dict[str, Any]]
) -> None:
    operations = set(_operations(documents[system]))
    expected = {("POST", str(path)) for path in SERVES[system]} | {("GET", str(Path.EFFECTS))}
    assert operations == expected


def test_every_path_is_served_by_some_system(documents: dict[System, dict[str, Any]]) -> None:
    served = {path for document in documents.values() for path in document["paths"]}
    assert served == {str(path) for path in Path}
    # And, but for the effects listing, by one system only.
    assert sum(len(paths) for paths in SERVES.values()) == len(Path) - 1


# ---- answers -------------------------------------------------------------------------------


def _ref(response: dict[str, Any]) -> str:
    ref: str = response["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


@pytest.mark.parametrize("system", list(System))
def test_the_answers_are_documented_as_the_platform_gives_them(
    system: System, documents: dict[System, dict[str, Any]]
) -> None:
    """422 is a department's refusal (a ``Refusal``), never FastAPI's validation error, which
    this contract answers with 400; 401 is the signature; 5xx the system in trouble."""
    document = documents[system]
    for (method, path), operation in _operations(document).items():
        responses = operation["responses"]
        assert {"200", "400", "401", "5XX"} <= set(responses), (method, path)
        if method == "POST":
            assert _ref(responses["422"]) == "Refusal", path
        else:
            assert "422" not in responses, path  # the effects listing never refuses
    assert "HTTPValidationError" not in json.dumps(document)


@pytest.mark.parametrize("system", list(System))
def test_the_writes_take_an_idempotency_key(
    system: System, documents: dict[System, dict[str, Any]]
) -> None:
    document = documents[system]
    schemas = document["components"]["schemas"]
    for (method, path), operation in _operations(document).items():
        if method != "POST":
            continue
        body = _ref(operation["requestBody"])
        has_key = "idempotency_key" in schemas[body]["properties"]
        assert has_key == (Path(path) in WRITES), path
        if has_key:
            assert "idempotency_key" in schemas[body]["required"], path


# ---- what the adapters call ----------------------------------------------------------------

QUERY = PersonQuery(case_id="case-1", id_number=f.id_number(1))
CHECK = HouseholdCheck(
    case_id="case-1",
    step=HouseholdStep.DECLARATION,
    id_number=f.id_number(1),
    name="张三",
    region_code=f.REGION,
)
NUMBER = f.id_number(1)
CALLS: dict[str, Callable[[Platform], object]] = {
    "household.verify": lambda p: p.household.verify(CHECK),
    "hr.record_approval": lambda p: p.hr.record_approval(f.approval(NUMBER)),
    "social_insurance.receive_prereview": lambda p: p.social_insurance.receive_prereview(
        f.prereview(NUMBER)
    ),
    "social_insurance.contribution_status": lambda p: p.social_insurance.contribution_status(QUERY),
    "social_insurance.settle": lambda p: p.social_insurance.settle(f.settle(NUMBER)),
    "social_insurance.switch_to_retiree": lambda p: p.social_insurance.switch_to_retiree(
        f.retiree_switch(NUMBER)
    ),
    "social_insurance.award_pension": lambda p: p.social_insurance.award_pension(f.award(NUMBER)),
    "medical.medical_record": lambda p: p.medical.medical_record(QUERY),
    "medical.settle_status": lambda p: p.medical.settle_status(f.medical_switch(NUMBER)),
    "provident_fund.account": lambda p: p.provident_fund.account(QUERY),
    "provident_fund.withdraw_and_close": lambda p: p.provident_fund.withdraw_and_close(
        f.withdrawal(NUMBER)
    ),
    "health.record_reward_notice": lambda p: p.health.record_reward_notice(f.reward_notice(NUMBER)),
    "sms.send": lambda p: p.sms.send(f.sms()),
    "app_push.push": lambda p: p.app_push.push(f.push()),
}


def _adapter_methods() -> set[str]:
    """``property.method`` of every adapter method a ``Platform`` offers."""
    names: set[str] = set()
    for name, member in vars(Platform).items():
        if isinstance(member, property) and member.fget is not None:
            adapter = getattr(departments, member.fget.__annotations__["return"])
            names |= {f"{name}.{method}" for method in vars(adapter) if not method.startswith("_")}
    return names


def test_every_adapter_method_is_called_below() -> None:
    assert set(CALLS) == _adapter_methods()


def test_the_adapters_call_what_the_documents_declare(
    documents: dict[System, dict[str, Any]],
) -> None:
    """Every request the adapters send is an operation of its system's document, and every
    operation is called; a write's Idempotency-Key header is its command's key."""
    sent: set[tuple[System, str, str]] = set()

    def department(request: httpx.Request) -> httpx.Response:
        system = System(request.url.path.split("/")[1])
        path = "/" + request.url.path.split("/", 2)[2]
        sent.add((system, request.method, path))
        key = request.headers.get(contract.IDEMPOTENCY_KEY)
        if request.method == "POST" and Path(path) in WRITES:
            assert key == json.loads(request.content)["idempotency_key"], path
        else:
            assert key is None, path
        return httpx.Response(503)

    endpoints = {
        system: Endpoint(f"http://platform.test/{system}", "caller", SecretStr("secret"))
        for system in System
    }
    with Platform.connect(endpoints, transport=httpx.MockTransport(department)) as adapters:
        for call in CALLS.values():
            with pytest.raises(DepartmentUnavailable):
                call(adapters)
        for client in adapters.clients.values():
            with pytest.raises(DepartmentUnavailable):
                client.get(Path.EFFECTS, {}, EffectPage)
    declared = {
        (system, method, path)
        for system, document in documents.items()
        for method, path in _operations(document)
    }
    assert sent == declared
