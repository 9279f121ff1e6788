"""Column types and conventions shared by the project's tables and the department simulator's:
money is ``Numeric(14, 2)`` (yuan and fen), years ``Numeric(6, 2)``, months ``"YYYY-MM"`` text,
and every timestamp timezone-aware UTC (:class:`UtcDateTime`, also on SQLite, which keeps no
offset of its own)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String, TypeDecorator

MONEY = Numeric(14, 2)
YEARS = Numeric(6, 2)
INDEX = Numeric(6, 4)  # average contribution index, such as 1.0350
MONTH = String(7)  # "YYYY-MM"

ID_NUMBER = String(18)
NAME = String(50)
REGION = String(6)
CASE_ID = String(64)
IDEMPOTENCY_KEY = String(200)
IDENTIFIER = String(64)  # contracts.people.Identifier
REFERENCE = String(32)  # PA-000001 and the like
LABEL = String(32)  # enum values: stages, statuses, departments, roles

# Named constraints, so migrations can refer to them and PostgreSQL and SQLite agree on names.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that accepts only aware datetimes and returns them in UTC.

    PostgreSQL keeps the instant (``timestamptz``); SQLite keeps text without an offset, so the
    value is stored as UTC and read back with UTC attached.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - drivers return datetimes
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
