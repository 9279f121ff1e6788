"""The simulator's HTTP service: each department system under ``/{system}`` (its own FastAPI app,
so each has its own OpenAPI document, committed as ``contracts/openapi/{system}.json``), and the
admin API under ``/admin`` (scenarios, faults) behind a bearer token.

Department requests must be signed as ``contracts.platform`` describes; writes must carry an
``Idempotency-Key`` equal to the command's own key. A business refusal is 422 with a
``Refusal``; a request that does not fit the contract is 400.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session, sessionmaker

from contracts import platform
from contracts.departments import (
    ApprovalCommand,
    FundAccount,
    FundReceipt,
    FundWithdrawal,
    HouseholdCheck,
    HouseholdResult,
    MedicalRecord,
    MedicalSwitch,
    PensionAward,
    PersonQuery,
    PrereviewPush,
    PushMessage,
    Receipt,
    RetireeSwitch,
    RewardNoticeRecord,
    SettleCommand,
    SmsMessage,
)
from contracts.platform import EffectPage, Refusal, System
from contracts.workflow import ContributionStatus
from db.session import make_engine, make_sessionmaker
from simulator import effects, scenarios
from simulator.faults import Fault, FaultMode, Faults
from simulator.identity import identity_app
from simulator.models import Base
from simulator.storage import (
    DatabaseHealthCommission,
    DatabaseHouseholdRegistry,
    DatabaseHrSystem,
    DatabaseMedicalSystem,
    DatabaseProvidentFund,
    DatabasePush,
    DatabaseSms,
    DatabaseSocialInsurance,
    Refused,
)

# Development only: production runs no simulator.
DEV_ADMIN_TOKEN = "dev-only-simulator-admin"  # noqa: S105 - the dev default
NONCE_TTL = 2 * platform.MAX_SKEW


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIMULATOR_", extra="ignore")

    database_url: str = "sqlite:///var/simulator.db"
    clients: dict[str, SecretStr] = Field(
        default={platform.DEV_APP_ID: SecretStr(platform.DEV_SECRET)},
        description="app id → shared secret of every caller allowed in (JSON)",
    )
    admin_token: SecretStr = SecretStr(DEV_ADMIN_TOKEN)


class _Nonces:
    """Nonces seen within the replay window: a request seen once is refused the second time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}

    def first_time(self, nonce: str, now: float) -> bool:
        with self._lock:
            if len(self._seen) > 100_000:
                self._seen = {n: t for n, t in self._seen.items() if t > now - NONCE_TTL}
            if nonce in self._seen:
                return False
            self._seen[nonce] = now
            return True


class Simulator:
    """The simulator's state: its database, its callers' secrets, nonces and faults."""

    def __init__(self, settings: SimulatorSettings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        Base.metadata.create_all(self.engine)
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.engine)
        self.nonces = _Nonces()
        self.faults = Faults()


def _bad_request(_request: Request, exc: Exception) -> Response:
    # Where and why, never the values sent: they may be personal data (an ID number).
    errors: Any = (
        [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()]
        if isinstance(exc, RequestValidationError)
        else str(exc)
    )
    return JSONResponse(
        {"detail": "the request does not fit the contract", "errors": errors}, status_code=400
    )


def _refused(_request: Request, exc: Exception) -> Response:
    if not isinstance(exc, Refused):  # registered for Refused only (Starlette types it wider)
        raise exc
    body = Refusal(code=exc.code, step=exc.step, message=exc.reason)
    return JSONResponse(body.model_dump(mode="json"), status_code=422)


class Rejected(BaseModel):
    """The body of a 400 or a 401: why the request itself was not taken."""

    detail: str
    errors: list[Any] | str | None = None


# The answers besides 200 each route's document lists (as ``contracts.platform`` describes them).
_REJECTED: dict[int | str, dict[str, Any]] = {
    400: {"model": Rejected, "description": "the request does not fit the contract"},
    401: {"model": Rejected, "description": "not signed as the platform requires, or replayed"},
    "5XX": {"description": "the system is in trouble: try again later"},
}
_ANSWERS: dict[int | str, dict[str, Any]] = {
    **_REJECTED,
    422: {"model": Refusal, "description": "the department says no, for a business reason"},
}


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


# The platform's signature (contracts/platform.py), on every operation of every system.
_SIGNED = {
    "parameters": [
        _header(platform.APP_ID, "the caller's app id, issued by the platform"),
        _header(
            platform.TIMESTAMP, f"Unix seconds; refused if off by more than {platform.MAX_SKEW}"
        ),
        _header(platform.NONCE, "unique per request; a nonce seen before is refused"),
        _header(
            platform.SIGNATURE,
            "base64(HMAC-SHA256(secret, METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n "
            "SHA-256 hex of the body))",
        ),
    ]
}
_SIGNED_WRITE = {
    "parameters": [
        *_SIGNED["parameters"],
        _header(platform.IDEMPOTENCY_KEY, "the command's idempotency_key: applied once"),
    ]
}


