"""The arguments of every command but the rules calculators (``cli/rules.py``), and the door to
each command's work, imported only when that command runs: a rules command loads neither
Temporal nor SQLAlchemy nor the harness.

- operations (``schedules``, ``roster``, ``reconcile``, ``doctor``): ``cli/ops.py``;
- ``demo`` and ``dev run`` (``make run``), which drive the service rather than operate it: the
  ``harness`` package, which the production image does not have.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO, Any

from cli.rules import UsageError


def add_demo_command(sub: Any) -> None:
    parser = sub.add_parser("demo", help="run every path to the end on a simulated clock")
    parser.add_argument("--json", action="store_true", help="print the events as JSON")
    parser.add_argument(
        "--record-histories",
        metavar="DIR",
        type=Path,
        help="also write each case's Temporal history there (the replay corpus)",
    )


def add_dev_command(sub: Any) -> None:
    dev = sub.add_parser("dev", help="run the service locally (make run)")
    cmds = dev.add_subparsers(dest="dev_command", required=True, metavar="COMMAND")
    run = cmds.add_parser("run", help="dev server, worker and demo cases; Ctrl-C stops")
    run.add_argument("--ui-port", type=int, default=8233)
    run.add_argument("--no-seed", action="store_true", help="do not start the demo cases")


def add_ops_commands(sub: Any) -> None:
    schedules = sub.add_parser("schedules", help="the daily sweeps' Temporal Schedules")
    cmds = schedules.add_subparsers(dest="schedules_command", required=True, metavar="COMMAND")
    cmds.add_parser("ensure", help="create them, or update them to this version (idempotent)")
    roster = sub.add_parser("roster", help="employers' rosters for the daily sweep")
    rcmds = roster.add_subparsers(dest="roster_command", required=True, metavar="COMMAND")
    load = rcmds.add_parser("load", help="load a roster CSV (a file drop); rows are upserted")
    load.add_argument("file", type=Path, metavar="FILE")
    check = sub.add_parser(
        "reconcile", help="compare workflows, read model and department records; 1 on drift"
    )
    check.add_argument("--json", action="store_true", help="print the drift as JSON")
    cure = sub.add_parser(
        "doctor",
        help="find cases whose workflow tasks fail or whose history cannot be replayed, and reset "
        "cases missing updates their old run accepted (an unfinished heal); 1 if any",
    )
    cure.add_argument(
        "--replay",
        action="store_true",
        help="also replay every running case's history (finds latent cases; costs a history "
        "fetch and a replay per case)",
    )
    cure.add_argument(
        "--heal",
        action="store_true",
        help="reset each case found to before its first bad workflow task and re-send the "
        "updates the reset drops, then check nothing was lost; for an unfinished heal, re-send "
        "what is missing (after a reset by hand only for the cases named with --case)",
    )
    cure.add_argument("--case", action="append", default=[], metavar="ID", help="only this case")
    cure.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long a healed case may take to accept its re-sent updates (default 120)",
    )
    cure.add_argument("--json", action="store_true", help="print the findings as JSON")


OPS_COMMANDS = ("schedules", "roster", "reconcile", "doctor")


def run_ops(args: argparse.Namespace, out: IO[str]) -> int:
    from cli.ops import run_ops as run

    return run(args, out)


def run_demo(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        from harness.demo_command import run_demo as run
    except ModuleNotFoundError as exc:
        raise UsageError(f"the demo is not installed here ({exc.name} missing)") from None
    return run(args, out)


def run_dev(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        from harness.dev_command import run_dev as run
    except ModuleNotFoundError as exc:
        raise UsageError(f"'dev run' is not installed here ({exc.name} missing)") from None
    return run(args, out)
