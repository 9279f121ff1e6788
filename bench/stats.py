"""Small measuring helpers: percentiles, a process's resident memory and CPU time, file sizes."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1): an observed value, never an
    interpolation, so a p99 of 40 samples is honestly the slowest but one."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 and mean in milliseconds of samples in seconds."""
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 0.50), 2),
        "p95": round(percentile(ms, 0.95), 2),
        "p99": round(percentile(ms, 0.99), 2),
        "mean": round(sum(ms) / len(ms), 2) if ms else math.nan,
    }


def rss_mb(pid: int) -> float:
    """Resident memory of a live process (``VmRSS`` in /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def files_mb(*paths: Path) -> float:
    """The combined size of the files that exist among ``paths``, in MB."""
    return round(sum(p.stat().st_size for p in paths if p.exists()) / 1e6, 1)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a live process has used so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
