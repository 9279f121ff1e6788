"""Calendar months and the date arithmetic the rules need.

Retirement law counts in whole months ("born 1965-01, retires at 60 years 1 month"), so the
rules work on :class:`YearMonth` rather than on dates, and convert to dates only at the edges
(deadlines, reminders).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True, slots=True)
class YearMonth:
    """A calendar month such as 2026-08; ordered, hashable, and serialised as ``"YYYY-MM"``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year must be 1..9999, got {self.year}")

    @classmethod
    def parse(cls, text: str) -> YearMonth:
        """Parse ``YYYY-MM``; anything else is a ``ValueError`` that names the bad text."""
        match = _PATTERN.match(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not a month in the form YYYY-MM")
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r} has no month {month}")
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> YearMonth:
        return cls(day.year, day.month)

    @classmethod
    def from_index(cls, index: int) -> YearMonth:
        """Inverse of :attr:`index`."""
        year, month0 = divmod(index, 12)
        return cls(year, month0 + 1)

    @property
    def index(self) -> int:
        """Months since year 0, so that differences of indexes are month counts."""
        return self.year * 12 + self.month - 1

    def plus(self, months: int) -> YearMonth:
        return YearMonth.from_index(self.index + months)

    def minus(self, months: int) -> YearMonth:
        return YearMonth.from_index(self.index - months)

    def months_since(self, other: YearMonth) -> int:
        """Whole months from ``other`` to ``self`` (negative when ``self`` is earlier)."""
        return self.index - other.index

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    # Pydantic integration: models hold a YearMonth and (de)serialise it as "YYYY-MM", which is
    # what the API, the CLI's JSON and the Temporal payloads all show.
    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from_str = core_schema.no_info_plain_validator_function(cls._coerce)
        return core_schema.json_or_python_schema(
            json_schema=core_schema.chain_schema([core_schema.str_schema(), from_str]),
            python_schema=from_str,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, _schema: Any, _handler: Any) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$", "example": "2026-08"}

    @classmethod
    def _coerce(cls, value: Any) -> YearMonth:
        if isinstance(value, YearMonth):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        raise ValueError("expected a month in the form YYYY-MM")


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the end of a shorter month (01-31 + 1 = 02-28)."""
    target = YearMonth.of(day).plus(months)
    return date(target.year, target.month, min(day.day, target.last_day().day))
