"""No code of the project queries a running case.

A query that reaches a worker while a dead worker's workflow task is pending can make the SDK
apply that task's events outside any workflow task; an update landing next is recorded in an
order replay cannot reproduce, and the case is stuck for good (docs/reliability.md). Two rules
keep the project's own code away from it, and these tests hold them:

- every Temporal client production code makes carries ``QueriesOnlyToClosedRuns``, which
  refuses a query to a running workflow at run time;
- the few places that query at all are known, each with the reason it is safe.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ["api", "activities", "adapters", "bench", "cli", "contracts", "db", "domain",
              "harness", "policies", "service", "simulator", "workflows", "worker.py"]  # fmt: skip

# Where production code sends a query, and why that cannot reach a running case.
QUERIES = {
    "service/temporal.py": "the interceptor itself, once it has described the run as closed",
    "service/reconcile.py": "a closed run only, pinned to the run it described",
    "harness/chaos.py": "every case, after every workflow has closed",
    "harness/load.py": "every case, after every workflow has closed",
    "bench/latency.py": "RawCase, the raw engine's baseline workflow, not a case",
    "bench/throughput.py": "RawCase, the raw engine's baseline workflow, not a case",
}
# Clients made without the interceptor, and why.
UNGUARDED_CLIENTS = {
    "bench/raw.py": "the raw engine's worker, which never sees a case",
    "bench/rig.py": "the raw engine's client (bench/raw.py), which never sees a case",
}


def _modules() -> list[Path]:
    found: list[Path] = []
    for name in PRODUCTION:
        path = ROOT / name
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return found


def _calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else None


def _makes_a_client(call: ast.Call) -> bool:
    """``Client.connect(...)`` or ``WorkflowEnvironment.start_local/start_time_skipping(...)``
    (a database's ``engine.connect()`` is not a Temporal client)."""
    func = call.func
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
        return False
    return (func.value.id, func.attr) in {
        ("Client", "connect"),
        ("WorkflowEnvironment", "start_local"),
        ("WorkflowEnvironment", "start_time_skipping"),
    }


def test_only_the_known_places_send_a_query() -> None:
    senders = {
        str(path.relative_to(ROOT))
        for path in _modules()
        for call in _calls(path)
        if _name(call) in ("query", "query_workflow")
    }
    unexplained = senders - set(QUERIES)
    assert not unexplained, f"queries sent from {sorted(unexplained)}: read the read model"
    assert set(QUERIES) <= senders, "a listed place no longer queries: take it off the list"


def test_every_client_refuses_queries_to_running_workflows() -> None:
    """``Client.connect`` and the SDK's test environments are the only ways to a client; each
    call passes the interceptor (``service.temporal.connect`` is the one the service uses)."""
    unguarded = []
    for path in _modules():
        relative = str(path.relative_to(ROOT))
        for call in _calls(path):
            if not _makes_a_client(call):
                continue
            keywords = {k.arg: ast.unparse(k.value) for k in call.keywords}
            if "QueriesOnlyToClosedRuns()" not in keywords.get("interceptors", ""):
                unguarded.append(f"{relative}:{call.lineno}")
    unexplained = [u for u in unguarded if u.split(":")[0] not in UNGUARDED_CLIENTS]
    assert not unexplained, f"clients without QueriesOnlyToClosedRuns: {unexplained}"
