"""What the read model keeps of a case: its projection (the snapshot, newest version wins) and
the audit entries of the actions taken on it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from contracts.base import CaseId, IdNumber, Model, Text
from contracts.people import Actor
from contracts.workflow import CaseSnapshot


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
