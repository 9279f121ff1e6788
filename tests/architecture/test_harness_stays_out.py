"""The harness (demo, driver, simulator process, chaos, load, scratch databases) and the
department simulator drive the service; they are not the service. Its production code never
imports them (the image contains neither), and the simulator depends on nothing of the service
but the shared contracts, rules and database plumbing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = (
    "domain", "policies", "contracts", "activities", "adapters", "workflows", "db", "api",
    "web", "service", "cli",
)  # fmt: skip
OUTSIDE = ("simulator", "harness")
# cli/commands.py is the door to the harness's commands: it imports them only when they run.
LAZY_DOORS = {"cli/commands.py"}
SIMULATOR_MAY_IMPORT = {"contracts", "domain", "db", "simulator"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(*packages: str) -> list[Path]:
    return [p for package in packages for p in sorted((ROOT / package).rglob("*.py"))]


def test_no_production_module_imports_the_harness_or_the_simulator() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in [*_modules(*PRODUCTION), ROOT / "worker.py"]
        if str(path.relative_to(ROOT)) not in LAZY_DOORS
        for name in _imports(path)
        if name.split(".")[0] in OUTSIDE
    ]
    assert offenders == []


def test_the_simulator_imports_only_the_shared_parts() -> None:
    ours = {p.name for p in ROOT.iterdir() if p.is_dir()} | {"worker"}
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _modules("simulator")
        for name in _imports(path)
        if name.split(".")[0] in ours and name.split(".")[0] not in SIMULATOR_MAY_IMPORT
    ]
    assert offenders == []


def test_starting_the_service_the_worker_or_the_cli_loads_neither() -> None:
    # Lazy imports would slip past the static check above: load the entry points for real.
    probe = (
        "import sys, web.app, worker, cli.main, cli.ops; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('simulator', 'harness')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
