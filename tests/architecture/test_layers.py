"""The one-way layers of the README's layout table: what each top-level package may import of
the project. A new arrow is a design decision, so it is made here, on purpose, with the README's
"may import" column changed to match."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = {
    "domain", "policies", "contracts", "activities", "workflows", "adapters", "db", "service",
    "api", "web", "worker", "cli", "simulator", "harness", "bench", "notifications",
}  # fmt: skip
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    # The message templates and the mobile number's rules: plain data and functions.
    "notifications": set(),
    "policies": {"domain"},
    "contracts": {"domain"},
    "activities": {"domain", "policies", "contracts"},
    "workflows": {"domain", "contracts", "activities"},
    "adapters": {"contracts", "activities"},
    "db": {"domain", "contracts", "activities", "notifications"},
    "service": {"domain", "policies", "contracts", "activities", "workflows", "adapters", "db"},
    "api": {"domain", "policies", "contracts", "workflows", "db", "service", "notifications"},
    # The pages stand on the API: its context, its reads and its gateway to the workflow.
    "web": {"domain", "policies", "contracts", "db", "service", "api", "notifications"},
    "worker": {"policies", "activities", "workflows", "adapters", "db", "service", "notifications"},
    # cli/commands.py is the door to the harness's commands, imported only when they run
    # (tests/architecture/test_harness_stays_out.py checks that it stays lazy).
    "cli": {"domain", "policies", "contracts", "db", "service", "harness"},
    "simulator": {"domain", "contracts", "db"},
    "harness": OURS - {"harness", "bench"},
    "bench": OURS - {"bench"},
}


def _imports(package: str) -> dict[str, set[str]]:
    """Top-level project packages each file of ``package`` imports: {file: packages}."""
    path = ROOT / package
    files = [path.with_suffix(".py")] if not path.is_dir() else sorted(path.rglob("*.py"))
    found: dict[str, set[str]] = {}
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(file.relative_to(ROOT))] = (names & OURS) - {package}
    return found


def test_every_package_imports_only_the_layers_it_may() -> None:
    breaches = [
        f"{file} imports {', '.join(sorted(packages - ALLOWED[package]))}"
        for package in sorted(ALLOWED)
        for file, packages in _imports(package).items()
        if packages - ALLOWED[package]
    ]
    assert breaches == []


def test_the_check_sees_imports() -> None:
    # Guard against a vacuous pass: the worker does import the workflow and the adapters.
    assert {"workflows", "adapters"} <= _imports("worker")["worker.py"]
    assert ALLOWED.keys() == OURS
