"""Telling people: each message recorded in the outbox (``notifications.send``), and the outbox
delivered through the SMS platform and the 吉事办 app (``notifications.dispatch``)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from temporalio import activity

from activities.errors import DepartmentRefusal
from contracts.base import Model
from contracts.departments import Notification, PushMessage, Receipt, SmsMessage

log = structlog.get_logger("notifications")

SMS, APP = "sms", "app"


class Notifier(Protocol):
    """Where messages are recorded for delivery (``db.outbox.Outbox``)."""

    def record(self, notification: Notification) -> Receipt: ...


@dataclass(frozen=True)
class Due:
    """A delivery a dispatcher has taken (``db.outbox.Outbox.take``): it alone sends it until
    its lease passes."""

    delivery_id: int
    key: str  # the channel's idempotency key: the same on every attempt
    channel: str  # SMS or APP
    attempts: int  # this one included
    case_id: str
    recipient_role: str
    recipient: str  # a person key, an organisation id or a queue
    title: str
    text: str


class Deliveries(Protocol):
    """The outbox's side the dispatcher works (``db.outbox.Outbox``)."""

    def take(self, limit: int) -> list[Due]: ...

    def sent(self, due: Due, receipt: str) -> None: ...

    def no_contact(self, due: Due) -> None: ...

    def failed(self, due: Due, error: str, *, permanent: bool) -> bool: ...


class Sms(Protocol):
    def send(self, message: SmsMessage) -> Receipt: ...


class AppPush(Protocol):
    def push(self, message: PushMessage) -> Receipt: ...


class Transient(Protocol):
    """Which failures of a channel are worth another try (``adapters.platform``: unavailable,
    or an answer that is not the contract's)."""

    def __call__(self, exc: Exception) -> bool: ...


class DispatchRequest(Model):
    seconds: float = 60.0  # how long one activity keeps sending before it returns
    batch: int = 20  # deliveries taken at a time
    idle: float = 1.0  # seconds between looks at an empty outbox
    heartbeat: float = 30.0  # seconds of silence after which Temporal runs it again: more than
    # one send may take (the department timeout), as it beats after each


class DispatchResult(Model):
    sent: int = 0
    retried: int = 0  # failed attempts to be tried again
    failed: int = 0  # given up: refused, or out of attempts
    no_contact: int = 0


class Dispatcher:
    """Sends what is due, each delivery under its own key, so a channel that received a
    delivery before a crash or a timeout sends it once however often it is posted again."""

    def __init__(
        self,
        deliveries: Deliveries,
        sms: Sms,
        app: AppPush,
        mobile_of: Callable[[str], str | None],
        transient: Transient,
        *,
        sms_sign: str,
    ) -> None:
        self._deliveries, self._sms, self._app = deliveries, sms, app
        self._mobile_of, self._transient, self._sign = mobile_of, transient, sms_sign

    def send_due(self, batch: int, tally: Counter[str], beat: Callable[[], None]) -> int:
        """One batch, with a ``beat`` after each delivery; how many deliveries it took."""
        taken = self._deliveries.take(batch)
        for due in taken:
            self._send(due, tally)
            beat()
        return len(taken)

    def _send(self, due: Due, tally: Counter[str]) -> None:
        try:
            if due.channel == SMS:
                mobile = self._mobile_of(due.recipient)
                if mobile is None:
                    self._deliveries.no_contact(due)
                    tally["no_contact"] += 1
                    return
                receipt = self._sms.send(
                    SmsMessage(
                        idempotency_key=due.key,
                        case_id=due.case_id,
                        mobile=mobile,
                        text=f"{self._sign}{due.text}"[:500],
                    )
                )
            else:
                receipt = self._app.push(
                    PushMessage(
                        idempotency_key=due.key,
                        case_id=due.case_id,
                        user=due.recipient,
                        title=due.title,
                        text=due.text,
                    )
                )
        except Exception as exc:
            permanent = isinstance(exc, DepartmentRefusal) or not self._transient(exc)
            # The delivery id and the error's kind only: the message's text and its number
            # stay out of the logs.
            error = f"{type(exc).__name__}: {exc}"
            given_up = self._deliveries.failed(due, error, permanent=permanent)
            log.warning(
                "delivery-failed",
                delivery=due.delivery_id,
                channel=due.channel,
                attempt=due.attempts,
                error=type(exc).__name__,
                given_up=given_up,
            )
            if given_up:
                tally["failed"] += 1
            else:
                tally["retried"] += 1
            return
        self._deliveries.sent(due, receipt.reference)
        tally["sent"] += 1


class NotificationActivities:
    def __init__(self, notifier: Notifier, dispatcher: Dispatcher | None = None) -> None:
        self._notifier = notifier
        self._dispatcher = dispatcher

    @activity.defn(name="notifications.send")
    def send(self, notification: Notification) -> Receipt:
        """Recorded once per idempotency key: a retried reminder is not a second reminder.
        Delivering it is the dispatcher's."""
        return self._notifier.record(notification)

    @activity.defn(name="notifications.dispatch")
    def dispatch(self, request: DispatchRequest) -> DispatchResult:
        """Send what is due for ``request.seconds``, heartbeating, then return: the
        ``MessageDispatch`` workflow runs it again. A dispatcher that dies mid-send leaves its
        deliveries leased; another takes them when the lease passes and posts them again under
        the same keys."""
        if self._dispatcher is None:
            raise RuntimeError("this worker has no dispatcher")
        tally: Counter[str] = Counter()
        deadline = time.monotonic() + request.seconds
        while time.monotonic() < deadline:
            taken = self._dispatcher.send_due(
                request.batch, tally, lambda: activity.heartbeat(dict(tally))
            )
            activity.heartbeat(dict(tally))
            # A worker shutting down (a deploy, ``make run`` stopped) would otherwise wait its
            # whole graceful period for this activity: what is not sent yet waits for the next.
            if activity.is_worker_shutdown() or activity.is_cancelled():
                break
            if taken < request.batch:
                activity.wait_for_worker_shutdown_sync(timeout=request.idle)
        return DispatchResult(**tally)
