"""A rules command needs only ``domain/`` and the policy: it must not pay for Temporal, the
database or the harness at start-up (the CLI imported them all for every command once, and a
rules call took about a second). The time itself is a benchmark's business, not a test's:
this checks what is loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("temporalio", "sqlalchemy", "alembic", "httpx", "fastapi", "harness", "simulator")

PROBE = """
import json, sys
from cli.main import run
status = run(sys.argv[1:], open("/dev/null", "w"))
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"status": status, "loaded": loaded}))
"""


def _loaded(*argv: str) -> tuple[int, set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=ROOT, capture_output=True, text=True, check=True
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    return found["status"], set(found["loaded"])


def test_a_rules_command_loads_no_engine_database_or_harness() -> None:
    for argv in (
        ("rules", "retirement-date", "--category", "male", "1965-01"),
        ("rules", "check-id", "220102196608150012"),
        ("rules", "clerk-due", "--task", "pre-review", "--opened", "2026-09-28"),
    ):
        status, loaded = _loaded(*argv)
        assert status == 0, argv
        assert loaded.isdisjoint(HEAVY), (argv, sorted(loaded & set(HEAVY)))


def test_the_probe_would_see_a_heavy_import() -> None:
    # Guard against a vacuous pass: an operations command's parser path loads nothing heavy
    # either, but running `reconcile --help` is parsing only; importing the ops module does.
    probe = "import sys, cli.ops; print(sorted({m.split('.')[0] for m in sys.modules}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "temporalio" in result.stdout and "sqlalchemy" in result.stdout
