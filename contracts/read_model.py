"""What the read model keeps of a case: its projection (the snapshot, newest version wins) and
the audit entries of the actions taken on it; and what an Update answers, which carries one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from contracts.base import CaseId, IdNumber, Model, Text
from contracts.people import Actor
from contracts.workflow import CaseSnapshot, CaseStatus


class AuditEntry(Model):
    """One accepted action on a case, as the audit log keeps it."""

    id: Annotated[str, Field(max_length=100)] = Field(
        description="unique per case and action; re-projection is a no-op"
    )
    case_id: CaseId
    at: datetime
    actor: Actor
    action: Annotated[str, Field(max_length=64)]
    detail: Text = ""
    result: Annotated[str, Field(max_length=32)] = "accepted"


class Projection(Model):
    """The read model's copy of a case: written whenever the case changes, newest version wins."""

    case_id: CaseId
    person_key: str
    id_number: IdNumber
    snapshot: CaseSnapshot
    audit: list[AuditEntry] = []


class Answer(CaseStatus):
    """What an Update answers: the case's status right after the change, and the projection of
    that state. The answer reaches the caller only once the workflow task that made the change
    has been committed, so the API writes ``projection`` to the read model before it answers:
    the caller reads its own change at once, without waiting for the workflow's next
    projection (``workflows.projection``). ``None`` in answers recorded before the field
    existed; the API then waits for the workflow's projection, as it did."""

    projection: Projection | None = None
