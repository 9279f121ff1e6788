"""No personal data in plain text in Temporal: the history read without the codec holds none;
the codec endpoint decodes for an administrator and refuses anyone else."""

from __future__ import annotations

import base64
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from adapters.departments import Platform
from api.app import create_app
from api.devauth import ensure_dev_keys, mint
from contracts.declarations import Declaration
from contracts.people import Actor, Person, Role
from contracts.workflow import Stage
from db.session import make_engine, make_sessionmaker
from domain.policy import Category, Policy
from harness.department_simulator import DepartmentSimulator
from harness.driver import Driver, ReadModelView, Script
from service.case_start import start_case
from service.settings import Settings
from tests.support.people import fixed_id_number
from worker import DepartmentSystems, build_worker

REGION = "220102"
NAME = "欧阳明月"
CARD = "6222020200198765432"


def _person() -> Person:
    return Person(
        id_number=fixed_id_number(date(1967, 1, 15), uuid.uuid4().int % 400, region=REGION),
        name=NAME,
        category=Category.MALE,
        region_code=REGION,
        employer_id="emp-enc-1",
    )


async def test_a_history_holds_no_plaintext_personal_data(
    dev_server: WorkflowEnvironment,
    database_url: str,
    departments: DepartmentSimulator,
    platform: Platform,
    policy: Policy,
) -> None:
    client = dev_server.client
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    who = _person()
    departments.seed(who.id_number, who.name, card_number=CARD)
    task_queue = f"enc-{uuid.uuid4().hex[:8]}"

    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            systems = DepartmentSystems.over(platform, sessions)
            async with build_worker(client, task_queue, systems, executor):
                started = await start_case(
                    client,
                    person=who,
                    policy=policy,
                    secret=b"enc-test",
                    task_queue=task_queue,
                    declaration=Declaration(contribution_years=Decimal(30)),
                    declared_by=Actor(id="o", role=Role.EMPLOYER, organisation="emp-enc-1"),
                    request_id="declare-enc",
                )
                driver = Driver(
                    started.handle,
                    who,
                    started.person_key,
                    Script(),
                    until=Stage.AWAITING_INITIATION,
                    view=ReadModelView(sessions, started.case_id),
                )
                snap = await driver.run(timeout=60)
                assert snap.stage is Stage.AWAITING_INITIATION
                # Read the history as the Temporal server and its UI see it: no codec.
                plain = await Client.connect(
                    client.service_client.config.target_host, namespace="default"
                )
                history = await plain.get_workflow_handle(started.case_id).fetch_history()
                raw = history.to_json().encode()
                for secret in (who.id_number, NAME, CARD, who.id_number[6:14]):
                    assert secret.encode() not in raw, secret
                    assert base64.b64encode(secret.encode()) not in raw, secret
                assert b"binary/encrypted" in raw or base64.b64encode(b"binary/encrypted") in raw
                await started.handle.terminate("test over")
    finally:
        engine.dispose()


async def test_the_codec_endpoint_decodes_for_admins_only(
    tmp_path: Path,
    database_url: str,
    departments: DepartmentSimulator,
    platform: Platform,
    dev_server: WorkflowEnvironment,
) -> None:
    private, jwks = ensure_dev_keys(tmp_path / "keys")
    settings = Settings(
        database_url=database_url,
        auth_issuer="https://idp.test",
        auth_audience="retirement-api",
        auth_jwks_file=jwks,
        case_id_key=uuid.uuid4().hex,
    )
    engine = make_engine(database_url)
    app = create_app(settings, client=dev_server.client, sessions=make_sessionmaker(engine))

    def token(**claims: str) -> dict[str, str]:
        signed = mint(private, issuer="https://idp.test", audience="retirement-api", claims=claims)
        return {"Authorization": f"Bearer {signed}"}

    plain = {
        "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
        "data": base64.b64encode('{"name": "欧阳明月"}'.encode()).decode(),
    }
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            admin = token(sub="a", role="admin", region="220000")
            sealed = await http.post("/codec/encode", json={"payloads": [plain]}, headers=admin)
            assert sealed.status_code == 200, sealed.text
            [wire] = sealed.json()["payloads"]
            assert "欧阳明月".encode() not in base64.b64decode(wire["data"])
            opened = await http.post("/codec/decode", json=sealed.json(), headers=admin)
            assert opened.status_code == 200
            assert opened.json()["payloads"] == [plain]
            clerk = token(sub="c", role="clerk", department="hr", region="220102")
            refused = await http.post("/codec/decode", json=sealed.json(), headers=clerk)
            assert refused.status_code == 403
            anonymous = await http.post("/codec/decode", json=sealed.json())
            assert anonymous.status_code == 401  # not in development mode
            preflight = await http.options(
                "/codec/decode",
                headers={
                    "Origin": "http://127.0.0.1:8233",
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type,x-namespace",
                },
            )
            assert preflight.headers["access-control-allow-origin"] == "http://127.0.0.1:8233"
    engine.dispose()
