"""The outbox: each message recorded once with a delivery per channel, and the deliveries taken,
sent and settled by the dispatcher (``notifications/dispatch.py``); and the message lists."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from activities.notifications import APP, SMS, Due
from contracts.departments import Notification, Receipt
from db.models import DeliveryRow, MessageRow
from db.types import utcnow
from notifications.templates import Rendered, TemplateError, Templates

log = structlog.get_logger("outbox")

# Who is reached through which channel, besides their message list: a retiree by text and by
# the app, an organisation by the app; the clerks' and supervisors' queues on their pages only.
CHANNELS: dict[str, tuple[str, ...]] = {"individual": (SMS, APP), "organisation": (APP,)}

PENDING, SENT, FAILED, NO_CONTACT = "pending", "sent", "failed", "no-contact"
MAX_ATTEMPTS = 16  # about four hours of trying (backoff: 5 s doubling to 30 min)
FIRST_WAIT = timedelta(seconds=5)
LONGEST_WAIT = timedelta(minutes=30)


def backoff(attempts: int) -> timedelta:
    """How long a delivery waits after its ``attempts``-th failure: 5 s, 10 s, 20 s … 30 min."""
    wait: timedelta = FIRST_WAIT * 2 ** (attempts - 1)
    return min(wait, LONGEST_WAIT)


def delivery_key(message_key: str, channel: str) -> str:
    """The channel's idempotency key for one message: the same on every attempt and on every
    dispatcher, so the channel sends it once however often it is posted."""
    return hashlib.sha256(f"{message_key}\x1f{channel}".encode()).hexdigest()


def reference(message_id: int) -> str:
    return f"MS-{message_id:06d}"


class Outbox:
    LEASE = timedelta(seconds=60)  # longer than a batch's sends take, so a live sender keeps it

    def __init__(
        self,
        sessions: sessionmaker[Session],
        templates: Templates,
        *,
        read_sessions: sessionmaker[Session] | None = None,
        clock: Callable[[], datetime] = utcnow,
        lease: timedelta = LEASE,
    ) -> None:
        self._sessions = sessions
        self._lease = lease
        self._read = read_sessions or sessions
        self._templates = templates
        self._clock = clock

    # ---- recording ----------------------------------------------------------------------------

    def record(self, notification: Notification) -> Receipt:
        """The message and its deliveries, once per idempotency key (a retried activity, or a
        replayed sweep, gets the first receipt back)."""
        key = notification.idempotency_key
        rendered = self._render(notification)
        now = self._clock()
        with self._sessions.begin() as db:
            existing = db.scalar(select(MessageRow.id).where(MessageRow.idempotency_key == key))
            if existing is not None:
                return Receipt(reference=reference(existing), duplicate=True)
            message = MessageRow(
                idempotency_key=key,
                case_id=notification.case_id,
                recipient_role=notification.recipient_role,
                recipient=notification.recipient,
                kind=notification.kind,
                title=rendered.title,
                text=rendered.text,
                created_at=now,
            )
            try:
                with db.begin_nested():
                    db.add(message)
                    db.flush()
                    for channel in CHANNELS.get(notification.recipient_role, ()):
                        db.add(
                            DeliveryRow(
                                message_id=message.id,
                                channel=channel,
                                key=delivery_key(key, channel),
                                status=PENDING,
                                attempts=0,
                                next_attempt_at=now,
                            )
                        )
            except IntegrityError:  # a concurrent attempt recorded it first
                first = db.scalar(select(MessageRow.id).where(MessageRow.idempotency_key == key))
                if first is None:
                    raise
                return Receipt(reference=reference(first), duplicate=True)
            return Receipt(reference=reference(message.id))

    def _render(self, notification: Notification) -> Rendered:
        try:
            return self._templates.render(notification.kind, notification.variables)
        except (TemplateError, ValueError) as exc:
            # Never lose a message over its wording: it goes out with the workflow's summary,
            # and the missing template is an error to fix in notifications/templates.toml.
            log.error("message-template-failed", kind=notification.kind, error=str(exc))
            return Rendered(notification.subject, notification.body or notification.subject)

    # ---- sending ------------------------------------------------------------------------------

    def take(self, limit: int) -> list[Due]:
        """Up to ``limit`` deliveries due now, leased to the caller. Two dispatchers never take
        the same one: PostgreSQL skips rows another has locked; SQLite serialises writers."""
        now = self._clock()
        due_now = (
            (DeliveryRow.status == PENDING)
            & (DeliveryRow.next_attempt_at <= now)
            & or_(DeliveryRow.leased_until.is_(None), DeliveryRow.leased_until < now)
        )
        # A read first, which on SQLite takes no write lock: an idle outbox costs nothing.
        with self._read() as db:
            if db.scalar(select(DeliveryRow.id).where(due_now).limit(1)) is None:
                return []
        with self._sessions.begin() as db:
            ids = list(
                db.scalars(
                    select(DeliveryRow.id)
                    .where(due_now)
                    .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return []
            db.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(ids))
                .values(leased_until=now + self._lease, attempts=DeliveryRow.attempts + 1)
            )
            rows = db.execute(
                select(DeliveryRow, MessageRow)
                .join(MessageRow, MessageRow.id == DeliveryRow.message_id)
                .where(DeliveryRow.id.in_(ids))
                .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
            ).all()
            return [
                Due(
                    delivery_id=d.id,
                    key=d.key,
                    channel=d.channel,
                    attempts=d.attempts,
                    case_id=m.case_id,
                    recipient_role=m.recipient_role,
                    recipient=m.recipient,
                    title=m.title,
                    text=m.text,
                )
                for d, m in rows
            ]

    def sent(self, due: Due, receipt: str) -> None:
        self._settle(due, status=SENT, reference=receipt[:64], sent_at=self._clock())

    def no_contact(self, due: Due) -> None:
        """Nothing to send to (a retiree without a mobile number on record)."""
        self._settle(due, status=NO_CONTACT)

    def failed(self, due: Due, error: str, *, permanent: bool) -> bool:
        """A failed attempt: tried again after :func:`backoff`, unless the channel refused it or
        it has had ``MAX_ATTEMPTS``. True when it is given up."""
        if permanent or due.attempts >= MAX_ATTEMPTS:
            self._settle(due, status=FAILED, last_error=error[:500])
            return True
        self._settle(
            due, last_error=error[:500], next_attempt_at=self._clock() + backoff(due.attempts)
        )
        return False

    def _settle(self, due: Due, **values: object) -> None:
        with self._sessions.begin() as db:
            db.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == due.delivery_id, DeliveryRow.status == PENDING)
                .values(leased_until=None, **values)
            )


# ---- the message lists -----------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    channel: str
    status: str
    attempts: int
    sent_at: datetime | None


@dataclass(frozen=True)
class ListedMessage:
    id: int
    case_id: str
    recipient_role: str
    kind: str
    title: str
    text: str
    created_at: datetime
    deliveries: tuple[Delivered, ...]


def messages_of_case(
    db: Session, case_id: str, roles: Sequence[str], *, limit: int = 200
) -> list[ListedMessage]:
    """The case's messages to ``roles`` (``individual``, ``organisation``, …), newest first,
    with how each was delivered."""
    rows = list(
        db.scalars(
            select(MessageRow)
            .where(MessageRow.case_id == case_id, MessageRow.recipient_role.in_(roles))
            .order_by(MessageRow.id.desc())
            .limit(limit)
        )
    )
    deliveries: dict[int, list[Delivered]] = {}
    if rows:
        for d in db.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.message_id.in_([m.id for m in rows]))
            .order_by(DeliveryRow.channel)
        ):
            deliveries.setdefault(d.message_id, []).append(
                Delivered(d.channel, d.status, d.attempts, d.sent_at)
            )
    return [
        ListedMessage(
            id=m.id,
            case_id=m.case_id,
            recipient_role=m.recipient_role,
            kind=m.kind,
            title=m.title,
            text=m.text,
            created_at=m.created_at,
            deliveries=tuple(deliveries.get(m.id, ())),
        )
        for m in rows
    ]
