"""The read model: the database copy of every case that lists, inboxes and audits read."""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from contracts.departments import Projection
from domain.policy import Policy
from policies import load_policy


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


@activity.defn(name="policy.load")
def load_current_policy() -> Policy:
    """The policy in force, read where the worker runs: the workflow may not read files, and
    recording the policy in history keeps replays exact after the file changes."""
    return load_policy()
