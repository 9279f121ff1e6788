"""A tiny benchmark run, so ``make bench`` does not rot: every phase runs end to end on a local
dev server (a few cases, 40 open cases for scale) and the summary has every figure. The figures
themselves are not asserted: on a shared machine they are noise at this size."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import Config, run
from bench.report import TARGETS, table

OPEN = 40  # open cases in the scale phase: enough for a page of the inbox and a replay sample


def test_a_tiny_bench_run_yields_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    summary = run(Config(cases=2, open_cases=OPEN, samples=2, clerks=3, rounds=1, out=out))
    written = json.loads(out.read_text())
    for target in TARGETS:
        assert isinstance(written[target.key], int | float), target.key
    assert written["throughput"]["project_per_s"] > 0
    assert written["throughput"]["raw_per_s"] > 0
    cpu = written["throughput"]["cpu_ms_per_case"]
    assert cpu["project"]["worker"] > 0 and cpu["raw"]["raw_worker"] > 0
    assert cpu["project"]["server"] > 0 and cpu["raw"]["server"] > 0
    assert cpu["project"]["departments"] > 0  # the simulator answered the project's steps
    # Split, as deployed: the department steps ran in a worker process of their own.
    assert cpu["project"]["activity_worker"] > 0
    assert written["scale"]["activity_worker_rss_mb_peak"] > 0
    assert written["cost"]["project"]["steps"] > 0
    assert written["cost"]["raw"]["steps"] > 0
    assert written["scale"]["inbox_total"] >= OPEN
    assert written["scale"]["history_sample"] == OPEN  # every case of so small a run
    assert isinstance(written["scale"]["sticky_timeouts_in_sample"], int)
    # The replay gate ran: the probe's and both throughput cases' histories, and every open case
    # of so small a run, replay against the current workflow code.
    replay = written["replay"]
    assert replay["phases"]["throughput"]["replayed"] == 3
    assert replay["phases"]["scale"]["replayed"] == OPEN
    assert replay["phases"]["scale"]["sampled_from"] is None  # all of them, not a sample
    assert replay["ok"] and replay["failed"] == 0
    assert set(written["latency"]) == {"1", "3"}
    for clerks, kinds in written["latency"].items():
        # One paired overhead per API decision, and going through HTTP always costs something.
        assert kinds["api_own"]["n"] == kinds["api"]["n"], clerks
        assert 0 < kinds["overhead"]["p50_ms"] < kinds["api"]["p50"], clerks
    assert "throughput ratio" in table(summary)
    assert "histories replayed, scale" in table(summary)
