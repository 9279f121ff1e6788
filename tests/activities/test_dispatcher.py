"""The dispatcher sends each due delivery through its channel under the delivery's key and
settles it by what the channel answered: sent, tried again later, given up, or no number."""

from __future__ import annotations

from collections import Counter

from activities.errors import DepartmentRefusal
from activities.notifications import APP, SMS, Dispatcher, Due
from adapters.platform import DepartmentUnavailable, PlatformRejected
from contracts.departments import PushMessage, Receipt, SmsMessage
from contracts.people import Department


class _Deliveries:
    def __init__(self, due: list[Due]) -> None:
        self.due = due
        self.settled: dict[int, tuple[str, str | None]] = {}

    def take(self, limit: int) -> list[Due]:
        taken, self.due = self.due[:limit], self.due[limit:]
        return taken

    def sent(self, due: Due, receipt: str) -> None:
        self.settled[due.delivery_id] = ("sent", receipt)

    def no_contact(self, due: Due) -> None:
        self.settled[due.delivery_id] = ("no-contact", None)

    def failed(self, due: Due, error: str, *, permanent: bool) -> bool:
        self.settled[due.delivery_id] = ("failed" if permanent else "retry", error)
        return permanent


class _Channels:
    def __init__(self, answers: dict[str, Exception]) -> None:
        self.answers = answers
        self.posted: list[SmsMessage | PushMessage] = []

    def send(self, message: SmsMessage) -> Receipt:
        return self._post(message.idempotency_key, message)

    def push(self, message: PushMessage) -> Receipt:
        return self._post(message.idempotency_key, message)

    def _post(self, key: str, message: SmsMessage | PushMessage) -> Receipt:
        self.posted.append(message)
        if key in self.answers:
            raise self.answers[key]
        return Receipt(reference=f"R-{key}")


def _due(n: int, channel: str, recipient: str = "p" * 64) -> Due:
    return Due(
        n, f"k{n}", channel, 1, "case-1", "individual", recipient, "办理提醒", "请及时办理。"
    )


def test_each_delivery_is_settled_by_what_its_channel_answered() -> None:
    deliveries = _Deliveries(
        [
            _due(1, SMS),
            _due(2, APP),
            _due(3, SMS),  # the platform is down: again later
            _due(4, APP),  # the app has no such user: given up
            _due(5, SMS, recipient="n" * 64),  # no number on record
            _due(6, SMS),  # refused as a business matter: given up
        ]
    )
    channels = _Channels(
        {
            "k3": DepartmentUnavailable("sms answered 503"),
            "k4": PlatformRejected("app-push refused: no such user"),
            "k6": DepartmentRefusal(Department.HR, "sms", "blocked number"),
        }
    )
    numbers = {"p" * 64: "13904312288"}
    dispatcher = Dispatcher(
        deliveries,
        channels,
        channels,
        numbers.get,
        lambda exc: isinstance(exc, DepartmentUnavailable),
        sms_sign="【吉林人社】",
    )
    tally: Counter[str] = Counter()
    beats: list[int] = []
    assert dispatcher.send_due(10, tally, lambda: beats.append(1)) == 6
    assert len(beats) == 6  # a heartbeat after each send
    assert deliveries.settled == {
        1: ("sent", "R-k1"),
        2: ("sent", "R-k2"),
        3: ("retry", "DepartmentUnavailable: sms answered 503"),
        4: ("failed", "PlatformRejected: app-push refused: no such user"),
        5: ("no-contact", None),
        6: ("failed", "DepartmentRefusal: blocked number"),
    }
    assert tally == {"sent": 2, "retried": 1, "failed": 2, "no_contact": 1}
    text = channels.posted[0]
    assert isinstance(text, SmsMessage)
    assert (text.idempotency_key, text.mobile, text.text) == (
        "k1",
        "13904312288",
        "【吉林人社】请及时办理。",
    )
    push = channels.posted[1]
    assert isinstance(push, PushMessage)
    assert (push.user, push.title) == ("p" * 64, "办理提醒")
