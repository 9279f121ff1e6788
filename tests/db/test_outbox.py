"""The outbox records each message once, with a delivery per channel its recipient has, and
hands each due delivery to one dispatcher at a time, again after backoff while it fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import DeliveryRow, MessageRow
from db.outbox import (
    FAILED,
    MAX_ATTEMPTS,
    NO_CONTACT,
    PENDING,
    SENT,
    Outbox,
    backoff,
    messages_of_case,
)
from notifications.templates import templates
from tests.db import factories as f

PERSON = "a" * 64


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _outbox(sessions: sessionmaker[Session], clock: Clock) -> Outbox:
    return Outbox(sessions, templates(), clock=clock)


def _to_person(key: str = "case-1:rights-notice") -> object:
    return f.notification(
        key,
        recipient_role="individual",
        recipient=PERSON,
        kind="rights-notice",
        variables={"retirement_month": "2027-04", "first_pension_month": "2027-05"},
    )


def test_a_message_is_recorded_once_in_chinese_with_its_channels(
    sessions: sessionmaker[Session],
) -> None:
    outbox = _outbox(sessions, Clock())
    first = outbox.record(_to_person())  # type: ignore[arg-type]
    again = outbox.record(_to_person())  # type: ignore[arg-type]
    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.reference == again.reference
    outbox.record(f.notification("case-1:reminder:emp"))  # to the organisation
    outbox.record(
        f.notification("case-1:digest", recipient_role="supervisor", recipient="hr@220102")
    )
    with sessions() as db:
        messages = {m.idempotency_key: m for m in db.scalars(select(MessageRow))}
        channels = {
            (m.idempotency_key, d.channel)
            for d, m in db.execute(
                select(DeliveryRow, MessageRow).join(
                    MessageRow, MessageRow.id == DeliveryRow.message_id
                )
            )
        }
    assert len(messages) == 3
    person = messages["case-1:rights-notice"]
    assert person.title == "退休审批通过（权益告知）"
    assert "自2027年4月起退休" in person.text and "2027年5月起发放" in person.text
    assert "2026年5月29日" in messages["case-1:reminder:emp"].text
    # A retiree by text and by the app, an organisation by the app, a queue on its page only.
    assert channels == {
        ("case-1:rights-notice", "sms"),
        ("case-1:rights-notice", "app"),
        ("case-1:reminder:emp", "app"),
    }


def test_a_kind_without_a_template_still_goes_out_with_the_workflow_summary(
    sessions: sessionmaker[Session],
) -> None:
    outbox = _outbox(sessions, Clock())
    outbox.record(f.notification("case-1:new-kind", kind="no-such-kind", subject="summary"))
    with sessions() as db:
        row = db.scalars(select(MessageRow)).one()
    assert (row.title, row.text) == ("summary", "summary")


def test_a_due_delivery_goes_to_one_dispatcher_until_its_lease_passes(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock()
    outbox = _outbox(sessions, clock)
    outbox.record(f.notification("case-1:reminder:emp"))
    [due] = outbox.take(10)
    assert (due.channel, due.attempts, due.recipient) == ("app", 1, f.EMPLOYER)
    assert due.title == "办理提醒"
    assert outbox.take(10) == []  # leased
    clock.now += Outbox.LEASE + timedelta(seconds=1)  # its dispatcher died mid-send
    [again] = outbox.take(10)
    assert (again.delivery_id, again.key, again.attempts) == (due.delivery_id, due.key, 2)
    outbox.sent(again, "PU-000001")
    clock.now += Outbox.LEASE * 2
    assert outbox.take(10) == []
    with sessions() as db:
        row = db.scalars(select(DeliveryRow)).one()
    assert (row.status, row.reference, row.sent_at) == (
        SENT,
        "PU-000001",
        clock.now - Outbox.LEASE * 2,
    )


def test_a_failing_delivery_waits_longer_each_time_then_is_given_up(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock()
    outbox = _outbox(sessions, clock)
    outbox.record(f.notification("case-1:reminder:emp"))
    waits = []
    while True:
        [due] = outbox.take(10)
        if outbox.failed(due, "DepartmentUnavailable: app-push answered 503", permanent=False):
            break
        with sessions() as db:
            row = db.scalars(select(DeliveryRow)).one()
        waits.append(row.next_attempt_at - clock.now)
        assert row.status == PENDING and row.leased_until is None
        assert outbox.take(10) == []  # not before its time
        clock.now = row.next_attempt_at
    assert (
        waits[:3]
        == [backoff(1), backoff(2), backoff(3)]
        == [
            timedelta(seconds=5),
            timedelta(seconds=10),
            timedelta(seconds=20),
        ]
    )
    assert waits[-1] == timedelta(minutes=30)
    with sessions() as db:
        row = db.scalars(select(DeliveryRow)).one()
    assert (row.status, row.attempts) == (FAILED, MAX_ATTEMPTS)
    assert row.last_error == "DepartmentUnavailable: app-push answered 503"


def test_a_refused_delivery_is_given_up_at_once_and_no_number_is_no_contact(
    sessions: sessionmaker[Session],
) -> None:
    outbox = _outbox(sessions, Clock())
    outbox.record(_to_person())  # type: ignore[arg-type]
    taken = {d.channel: d for d in outbox.take(10)}
    assert outbox.failed(taken["app"], "PlatformRejected: no such user", permanent=True)
    outbox.no_contact(taken["sms"])
    with sessions() as db:
        [listed] = messages_of_case(db, "case-1", ["individual"])
        assert messages_of_case(db, "case-1", ["organisation"]) == []
    assert {(d.channel, d.status) for d in listed.deliveries} == {
        ("app", FAILED),
        ("sms", NO_CONTACT),
    }
    assert listed.kind == "rights-notice" and listed.title == "退休审批通过（权益告知）"
