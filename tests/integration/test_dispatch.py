"""A killed dispatcher or a failing SMS platform loses no message and sends none twice.

The worker runs as its own process, with the ``MessageDispatch`` workflow's activity in it, and
the SMS platform is the simulator's, over signed HTTP. Texts are on their way, each taking the
platform 1.5 s to answer, when the worker is killed (SIGKILL); the platform then refuses three
requests (503) before it is well again. Every message reaches its phone once and its app user
once, and the deliveries a dead worker held went out again under the same keys."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.departments import Notification
from contracts.platform import System
from db.contacts import save_mobile
from db.models import DeliveryRow
from db.outbox import SENT, Outbox
from db.session import make_engine, make_sessionmaker
from harness.cluster import Cluster
from harness.scratch import sqlite_database
from notifications.templates import templates
from service.temporal import payload_codec
from simulator.faults import FaultMode
from simulator.models import PushRow, SmsRow

PEOPLE = 6


def _person(n: int) -> tuple[str, str]:
    return f"{n:064x}", f"1390431{n:04d}"


def _count(sessions: sessionmaker[Session], model: type[SmsRow] | type[PushRow]) -> int:
    with sessions() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


async def _until(what: str, check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


async def test_a_killed_dispatcher_or_failing_sms_loses_and_doubles_nothing(tmp_path: Path) -> None:
    with sqlite_database(tmp_path) as url:
        # A dead worker's deliveries are taken again 3 s after it took them, not after a minute,
        # and its dispatch is run again 7 s after its last heartbeat (a send may take 2 s).
        cluster = Cluster(
            tmp_path, url, environment={"OUTBOX_LEASE": "3", "DEPARTMENT_TIMEOUT": "2"}
        )
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        sealer = payload_codec(cluster.settings)
        outbox = Outbox(sessions, templates())
        try:
            cluster.start_server()
            cluster.start_departments()
            platform_engine = make_engine(cluster.departments.database_url)
            platform_db = make_sessionmaker(platform_engine)
            for n in range(PEOPLE):
                key, mobile = _person(n)
                with sessions.begin() as db:
                    save_mobile(db, key, mobile, sealer)
                outbox.record(
                    Notification(
                        idempotency_key=f"case-{n}:rights-notice",
                        case_id=f"case-{n}",
                        recipient_role="individual",
                        recipient=key,
                        kind="rights-notice",
                        subject="approved",
                        variables={"retirement_month": "2027-04", "first_pension_month": "2027-05"},
                    )
                )
            cluster.departments.fault(FaultMode.SLOW, system=System.SMS, seconds=1.5)
            cluster.start_worker()
            await _until(
                "the first texts sent", lambda: _count(platform_db, SmsRow) >= 1, timeout=60
            )
            cluster.kill_worker()
            sent_before_the_kill = _count(platform_db, SmsRow)
            assert sent_before_the_kill < PEOPLE  # the kill came mid-dispatch
            cluster.departments.fault(FaultMode.DOWN, system=System.SMS, count=3)
            cluster.start_worker()

            def settled() -> bool:
                with sessions() as db:
                    return db.scalar(select(func.count()).where(DeliveryRow.status != SENT)) == 0

            await _until("every delivery sent", settled, timeout=120)
            with sessions() as db:
                deliveries = list(db.scalars(select(DeliveryRow)))
            with platform_db() as db:
                texts = list(db.scalars(select(SmsRow)))
                pushes = list(db.scalars(select(PushRow)))
            platform_engine.dispose()
        finally:
            cluster.stop()
            engine.dispose()
    # Each message once on each channel: every text under its delivery's own key, to its number.
    assert len(deliveries) == 2 * PEOPLE
    keys = {d.key: d for d in deliveries}
    assert sorted(t.idempotency_key for t in texts) == sorted(
        d.key for d in deliveries if d.channel == "sms"
    )
    assert sorted(p.idempotency_key for p in pushes) == sorted(
        d.key for d in deliveries if d.channel == "app"
    )
    assert {t.mobile for t in texts} == {_person(n)[1] for n in range(PEOPLE)}
    assert all(t.text.startswith("【吉林人社】您的退休申请已审批通过") for t in texts)
    # Some texts were posted more than once (after the kill, or the 503s) and sent once.
    assert max(keys[t.idempotency_key].attempts for t in texts) >= 2
    # The numbers stay out of the service's logs (the worker's, and Temporal's).
    logs = "".join(
        (tmp_path / name).read_text(errors="replace") for name in ("worker.log", "temporal.log")
    )
    assert not any(_person(n)[1] in logs for n in range(PEOPLE))
