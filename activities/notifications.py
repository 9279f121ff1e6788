"""Reminders, escalations and results sent to people and to clerks' queues."""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from contracts.departments import Notification, Receipt


class Notifier(Protocol):
    def send(self, notification: Notification) -> Receipt: ...


class NotificationActivities:
    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    @activity.defn(name="notifications.send")
    def send(self, notification: Notification) -> Receipt:
        """Sent once per idempotency key: a retried reminder is not a second reminder."""
        return self._notifier.send(notification)
