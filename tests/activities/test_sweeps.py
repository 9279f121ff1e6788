"""The overdue digest tells each department's supervisors their overdue tasks, once a day, and
says which due dates were estimated for want of the official holiday calendar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from activities.sweeps import OverdueTask, SweepActivities
from contracts.departments import Notification, Receipt
from contracts.sweeps import DigestRequest
from policies import load_policy


class _Overdue:
    def __init__(self, tasks: Sequence[OverdueTask]) -> None:
        self._tasks = tasks

    def overdue_tasks(self) -> Sequence[OverdueTask]:
        return self._tasks


class _Outbox:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def record(self, notification: Notification) -> Receipt:
        self.sent.append(notification)
        return Receipt(reference=f"NT-{len(self.sent):06d}")


class _NoStarter:
    async def start(self, person: object) -> tuple[str, bool]:
        raise AssertionError("the digest starts no case")


class _NoRoster:
    def due(self, month: object, policy: object) -> list[object]:
        raise AssertionError("the digest reads no roster")

    def has_case(self, person_key: str) -> bool:
        raise AssertionError("the digest reads no roster")


def test_the_digest_marks_estimated_due_dates() -> None:
    outbox = _Outbox()
    sweeps = SweepActivities(
        roster=_NoRoster(),  # type: ignore[arg-type]
        starter=_NoStarter(),
        overdue=_Overdue(
            [
                OverdueTask("retirement-a", "pre-review-1", "hr", "220102", "2026-11-20"),
                OverdueTask("retirement-b", "pre-review-1", "hr", "220102", "2027-01-15", True),
            ]
        ),
        notifier=outbox,
        policy_loader=load_policy,
        key_of=lambda id_number: id_number,
    )
    result = sweeps.send_overdue_digest(DigestRequest(day=date(2027, 1, 20)))
    assert (result.queues, result.overdue_tasks) == (1, 2)
    (digest,) = outbox.sent
    assert digest.recipient == "hr@220102"
    assert digest.body.splitlines() == [
        "retirement-a pre-review-1 due 2026-11-20",
        "retirement-b pre-review-1 due 2027-01-15 (estimated)",
    ]
