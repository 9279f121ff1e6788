"""The policy in force, as an activity."""

from __future__ import annotations

from temporalio import activity

from domain.policy import Policy
from policies import load_policy


@activity.defn(name="policy.load")
def load_current_policy() -> Policy:
    """The policy in force, read where the worker runs: the workflow may not read files, and
    recording the policy in history keeps replays exact after the file changes."""
    return load_policy()
