"""A short chaos run, as CI can afford: cases in flight while the worker is killed with SIGKILL
and the dev server restarted must all complete, with no decision lost and no payment doubled.
``make chaos`` runs a bigger one."""

from __future__ import annotations

from service.chaos import run


async def test_cases_survive_worker_kills_and_a_server_restart() -> None:
    figures = await run(cases=6, kills=3, timeout=240)
    assert figures.worker_kills == 3
    assert figures.server_restarts == 1
    assert figures.completed == figures.cases == 6
    assert figures.pension_awards == 6
    assert figures.fund_payouts == 6
    assert figures.duplicate_awards == figures.duplicate_payouts == 0
    assert figures.decisions == figures.audited_decisions > 0
    assert figures.drift == []
