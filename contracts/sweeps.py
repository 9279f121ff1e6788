"""Messages of the daily sweeps run by Temporal Schedules: the roster sweep and the digest."""

from __future__ import annotations

from datetime import date

from contracts.base import Model
from domain.months import YearMonth


class RosterSweep(Model):
    month: YearMonth  # the retirement month whose people get their case started today


class RosterSweepResult(Model):
    month: YearMonth
    due: int  # people on rosters reaching statutory age in that month
    started: int  # cases started now
    already: int  # people who have (or had) a case already


class DigestRequest(Model):
    day: date


class DigestResult(Model):
    day: date
    queues: int  # department@region queues told
    overdue_tasks: int
