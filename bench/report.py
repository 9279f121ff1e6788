"""The run's figures: the machine they came from, the summary (``var/bench/summary.json``) and
the table printed at the end, each figure against its target."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from harness.binaries import temporal_cli


def machine() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    cli = subprocess.run(  # noqa: S603 - our own binary
        [temporal_cli(), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "temporalio": version("temporalio"),
        "temporal_cli": cli,
    }


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    limit: float
    at_least: bool  # True: the figure must be >= limit; False: <= limit

    def met(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit

    def text(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.limit:g}"


TARGETS = (
    Target("throughput_ratio", "throughput ratio (project / raw)", 0.8, at_least=True),
    Target(
        "cpu_ratio_departments_elsewhere",
        "CPU ratio, department systems elsewhere (raw / project)",
        0.8,
        at_least=True,
    ),
    Target("events_per_step", "history events per engine step", 6, at_least=False),
    Target("decision_vs_engine_p50", "API decision / raw update, 1 clerk, p50", 1.3, False),
    Target("decision_vs_engine_p99_20", "API decision / raw update, many clerks, p99", 1.5, False),
    Target("api_p50_overhead_ms", "API decision overhead p50 (ms)", 10, at_least=False),
    Target("api_p99_overhead_ms", "API decision overhead p99 (ms)", 30, at_least=False),
    Target("worker_rss_mb_10k", "worker RSS at scale (MB)", 300, at_least=False),
    Target("inbox_p95_ms_10k", "inbox p95 at scale (ms)", 50, at_least=False),
)


def verdicts(summary: dict[str, Any]) -> dict[str, bool]:
    return {t.key: t.met(summary[t.key]) for t in TARGETS if summary.get(t.key) is not None}


def table(summary: dict[str, Any]) -> str:
    """The figures as a plain-text table: targets first, then the raw figures behind them."""
    rows: list[tuple[str, str, str, str]] = [("figure", "value", "target", "met")]
    for t in TARGETS:
        value = summary.get(t.key)
        if value is None:
            continue
        rows.append((t.label, f"{value:g}", t.text(), "yes" if t.met(value) else "NO"))
    tp = summary["throughput"]
    rows.append(("", "", "", ""))
    if "api_p50_overhead_unpaired_ms" in summary:
        rows.append(
            (
                "API overhead unpaired p50/p99 (ms)",
                f"{summary['api_p50_overhead_unpaired_ms']:g} / "
                f"{summary['api_p99_overhead_unpaired_ms']:g}",
                "",
                "",
            )
        )
    rows.append((f"throughput: project, {tp['cases']} cases/s", f"{tp['project_per_s']:g}", "", ""))
    rows.append((f"throughput: raw, {tp['cases']} cases/s", f"{tp['raw_per_s']:g}", "", ""))
    for side, used in tp.get("cpu_ms_per_case", {}).items():
        # A split project worker is counted whole: its workflow and its activity processes.
        worker = (
            used["worker"] + used.get("activity_worker", 0)
            if side == "project"
            else used["raw_worker"]
        )
        rows.append(
            (
                f"CPU ms per case, {side}: worker / server / driver / departments",
                f"{worker:g} / {used['server']:g} / {used['driver']:g} / "
                f"{used.get('departments', 0):g}",
                "",
                "",
            )
        )
    for clerks, kinds in summary["latency"].items():
        for kind, figures in kinds.items():
            if kind in ("overhead", "unpaired"):
                continue
            rows.append(
                (
                    f"decision {kind}, {clerks} clerk(s) p50/p99 ms",
                    f"{figures['p50']:g} / {figures['p99']:g}",
                    "",
                    "",
                )
            )
    cost = summary["cost"]["project"]
    raw = summary["cost"]["raw"]
    rows.append(
        ("events per case (project / raw)", f"{cost['events']:g} / {raw['events']:g}", "", "")
    )
    rows.append(("history KB per case", f"{cost['bytes'] / 1000:.1f}", "", ""))
    rows.append(("engine steps per case", f"{cost['steps']:g}", "", ""))
    rows.append(
        (
            "billable actions per case (project / raw)",
            f"{cost['billable_actions']:g} / {raw['billable_actions']:g}",
            "",
            "",
        )
    )
    scale = summary.get("scale")
    if scale:
        rows.append(("open cases at scale", f"{scale['open_cases']}", "", ""))
        rows.append(("starts per second", f"{scale['starts_per_second']:g}", "", ""))
        rows.append(("cases at pre-review per second", f"{scale['settled_per_second']:g}", "", ""))
        rows.append(("worker RSS peak (MB)", f"{scale['worker_rss_mb_peak']:g}", "", ""))
        if scale.get("activity_worker_rss_mb_peak") is not None:
            rows.append(
                (
                    "activity worker RSS peak (MB)",
                    f"{scale['activity_worker_rss_mb_peak']:g}",
                    "",
                    "",
                )
            )
        rows.append(("server database (MB)", f"{scale['server_db_mb']:g}", "", ""))
        rows.append(("inbox p50 (ms)", f"{scale['inbox_ms']['p50']:g}", "", ""))
        rows.append(
            (
                "sticky timeouts at scale (cases sampled)",
                f"{scale['sticky_timeouts_in_sample']} ({scale['history_sample']})",
                "",
                "",
            )
        )
    replay = summary.get("replay")
    if replay:
        rows.append(("", "", "", ""))
        for name, phase in replay["phases"].items():
            of = f" (a sample of {phase['sampled_from']})" if phase["sampled_from"] else ""
            rows.append(
                (
                    f"histories replayed, {name}{of}",
                    f"{phase['replayed']} ({phase['per_second']:g}/s)",
                    "0 failures",
                    "yes" if not phase["failures"] else f"NO: {len(phase['failures'])}",
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
