"""``make screenshots``: each page at a phone's and a desktop's size, taken in Debian's chromium
from the service running as ``make run`` runs it (the dev server, the department simulator, the
worker and ``uvicorn web.app:app`` as processes on free ports), into ``docs/screenshots/``.

Its people sign in with the development sign-in (``DEV_SIGNIN_FILE``); two made-up cases give
the pages something to show: one completed (the retiree's page), one waiting at pre-review (the
clerk's inbox and decision form). Every action goes through the HTTP API, as a person's would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import ViewportSize, async_playwright

from harness.browser import launch
from harness.cluster import Cluster, run_stoppable
from harness.people import REGION, declare_body, early_retiree
from harness.scratch import sqlite_database

OUT = Path("docs") / "screenshots"
SIZES: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}
ORGANISATION = "jl-auto-works"
DEPARTMENTS = ("hr", "social-insurance", "medical-security", "provident-fund")


@dataclass(frozen=True)
class Shot:
    name: str
    path: str  # may name {completed} or {waiting}: the made-up cases
    user: str = ""  # who is signed in ("" for no one)
    display: str = ""  # the display-preference cookie's value, e.g. "large.high"


SHOTS = (
    Shot("home", "/"),
    Shot("guide", "/guide"),
    Shot("guide-large-text", "/guide", display="large.high"),
    Shot("signin", "/signin"),
    Shot("retiree", "/my", user="retiree"),
    Shot("clerk-inbox", "/clerk", user="clerk-hr"),
    Shot("clerk-case", "/clerk/cases/{waiting}", user="clerk-hr"),
    Shot("counter-declare", "/clerk/counter/declare", user="clerk-hr"),
    Shot("employer-cases", "/employer", user="employer"),
    Shot("employer-declare", "/employer/declare", user="employer"),
    Shot("supervisor", "/supervisor", user="supervisor-hr"),
)


def _users(retiree_id: str) -> dict[str, dict[str, Any]]:
    users: dict[str, dict[str, Any]] = {
        "retiree": {"sub": "shot-retiree", "role": "individual", "id_number": retiree_id},
        "employer": {"sub": "shot-officer", "role": "employer", "organisation": ORGANISATION},
        "supervisor-hr": {
            "sub": "shot-supervisor", "role": "supervisor", "department": "hr",
            "region": REGION[:4] + "00",
        },
    }  # fmt: skip
    for department in DEPARTMENTS:
        users[f"clerk-{department}"] = {
            "sub": f"shot-{department}", "role": "clerk", "department": department,
            "region": REGION,
        }  # fmt: skip
    return users


async def _declare(http: httpx.AsyncClient, cluster: Cluster, serial: int, employer: Any) -> str:
    person, declaration = early_retiree(serial, organisation=ORGANISATION)
    cluster.departments.seed(
        person.id_number, person.name, actual_years=Decimal(16), fund_balance=Decimal("52000")
    )
    answer = await http.post("/cases", json=declare_body(person, declaration), headers=employer)
    answer.raise_for_status()
    case_id: str = answer.json()["case_id"]
    return case_id


async def _complete(
    http: httpx.AsyncClient, headers: dict[str, dict[str, str]], case_id: str
) -> None:
    """Every open task done by whoever it waits for, until the case completes."""
    for _ in range(240):
        snapshot = (await http.get(f"/cases/{case_id}", headers=headers["employer"])).json()
        if snapshot["stage"] == "completed":
            return
        for task in (t for t in snapshot["tasks"] if t["status"] == "open"):
            if task["kind"] == "initiate":
                await http.post(
                    f"/cases/{case_id}/initiation", json={}, headers=headers["employer"]
                )
            elif task["assignee"] == "clerk" and task["department"] in DEPARTMENTS:
                await http.post(
                    f"/cases/{case_id}/tasks/{task['id']}/decision",
                    json={"outcome": "approve"},
                    headers=headers[f"clerk-{task['department']}"],
                )
        await asyncio.sleep(0.25)
    raise TimeoutError(f"{case_id} did not complete")


async def _wait_stage(http: httpx.AsyncClient, employer: Any, case_id: str, stage: str) -> None:
    for _ in range(240):
        if (await http.get(f"/cases/{case_id}", headers=employer)).json()["stage"] == stage:
            return
        await asyncio.sleep(0.25)
    raise TimeoutError(f"{case_id} did not reach {stage}")


async def take(out: Path, shots: tuple[Shot, ...] = SHOTS) -> list[Path]:
    """Every shot at every size into ``out``: the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="retirement-shots-") as name:
        folder = Path(name)
        with sqlite_database(folder) as url:
            cluster = Cluster(folder, url)
            retiree, _ = early_retiree(0, organisation=ORGANISATION)
            claims = _users(retiree.id_number)
            tokens = {user: cluster.mint(c) for user, c in claims.items()}
            signin_file = folder / "dev-tokens.json"
            signin_file.write_text(
                json.dumps(
                    {
                        u: {"role": c["role"], "claims": c, "token": tokens[u]}
                        for u, c in claims.items()
                    }
                ),
                encoding="utf-8",
            )
            headers = {user: {"Authorization": f"Bearer {token}"} for user, token in tokens.items()}
            try:
                cluster.start_server()
                cluster.start_departments()
                cluster.start_worker()
                cluster.start_api(DEV_SIGNIN_FILE=str(signin_file))
                async with httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as http:
                    completed = await _declare(http, cluster, 0, headers["employer"])
                    await _complete(http, headers, completed)
                    waiting = await _declare(http, cluster, 1, headers["employer"])
                    await _wait_stage(http, headers["employer"], waiting, "pre-review")
                cases = {"completed": completed, "waiting": waiting}
                async with async_playwright() as playwright:
                    browser = await launch(playwright)
                    for shot in shots:
                        for size, viewport in SIZES.items():
                            context = await browser.new_context(
                                base_url=cluster.api_url, locale="zh-CN", viewport=viewport
                            )
                            cookies = []
                            if shot.display:
                                cookies.append({"name": "display", "value": shot.display})
                            if shot.user:
                                cookies.append({"name": "session", "value": tokens[shot.user]})
                            await context.add_cookies(
                                [{**c, "url": cluster.api_url} for c in cookies]  # type: ignore[typeddict-item]
                            )
                            page = await context.new_page()
                            await page.goto(shot.path.format(**cases))
                            target = out / f"{shot.name}-{size}.png"
                            await page.screenshot(path=str(target))  # what the screen shows first
                            written.append(target)
                            await context.close()
                    await browser.close()
            finally:
                cluster.stop()
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m harness.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    for path in run_stoppable(take(args.out)):
        print(path)
    sys.stdout.flush()
    os._exit(0)  # the Temporal SDK can abort the interpreter at exit (docs/engineering.md)


if __name__ == "__main__":
    main()
