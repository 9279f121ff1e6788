"""The sweeps' data: employers' rosters and the overdue tasks of the read model."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from activities.sweeps import OverdueTask
from contracts.people import Person
from db.models import CaseRow, RosterEntry, TaskRow
from domain.months import YearMonth
from domain.policy import Category, Policy
from domain.statutory import first_birth_month_retiring_from, statutory_retirement

ROSTER_COLUMNS = ("id_number", "name", "category", "region_code", "employer_id", "agency_id")


class DatabaseRoster:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def due(self, month: YearMonth, policy: Policy) -> Sequence[Person]:
        """Everyone whose statutory month is ``month``: per category at most one birth month
        maps to it (the rule is strictly increasing and may skip months)."""
        births = {}
        for category in Category:
            birth = first_birth_month_retiring_from(month, category, policy)
            if statutory_retirement(birth, category, policy).retirement_month == month:
                births[category] = str(birth)
        if not births:
            return []
        with self._sessions() as db:
            rows = [
                row
                for category, birth in births.items()
                for row in db.scalars(
                    select(RosterEntry)
                    .where(RosterEntry.category == category.value)
                    .where(RosterEntry.birth_month == birth)
                    .order_by(RosterEntry.id_number)
                )
            ]
        return [
            Person(
                id_number=row.id_number,
                name=row.name,
                category=Category(row.category),
                region_code=row.region_code,
                employer_id=row.employer_id,
                agency_id=row.agency_id,
            )
            for row in rows
        ]

    def has_case(self, person_key: str) -> bool:
        with self._sessions() as db:
            return (
                db.scalar(select(CaseRow.case_id).where(CaseRow.person_key == person_key))
                is not None
            )

    def load(self, people: Iterable[Person]) -> int:
        """Upsert roster entries (an employer's file drop or HR system export)."""
        count = 0
        with self._sessions.begin() as db:
            for person in people:
                db.merge(
                    RosterEntry(
                        id_number=person.id_number,
                        name=person.name,
                        category=person.category.value,
                        birth_month=str(person.birth_month),
                        region_code=person.region_code,
                        employer_id=person.employer_id,
                        agency_id=person.agency_id,
                        updated_at=datetime.now(UTC),
                    )
                )
                count += 1
        return count


def read_roster_csv(path: Path) -> list[Person]:
    """A roster file: a header row with ``id_number,name,category,region_code,employer_id,
    agency_id``; every row is validated, and a bad one is refused with its line number."""
    people = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(ROSTER_COLUMNS[:4]) - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: the header lacks {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            try:
                people.append(
                    Person(
                        id_number=row["id_number"],
                        name=row["name"],
                        category=Category(row["category"]),
                        region_code=row["region_code"],
                        employer_id=row.get("employer_id") or None,
                        agency_id=row.get("agency_id") or None,
                    )
                )
            except ValidationError as exc:
                first = exc.errors()[0]
                reason = str(first["msg"]).removeprefix("Value error, ")
                raise ValueError(f"{path}:{line}: {reason}") from None
            except ValueError as exc:  # an unknown category
                raise ValueError(f"{path}:{line}: {exc}") from None
    return people


class DatabaseOverdue:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def overdue_tasks(self) -> Sequence[OverdueTask]:
        """Open clerk tasks escalated past their working-day deadline, oldest first."""
        with self._sessions() as db:
            rows = db.scalars(
                select(TaskRow)
                .where(TaskRow.status == "open", TaskRow.escalated.is_(True))
                .where(TaskRow.department.is_not(None))
                .order_by(TaskRow.due, TaskRow.id)
            )
            return [
                OverdueTask(
                    case_id=row.case_id,
                    task_id=row.task_id,
                    department=row.department or "",
                    region_code=row.region_code,
                    due=str(row.due),
                    due_estimated=row.due_estimated,
                )
                for row in rows
            ]
