"""``make run`` starts the workers as deployed: one process for the workflows, one for the
department steps, each serving its metrics on a port of its own."""

from __future__ import annotations

from harness.dev_command import worker_processes


def test_make_run_starts_a_workflows_worker_and_an_activities_worker() -> None:
    workers = worker_processes("127.0.0.1:9464")
    assert [runs for runs, _, _ in workers] == ["workflows", "activities"]
    assert [metrics for _, _, metrics in workers] == ["127.0.0.1:9464", "127.0.0.1:9465"]
    assert len({log for _, log, _ in workers}) == 2  # a log each
