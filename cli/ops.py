"""Operations commands: ``retirement schedules ensure`` and ``retirement roster load FILE``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import IO, Any

from cli.output import print_json, print_table
from db.session import make_engine, make_sessionmaker
from db.sweeps import DatabaseRoster, read_roster_csv
from service.reconcile import Drift, reconcile
from service.schedules import ensure_schedules
from service.settings import get_settings
from service.temporal import connect


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


def run_ops(args: argparse.Namespace, out: IO[str]) -> int:
    settings = get_settings()
    if args.command == "reconcile":
        drifts = asyncio.run(_reconcile())
        if args.json:
            print_json([{"case": d.case_id, "problem": d.problem} for d in drifts], out)
        elif drifts:
            print_table(["case", "problem"], [[d.case_id, d.problem] for d in drifts], out)
        else:
            out.write("no drift: workflows, read model and department records agree\n")
        return 1 if drifts else 0
    if args.command == "schedules":
        names = asyncio.run(_ensure(settings.temporal_task_queue))
        out.write("".join(f"schedule {name}: ok\n" for name in names))
        return 0
    people = read_roster_csv(args.file)  # a bad row raises ValueError with file:line
    engine = make_engine(settings.database_url)
    try:
        count = DatabaseRoster(make_sessionmaker(engine)).load(people)
    finally:
        engine.dispose()
    out.write(f"{count} roster entries loaded from {args.file}\n")
    return 0


async def _reconcile() -> list[Drift]:
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        return await reconcile(await connect(settings), make_sessionmaker(engine, read_only=True))
    finally:
        engine.dispose()


async def _ensure(task_queue: str) -> list[str]:
    client = await connect(get_settings())
    return await ensure_schedules(client, task_queue)