def _documented_as_answered(app: FastAPI) -> None:
    """FastAPI documents its validation error as a 422 on every route that takes input; here that
    request is a 400 and a 422 is a refusal, so its entry and schemas leave the document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema["paths"].values():
                for operation in operations.values():
                    responses = operation.get("responses", {})
                    content = responses.get("422", {}).get("content", {})
                    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                    if ref.endswith("/HTTPValidationError"):
                        del responses["422"]
            schemas = schema.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _body_is(endpoint: Callable[..., Any], body: type[Any]) -> None:
    """Declare the request body's model on an endpoint made in a loop (string annotations, as
    this module's are, would name a local FastAPI cannot resolve)."""
    endpoint.__annotations__ = {"request": Request, "payload": body, "return": Any}


def _department_app(sim: Simulator, system: System) -> FastAPI:
    """One department's system, its routes signed and idempotent as the platform requires."""
    app = FastAPI(
        title=f"{system} system (as the data-sharing platform exposes it)",
        version="1",
        description=(
            "Requests are signed (X-App-Id, X-Timestamp, X-Nonce, X-Signature: see "
            "contracts/platform.py); writes carry Idempotency-Key. 422 is a business refusal "
            "with a Refusal body, 400 a request that does not fit this contract."
        ),
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.add_exception_handler(Refused, _refused)

    async def verified(request: Request) -> None:
        headers = request.headers
        app_id = headers.get(platform.APP_ID, "")
        timestamp = headers.get(platform.TIMESTAMP, "")
        nonce = headers.get(platform.NONCE, "")
        secret = sim.settings.clients.get(app_id)
        if secret is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown app id")
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bad timestamp") from None
        if skew > platform.MAX_SKEW:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "timestamp outside the window")
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        body = await request.body()
        given = headers.get(platform.SIGNATURE, "")
        if not platform.signature_matches(
            secret.get_secret_value().encode(), request.method, path, timestamp, nonce, body, given
        ):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "signature does not match")
        if not nonce or not sim.nonces.first_time(nonce, time.time()):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "nonce missing or used before")
        fault = sim.faults.take(system)
        request.state.fault = fault
        if fault is not None and fault.mode is FaultMode.DOWN:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{system} is down")
        if fault is not None and fault.mode is FaultMode.ERROR:
            raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, "internal error")

    signed = [Depends(verified)]

    def answer(request: Request, result: BaseModel) -> Any:
        fault: Fault | None = request.state.fault
        if fault is not None and fault.mode is FaultMode.SLOW:
            time.sleep(fault.seconds)
        if fault is not None and fault.mode is FaultMode.MALFORMED:
            return Response(b'{"reference": ', media_type="application/json")
        return result

    def keyed(request: Request, key: str) -> None:
        if request.headers.get(platform.IDEMPOTENCY_KEY) != key:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, "Idempotency-Key must be the command's key"
            )

    def route(
        path: platform.Path,
        body: type[Any],
        result: type[Any],
        run: Callable[..., Any],
        *,
        writes: bool,
    ) -> None:
        """A POST of ``body`` answered with ``result``; a write must carry its own key as
        ``Idempotency-Key``."""

        def endpoint(request: Request, payload: Any) -> Any:
            if writes:
                keyed(request, payload.idempotency_key)
            return answer(request, run(payload))

        _body_is(endpoint, body)
        app.post(
            path,
            response_model=result,
            responses=_ANSWERS,
            dependencies=signed,
            name=path.name.lower(),
            openapi_extra=_SIGNED_WRITE if writes else _SIGNED,
        )(endpoint)

    read = partial(route, writes=False)
    write = partial(route, writes=True)

    p = platform.Path
    if system is System.PUBLIC_SECURITY:
        registry = DatabaseHouseholdRegistry(sim.sessions)
        read(p.HOUSEHOLD_VERIFY, HouseholdCheck, HouseholdResult, registry.verify)
    elif system is System.HR:
        hr = DatabaseHrSystem(sim.sessions)
        write(p.RETIREMENT_APPROVALS, ApprovalCommand, Receipt, hr.record_approval)
    elif system is System.SOCIAL_INSURANCE:
        social = DatabaseSocialInsurance(sim.sessions)
        write(p.PREREVIEW, PrereviewPush, Receipt, social.receive_prereview)
        read(p.CONTRIBUTIONS_QUERY, PersonQuery, ContributionStatus, social.contribution_status)
        write(p.SETTLEMENTS, SettleCommand, Receipt, social.settle)
        write(p.RETIREE_SWITCHES, RetireeSwitch, Receipt, social.switch_to_retiree)
        write(p.PENSION_AWARDS, PensionAward, Receipt, social.award_pension)
    elif system is System.MEDICAL_SECURITY:
        medical = DatabaseMedicalSystem(sim.sessions)
        read(p.MEDICAL_QUERY, PersonQuery, MedicalRecord, medical.medical_record)
        write(p.MEDICAL_STATUS_CHANGES, MedicalSwitch, Receipt, medical.settle_status)
    elif system is System.PROVIDENT_FUND:
        fund = DatabaseProvidentFund(sim.sessions)
        read(p.FUND_ACCOUNT_QUERY, PersonQuery, FundAccount, fund.account)
        write(p.FUND_WITHDRAWALS, FundWithdrawal, FundReceipt, fund.withdraw_and_close)
    elif system is System.HEALTH_COMMISSION:
        health = DatabaseHealthCommission(sim.sessions)
        write(p.REWARD_NOTICES, RewardNoticeRecord, Receipt, health.record_reward_notice)
    elif system is System.SMS:
        write(p.SMS, SmsMessage, Receipt, DatabaseSms(sim.sessions).send)
    elif system is System.APP_PUSH:
        write(p.PUSH, PushMessage, Receipt, DatabasePush(sim.sessions).push)

    @app.get(
        p.EFFECTS,
        response_model=EffectPage,
        responses=_REJECTED,
        dependencies=signed,
        name="effects",
        openapi_extra=_SIGNED,
    )
    def list_effects(
        request: Request,
        case_id: Annotated[str | None, Query(max_length=64)] = None,
        after: Annotated[str | None, Query(max_length=80, pattern=r"^[a-z-]+:[0-9]+$")] = None,
        limit: Annotated[int, Query(ge=1, le=effects.MAX_PAGE)] = effects.MAX_PAGE,
    ) -> Any:
        """The side effects this system recorded (for one case), for reconciliation."""
        with sim.sessions() as session:
            try:
                found = effects.page(session, system, case_id=case_id, after=after, limit=limit)
            except ValueError as exc:
                raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        return answer(request, found)

    _documented_as_answered(app)
    return app


