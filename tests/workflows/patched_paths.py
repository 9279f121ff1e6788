"""Stories on the paths the 2026-12 patches change, which no demo path takes, recorded with the
code from before the patches so ``test_patched_paths.py`` can prove that the old path is kept.

The demo corpus (``histories/v*``) never sees a department refuse the same step again, nor a
household mismatch a clerk has confirmed come back at the next check; a patch on those paths
would go untested by it. These histories were recorded once, on the commit before the patches
(c249c3d), with::

    .venv/bin/python -m tests.workflows.patched_paths tests/workflows/patched-paths

They are not a corpus version (``make record-histories`` makes those) and are never re-recorded:
recorded with the patched code they would take the new path and prove nothing about the old one.
Each story runs on either code, so the module stays usable to record the same paths again should
the old path ever need proving against another SDK.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from contracts.people import Department, Role
from contracts.workflow import Cancel, Stage, TaskKind
from harness.binaries import temporal_test_server
from harness.demo_command import demo_data_converter
from policies import load_policy
from tests.workflows.conftest import Harness, clerk, request_id, wait_for
from tests.workflows.fakes import FakeDepartments
from tests.workflows.helpers import NORMAL, Case, approve, decide
from tests.workflows.people import retiree_from_now
from worker import build_worker
from workflows.case import RetirementCase

HR_SUPERVISOR = clerk(Department.HR, role=Role.SUPERVISOR)
SOCIAL_SUPERVISOR = clerk(Department.SOCIAL_INSURANCE, role=Role.SUPERVISOR)


async def _cancel(handle: Case) -> None:
    """Close the case, so the recording is a finished history."""
    await handle.execute_update(
        RetirementCase.cancel,
        Cancel(request_id=request_id(), actor=HR_SUPERVISOR, reason="recording ends here"),
    )
    await handle.result()


async def issue_refused_again(harness: Harness) -> Case:
    """No contribution record: the clerk approves the department issue twice and the supervisor
    a third time without anything fixed, so the same refusal comes back four times; then the
    record is restored and the fourth issue approved by the supervisor."""
    man = (await retiree_from_now(harness)).person
    harness.fakes.add_person(man.id_number, man.name)
    record = harness.fakes.contributions.pop(man.id_number)
    handle = await harness.start(man, NORMAL)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    decided: set[str] = set()
    for attempt in range(1, 5):
        snap = await wait_for(
            handle,
            lambda s: any(
                t.kind is TaskKind.DEPARTMENT_ISSUE and t.id not in decided for t in s.open_tasks()
            ),
        )
        issue = next(
            t
            for t in snap.open_tasks()
            if t.kind is TaskKind.DEPARTMENT_ISSUE and t.id not in decided
        )
        if attempt == 4:
            harness.fakes.contributions[man.id_number] = record
        await decide(handle, issue, actor=SOCIAL_SUPERVISOR if attempt >= 3 else None)
        decided.add(issue.id)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await wait_for(handle, lambda s: s.stage is Stage.AWAITING_INITIATION)
    await _cancel(handle)
    return handle


async def household_mismatch_confirmed(harness: Harness) -> Case:
    """The registry knows him under another name; public security confirms the mismatch at the
    declaration, and the registry gives the same answer at pre-review (the code before the patch
    asks the clerk again there; the patched code does not)."""
    man = (await retiree_from_now(harness, name="张三", serial=2)).person
    harness.fakes.add_person(man.id_number, "张山")
    handle = await harness.start(man, NORMAL)
    await approve(handle, TaskKind.HOUSEHOLD_REVIEW, Department.PUBLIC_SECURITY)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    snap = await wait_for(
        handle,
        lambda s: (
            s.stage is Stage.CONTRIBUTION_CHECK
            or any(t.kind is TaskKind.HOUSEHOLD_REVIEW for t in s.open_tasks())
        ),
    )
    again = [t for t in snap.open_tasks() if t.kind is TaskKind.HOUSEHOLD_REVIEW]
    if again:
        await decide(handle, again[0])
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    await wait_for(handle, lambda s: s.stage is Stage.AWAITING_INITIATION)
    await _cancel(handle)
    return handle


STORIES: dict[str, Callable[[Harness], Awaitable[Case]]] = {
    "department-issue-refused-again": issue_refused_again,
    "household-mismatch-confirmed": household_mismatch_confirmed,
}


async def record(folder: Path) -> None:
    """Run every story on a time-skipping server and write its history to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=demo_data_converter(), test_server_existing_path=temporal_test_server()
    )
    try:
        for label, story in STORIES.items():
            fakes = FakeDepartments()
            task_queue = f"patched-{uuid.uuid4().hex[:8]}"
            with ThreadPoolExecutor(max_workers=8) as executor:
                async with build_worker(env.client, task_queue, fakes.systems(), executor):
                    harness = Harness(env, fakes, task_queue, load_policy())
                    handle = await asyncio.wait_for(story(harness), timeout=120)
                    history = await handle.fetch_history()
            (folder / f"{label}.json").write_text(history.to_json(), encoding="utf-8")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1])))
