"""The project database's tables, as typed SQLAlchemy 2 declarative models: the read model.

``cases``, ``tasks``, ``audit_log`` and ``escalations`` are the database copy of each case that
lists, inboxes and audits read (``db.read_model`` writes it); ``api_requests`` keeps the API's
idempotency keys and ``roster_entries`` the sweeps' rosters. The departments' records are not
here: each department keeps its own, behind its own system (``adapters/``; the simulator's
tables are in ``simulator/models.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import (
    CASE_ID,
    ID_NUMBER,
    IDENTIFIER,
    LABEL,
    MONTH,
    NAME,
    NAMING_CONVENTION,
    REGION,
    UtcDateTime,
    utcnow,
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# ---- The read model -------------------------------------------------------------------------


class CaseRow(Base):
    """One case as lists show it; ``snapshot`` is the whole ``CaseSnapshot`` (JSON form)."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_region_code_stage", "region_code", "stage"),
        Index("ix_cases_organisation", "organisation"),
    )

    case_id: Mapped[str] = mapped_column(CASE_ID, primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    id_number: Mapped[str] = mapped_column(ID_NUMBER)
    person_name: Mapped[str] = mapped_column(NAME)
    region_code: Mapped[str] = mapped_column(REGION)
    organisation: Mapped[str] = mapped_column(IDENTIFIER)
    has_employer: Mapped[bool] = mapped_column(Boolean)
    stage: Mapped[str] = mapped_column(LABEL)
    path: Mapped[str | None] = mapped_column(LABEL)
    category: Mapped[str] = mapped_column(LABEL)
    retirement_month: Mapped[str] = mapped_column(MONTH)
    next_due: Mapped[date | None] = mapped_column(Date)
    next_due_estimated: Mapped[bool] = mapped_column(Boolean, server_default=false())
    overdue: Mapped[bool] = mapped_column(Boolean)
    pending_departments: Mapped[str] = mapped_column(Text)  # comma-separated, sorted
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TaskRow(Base):
    """One task of a case. ``claimed_by``/``claimed_at`` belong to the API: projections never
    write them."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_inbox", "department", "region_code", "status", "due", "opened_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # f"{case_id}/{task_id}"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    task_id: Mapped[str] = mapped_column(IDENTIFIER)
    kind: Mapped[str] = mapped_column(LABEL)
    title: Mapped[str] = mapped_column(Text)
    assignee: Mapped[str] = mapped_column(LABEL)
    department: Mapped[str | None] = mapped_column(LABEL)
    organisation: Mapped[str | None] = mapped_column(IDENTIFIER)
    region_code: Mapped[str] = mapped_column(REGION)
    status: Mapped[str] = mapped_column(LABEL)
    due: Mapped[date | None] = mapped_column(Date)
    due_estimated: Mapped[bool] = mapped_column(Boolean)
    escalated: Mapped[bool] = mapped_column(Boolean)
    # What rejecting the task does (shown before the clerk decides), and how many times in a row
    # a department refused the same way (a department issue's attempt).
    if_rejected: Mapped[str] = mapped_column(Text, server_default="")
    attempt: Mapped[int] = mapped_column(Integer, server_default="1")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(LABEL)
    claimed_by: Mapped[str | None] = mapped_column(IDENTIFIER)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditLogRow(Base):
    """One accepted action. ``AuditEntry.id`` is unique per case, so (case_id, entry_id) is the
    unique key that makes re-projection a no-op."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("case_id", "entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[str] = mapped_column(CASE_ID, index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[str] = mapped_column(IDENTIFIER)
    actor_role: Mapped[str] = mapped_column(LABEL)
    actor_department: Mapped[str | None] = mapped_column(LABEL)
    actor_region: Mapped[str | None] = mapped_column(REGION)
    actor_organisation: Mapped[str | None] = mapped_column(IDENTIFIER)
    at_counter: Mapped[bool] = mapped_column(Boolean)
    action: Mapped[str] = mapped_column(Text)  # free text in AuditEntry, as is result
    detail: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)


class EscalationRow(Base):
    __tablename__ = "escalations"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # f"{case_id}/{escalation.id}"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    department: Mapped[str] = mapped_column(LABEL)
    region_code: Mapped[str] = mapped_column(REGION)
    task_id: Mapped[str | None] = mapped_column(IDENTIFIER)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


# ---- The API's own records ------------------------------------------------------------------


class RatingRow(Base):
    """A retiree's rating of the service once their case completed (好差评): one per case."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_region_code", "region_code"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), primary_key=True)
    region_code: Mapped[str] = mapped_column(REGION)
    level: Mapped[int] = mapped_column(Integer)  # 5 very satisfied … 1 very dissatisfied
    comment: Mapped[str] = mapped_column(Text, server_default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)


# ---- Telling people (notifications/) ---------------------------------------------------------


class ContactRow(Base):
    """How to reach a retiree: their mobile number, sealed with the service's key ring
    (``service.codec.EncryptionCodec.seal``) and kept masked beside it for every screen."""

    __tablename__ = "contacts"

    person_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    mobile_sealed: Mapped[str] = mapped_column(Text)
    mobile_masked: Mapped[str] = mapped_column(String(11))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MessageRow(Base):
    """A message the service sent (the outbox, and each recipient's message list): recorded
    once per idempotency key, its text rendered from ``notifications/templates.toml``."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_recipient", "recipient_role", "recipient", "id"),
        Index("ix_messages_case_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[str] = mapped_column(CASE_ID)
    recipient_role: Mapped[str] = mapped_column(LABEL)
    recipient: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DeliveryRow(Base):
    """A message's delivery through one channel (``sms``, ``app``): sent once under ``key``,
    tried again with backoff while the channel is in trouble. A dispatcher takes a delivery by
    setting ``leased_until``, so two never send it at once, and one that died lets it go."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "channel"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    channel: Mapped[str] = mapped_column(LABEL)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # the channel's idempotency key
    status: Mapped[str] = mapped_column(LABEL)  # pending, sent, failed, no-contact
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    leased_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reference: Mapped[str | None] = mapped_column(String(64))  # the channel's receipt
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiRequestRow(Base):
    """An ``Idempotency-Key`` the API has seen: the first request with a key is applied and its
    response kept, so a retry gets the same answer and nothing twice. The row is written before
    the request is applied (status NULL), which also makes a concurrent duplicate wait."""

    __tablename__ = "api_requests"
    __table_args__ = (UniqueConstraint("subject", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(200))  # who sent it: role and subject
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and body
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RosterEntry(Base):
    """An employer's (or archive agency's) roster of staff, dropped as a file or written by their
    HR system: the daily sweep starts the case of everyone reaching retirement age in about
    seven months, so the employer is reminded before the T-6 declaration deadline."""

    __tablename__ = "roster_entries"

    __table_args__ = (Index("ix_roster_entries_birth", "category", "birth_month"),)

    id_number: Mapped[str] = mapped_column(ID_NUMBER, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    category: Mapped[str] = mapped_column(LABEL)
    birth_month: Mapped[str] = mapped_column(MONTH)  # from the ID number, for the daily query
    region_code: Mapped[str] = mapped_column(REGION)
    employer_id: Mapped[str | None] = mapped_column(IDENTIFIER)
    agency_id: Mapped[str | None] = mapped_column(IDENTIFIER)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
