"""One long-running workflow per retiree: the whole joint process, T-6 months to the first pension.

The run method walks the stages in order (declaration, pre-review, contribution check,
initiation, joint handling); each stage opens tasks and waits for the people who must act. Those
people act through Updates (validated before anything is written to history) or, for tooling
that can only signal, a de-duplicated decision Signal. Two helper coroutines run beside the
stages: the timekeeper (reminders, escalations, clerks' working-day deadlines) and the projector
(the read model in the database, search attributes and the details shown in the Temporal UI).

The class composes the parts, each in a module of its own, all sharing one state object:

- ``workflows.state`` — ``State``: everything the case knows, its bookkeeping, its snapshot, and
  what crosses continue-as-new (``State.carried`` / ``State.from_carried``);
- ``workflows.stages`` — declaration to initiation; ``workflows.joint`` — joint handling and
  the four departments' branches;
- ``workflows.steps`` — the department step runner and the clerk-task helper;
- ``workflows.timekeeping`` and ``workflows.projection`` — the two helper coroutines;
- ``workflows.updates`` — the Updates, the Signal and the queries, with ``workflows.checks``.

Composition throughout, except the handlers: Temporal finds Updates, Signals and Queries only
as decorated methods of the workflow class or of its bases, so they are the one base class
(``CaseHandlers``); it touches nothing but ``self.state``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.workflow import CaseInput, CaseOutcome, Stage


from workflows.joint import JointHandling
from workflows.projection import Projector
from workflows.stages import Stages
from workflows.state import State
from workflows.steps import Steps
from workflows.timekeeping import Timekeeper
from workflows.updates import CaseHandlers

__all__ = ["RetirementCase"]


@workflow.defn
class RetirementCase(CaseHandlers):
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        carried = input.state
        # The one state object: every part below holds it, and it is never replaced.
        self.state = State.fresh(input) if carried is None else State.from_carried(input, carried)
        self.steps = Steps(self.state)
        self.stages = Stages(self.state, self.steps)
        self.joint = JointHandling(self.state, self.steps)
        self.timekeeper = Timekeeper(self.state, self.steps)
        self.projector = Projector(self.state)

    @workflow.run
    async def run(self, input: CaseInput) -> CaseOutcome:
        state = self.state
        timekeeper = asyncio.create_task(self.timekeeper.keep_time())
        projector = asyncio.create_task(self.projector.keep_projection())
        stages: dict[Stage, Callable[[], Awaitable[None]]] = {
            Stage.AWAITING_DECLARATION: self.stages.awaiting_declaration,
            Stage.DECLARATION: self.stages.declaration,
            Stage.PRE_REVIEW: self.stages.pre_review,
            Stage.CONTRIBUTION_CHECK: self.stages.contribution_check,
            Stage.AWAITING_INITIATION: self.stages.awaiting_initiation,
            Stage.JOINT_HANDLING: self.joint.stage,
        }
        while not state.stage.terminal:
            if (
                workflow.info().is_continue_as_new_suggested()
                and state.stage is not Stage.JOINT_HANDLING
            ):
                await self._drain(timekeeper, projector)
                workflow.continue_as_new(state.carry_over())
            await stages[state.stage]()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._drain(timekeeper, projector)
        return state.outcome()

    async def _drain(self, *helpers: asyncio.Task[None]) -> None:
        """Stop the timekeeper and let the projector write the final state."""
        self.state.draining = True
        await asyncio.gather(*helpers)
