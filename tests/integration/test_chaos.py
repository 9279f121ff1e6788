"""A short chaos run, as CI can afford, on SQLite and on PostgreSQL: cases in flight while the
worker is killed with SIGKILL, the dev server restarted, the provident fund's system taken down
and (PostgreSQL) the database connections cut must all complete, with no decision lost and no
payment or notification doubled. ``make chaos`` runs a bigger one."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from harness.chaos import run
from harness.scratch import postgres_schema
from tests.conftest import postgres_or_skip

# The activities that call a department's system (``worker.activities_for``).
DEPARTMENT_STEPS = {
    "public_security", "hr", "social_insurance", "medical_security", "provident_fund",
    "health_commission", "notifications",
}  # fmt: skip


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_cases_survive_crashes_outages_and_dropped_connections(
    database: str, tmp_path: Path
) -> None:
    if database == "postgres":
        with postgres_or_skip(
            postgres_schema(application_name=f"chaos-{uuid.uuid4().hex[:8]}")
        ) as url:
            figures = await run(cases=6, kills=3, timeout=240, database=database, database_url=url)
        # A cut is made once the restarted worker holds connections; a late one may find every
        # case already finished and the worker idle, so not every kill is paired with a cut.
        assert figures.connection_drops >= 1
        assert figures.connections_dropped >= figures.connection_drops
    else:
        figures = await run(cases=6, kills=3, timeout=240, database=database)
    assert figures.worker_kills == 3
    assert figures.server_restarts == 1
    assert figures.outage_seconds > 0
    # The faults hit running work: department steps failed while the departments' systems were
    # down (the simulator's process killed), for want of them, and were retried until they
    # were back.
    assert figures.outage_hit, "no department step failed during the outage"
    assert {t.split(".")[0] for t in figures.outage_hit} <= DEPARTMENT_STEPS
    assert set(figures.outage_hit) <= set(figures.activity_retries)
    assert figures.completed == figures.cases == 6
    assert figures.answered_decisions > 0 and figures.lost_decisions == 0
    verdict = figures.verdict
    assert verdict is not None
    assert verdict.effects.pension_awards == verdict.effects.fund_payouts == 6
    assert verdict.effects.duplicate_records == {}
    # Every notice the workflows sent is in the outbox, none twice. How many depends on the day
    # (a deadline already past when the case starts sends an escalation), so the histories
    # count them: at least the rights notice and the completion notice of each case. The
    # dispatcher, killed with the worker, sent no text or push twice.
    assert verdict.messages == verdict.histories.notices_sent >= 6 * 2
    assert verdict.effects.duplicate_notifications == 0
    # A killed worker's cases wait on its sticky queue for worker.STICKY_TIMEOUT (3 s), not the
    # SDK's 10 s, before the restarted worker may take them.
    assert max(verdict.histories.stranded_seconds, default=0.0) < 5
    assert verdict.decisions.applied == 36  # six per case, none lost, none twice
    assert verdict.decisions.doubled == verdict.decisions.unaudited == 0
    assert verdict.drift == []
    # The replay gate ran: every case's history, and the dispatcher's, replays against the
    # current workflow code.
    assert verdict.replay.replayed == verdict.replay.cases == 6 + 1
    assert verdict.replay.failures == []
    assert figures.ok