def _admin_check(sim: Simulator) -> Callable[[Request], None]:
    """The dependency every admin endpoint has: the simulator's admin token."""

    def admin(request: Request) -> None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            given = ""
        expected = sim.settings.admin_token.get_secret_value()
        if not secrets.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "admin token required")

    return admin


def _admin_app(sim: Simulator) -> FastAPI:
    app = FastAPI(title="department simulator: admin", docs_url=None, redoc_url=None)
    app.add_exception_handler(RequestValidationError, _bad_request)
    guarded = [Depends(_admin_check(sim))]

    @app.put("/people/{id_number}", status_code=204, dependencies=guarded)
    def put_person(id_number: str, scenario: scenarios.PersonScenario) -> None:
        """Replace every record of one person (and derive nothing for them later)."""
        try:
            scenarios.check_id(id_number)
        except ValueError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        scenarios.apply(sim.sessions, id_number, scenario)

    @app.post("/scenarios", dependencies=guarded)
    async def post_csv(request: Request) -> dict[str, int]:
        """A scenarios CSV (``id_number,name,scenario``): every row applied, or none."""
        try:
            rows = scenarios.parse_csv((await request.body()).decode("utf-8-sig"))
        except (UnicodeDecodeError, scenarios.CsvError) as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        return {"applied": scenarios.apply_all(sim.sessions, rows)}

    @app.get("/scenarios", dependencies=guarded)
    def list_scenarios() -> dict[str, list[str]]:
        return {"scenarios": list(scenarios.SCENARIOS)}

    @app.put("/faults", status_code=204, dependencies=guarded)
    def put_fault(fault: Fault) -> None:
        """Play a fault on one system (or all) for ``count`` requests, or until cleared."""
        sim.faults.set(fault)

    @app.delete("/faults", status_code=204, dependencies=guarded)
    def clear_faults() -> None:
        sim.faults.clear()

    return app


def create_app(settings: SimulatorSettings | None = None) -> FastAPI:
    sim = Simulator(settings or SimulatorSettings())
    app = FastAPI(title="department simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.simulator = sim

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for system in System:
        app.mount(f"/{system}", _department_app(sim, system))
    app.mount("/admin", _admin_app(sim))
    # The province's identity platform, for signing in to the service's pages (OpenID Connect).
    app.mount("/identity", identity_app(_admin_check(sim)))
    return app


def openapi_documents() -> dict[System, dict[str, Any]]:
    """Each department's contract as an OpenAPI document (what ``contracts/openapi`` holds)."""
    sim = Simulator(SimulatorSettings(database_url="sqlite://"))
    return {system: _department_app(sim, system).openapi() for system in System}


CONTRACTS = Path(__file__).resolve().parent.parent / "contracts" / "openapi"
