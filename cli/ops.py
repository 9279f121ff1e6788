"""Operations commands: ``retirement schedules ensure``, ``retirement roster load FILE``,
``retirement reconcile`` and ``retirement doctor`` (their arguments: ``cli/commands.py``). Loaded
only when one of them runs: they need Temporal, the database and the workflow."""

from __future__ import annotations

import argparse
import asyncio
from typing import IO, TYPE_CHECKING, Any

from temporalio.service import RPCError, RPCStatusCode

from cli.output import print_json, print_table
from cli.rules import UsageError
from db.session import make_engine, make_sessionmaker
from db.sweeps import DatabaseRoster, read_roster_csv
from service.departments import connect_platform
from service.reconcile import Drift, reconcile
from service.schedules import ensure_schedules
from service.settings import get_settings
from service.temporal import connect

if TYPE_CHECKING:
    from service import doctor  # imported when run: it loads the workflow and the replayer


def run_ops(args: argparse.Namespace, out: IO[str]) -> int:
    if args.command == "doctor":
        return run_doctor(args, out)
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
    platform = connect_platform(settings)
    try:
        sessions = make_sessionmaker(engine, read_only=True)
        return await reconcile(await connect(settings), sessions, platform)
    finally:
        platform.close()
        engine.dispose()


async def _ensure(task_queue: str) -> list[str]:
    client = await connect(get_settings())
    return await ensure_schedules(client, task_queue)


def run_doctor(args: argparse.Namespace, out: IO[str]) -> int:
    """Exit 0 when nothing was found, 1 when a case was (healed or not)."""
    if args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if any(not case.strip() for case in args.case):
        raise UsageError("--case needs a case id")
    results = asyncio.run(_doctor(args.replay, args.heal, args.case, args.timeout))
    rows = [_doctor_row(finding, healed) for finding, healed in results]
    if args.json:
        print_json(rows, out)
    elif rows:
        print_table(
            ["case", "kind", "first bad event", "why", "healed"],
            [
                [r["case"], r["kind"], r["first_bad_event"], r["message"][:120], _healed(r)]
                for r in rows
            ],
            out,
        )
    else:
        out.write(
            "nothing found: no running case has failing workflow tasks or misses an update "
            "accepted before a reset"
            + (
                ", and every running case's history replays\n"
                if args.replay
                else " (--replay also replays their histories)\n"
            )
        )
    return 1 if rows else 0


def _doctor_row(finding: doctor.Finding, healed: doctor.Heal | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "case": finding.case_id,
        "run": finding.run_id,
        "kind": finding.kind,
        "first_bad_event": finding.first_bad_event,
        "attempts": finding.attempts,
        "message": finding.message,
    }
    if finding.kind == "unfinished-heal":
        row["base_run"] = finding.base_run
        row["reset_event"] = finding.reset_event
        row["reset_reason"] = finding.reset_reason
        row["owed"] = list(finding.owed)
    if healed is not None:
        row["heal"] = {
            "ok": healed.ok,
            "reset_to_event": healed.reset_to_event,
            "new_run": healed.new_run,
            "resent": healed.resent,
            "duplicates": healed.duplicates,
            "lost": healed.lost,
            "unmatched_audit": healed.unmatched_audit,
            "doubled": healed.doubled,
            "problem": healed.problem,
        }
    return row


def _healed(row: dict[str, Any]) -> str:
    heal = row.get("heal")
    if heal is None:
        return "-"
    if heal["ok"]:
        return f"yes: new run {heal['new_run']}, {len(heal['resent'])} update(s) re-sent"
    return "NO: " + "; ".join(
        heal["lost"] + heal["unmatched_audit"] + [heal["problem"] or ""]
    ).strip("; ")


async def _doctor(
    replay: bool, heal: bool, cases: list[str], timeout: float
) -> list[tuple[doctor.Finding, doctor.Heal | None]]:
    from service import doctor

    settings = get_settings()
    client = await connect(settings)
    try:
        findings = await doctor.examine(client, replay=replay, case_ids=cases or None)
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND and cases:
            raise UsageError(f"no such case: {exc.message}") from None
        raise
    if not heal:
        return [(f, None) for f in findings]
    engine = make_engine(settings.database_url)
    platform = connect_platform(settings)
    try:
        sessions = make_sessionmaker(engine)
        return [
            (
                f,
                await doctor.heal(
                    client,
                    sessions,
                    platform,
                    f,
                    timeout=timeout,
                    resend_by_hand=f.case_id in cases,
                ),
            )
            for f in findings
        ]
    finally:
        platform.close()
        engine.dispose()
