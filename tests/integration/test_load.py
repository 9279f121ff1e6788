"""A short load run, as CI can afford: through the HTTP API of a worker and an API in processes
of their own, employers declare every person twice at once (and retry), clerks compete for the
tasks of their inboxes, and every case completes with zero 5xx and no decision lost or doubled.
``make load`` runs the full one (1,000 cases, 50 clerks)."""

from __future__ import annotations

import pytest

from harness.load import run
from harness.scratch import postgres_schema
from tests.conftest import postgres_or_skip


@pytest.mark.postgres
async def test_concurrent_employers_and_clerks_lose_and_double_nothing() -> None:
    with postgres_or_skip(postgres_schema()) as url:
        figures = await run(cases=30, clerks=24, database="postgres", timeout=300, database_url=url)
    assert figures.failures == []
    assert figures.server_errors == 0 and figures.transport_errors == 0
    # One case per person, whichever officer's declaration came first; the other is refused.
    assert figures.workflows == 30 and figures.people_with_two_cases == 0
    assert figures.declarations["created"] == 30
    assert figures.declarations["created"] + figures.declarations["conflict"] == 60
    assert figures.retry_mismatches == 0
    assert figures.completed == 30
    assert figures.decisions_answered == 30 * 6 and figures.lost_decisions == 0
    verdict = figures.verdict
    assert verdict is not None
    assert verdict.decisions.applied == 30 * 6
    assert verdict.decisions.doubled == verdict.decisions.unaudited == 0
    assert verdict.effects.pension_awards == verdict.effects.fund_payouts == 30
    assert verdict.effects.duplicate_records == {}
    assert verdict.effects.duplicate_notifications == 0
    assert verdict.messages == verdict.histories.notices_sent
    assert verdict.drift == []
    # The replay gate ran: every case's history, and the dispatcher's, replays against the
    # current workflow code.
    assert verdict.replay.replayed == verdict.replay.cases == 30 + 1
    assert verdict.replay.failures == []
    assert figures.ok
