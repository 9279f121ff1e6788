"""The read model: the database copy of every case that lists, inboxes and audits read."""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from contracts.read_model import Projection


class ReadModel(Protocol):
    def project(self, projection: Projection) -> None: ...


class ReadModelActivities:
    def __init__(self, read_model: ReadModel) -> None:
        self._read_model = read_model

    @activity.defn(name="read_model.project")
    def project(self, projection: Projection) -> None:
        """Upsert the case and its tasks (the newest version wins) and append new audit entries
        (each once, by id)."""
        self._read_model.project(projection)
