"""The public service guide (办事指南) as data: ``web/guide.toml``, its deadlines filled from the
policy so that the guide and the cases never disagree."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from contracts.workflow import ITEM_DEPARTMENT, ItemKey
from domain.policy import Policy

GUIDE = Path(__file__).with_name("guide.toml")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Model):
    name: str
    who: str
    when: str
    text: str


class Basis(_Model):
    notice: str


class GuideItem(_Model):
    key: ItemKey
    who: str
    materials: tuple[str, ...]
    time_limit: str
    basis: tuple[str, ...]
    verified: bool
    note: str

    @property
    def department(self) -> str:
        return ITEM_DEPARTMENT[self.key].value


class Figures(_Model):
    """The policy's figures pages quote outside the guide (months before T)."""

    declaration: int
    check: int
    initiation: int


class Guide(_Model):
    steps: tuple[Step, ...]
    basis: Basis
    items: tuple[GuideItem, ...]
    figures: Figures

    @model_validator(mode="after")
    def _every_item_once(self) -> Guide:
        keys = [item.key for item in self.items]
        if sorted(keys) != sorted(ItemKey) or len(set(keys)) != len(keys):
            raise ValueError(f"{GUIDE.name} must describe each of the nine items once: {keys}")
        unexplained = [item.key.value for item in self.items if not item.verified and not item.note]
        if unexplained:
            raise ValueError(
                f"unverified items need a note saying what is unverified: {unexplained}"
            )
        return self


def policy_figures(policy: Policy) -> dict[str, object]:
    """The policy's figures the guide's ``{placeholders}`` may name."""
    early = policy.early
    figures: dict[str, object] = {
        "declaration": policy.timeline.declaration_months_before,
        "check": policy.timeline.contribution_check_months_before,
        "initiation": policy.timeline.initiation_months_before,
        "special_age_male": early.special_jobs.age_male,
        "special_age_female": early.special_jobs.age_female,
        "illness_age_male": early.illness.age_male,
        "illness_age_female": early.illness.age_female,
    }
    for task, days in policy.clerk_sla.working_days.items():
        figures[f"sla_{task.value.replace('-', '_')}"] = days
    return figures


def load_guide(policy: Policy, path: Path = GUIDE) -> Guide:
    """The guide with the policy's figures in place of its placeholders (a placeholder the
    policy has no figure for is an error here, at start-up, not a blank on the page)."""
    figures = policy_figures(policy)
    with path.open("rb") as file:
        raw = tomllib.load(file)

    def fill(value: object) -> object:
        if isinstance(value, str):
            try:
                return value.format_map(figures)
            except KeyError as exc:
                raise ValueError(f"{path.name}: no policy figure named {exc}") from None
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    filled = fill(raw)
    assert isinstance(filled, dict)  # noqa: S101 - a TOML document is a table
    timeline = {name: figures[name] for name in ("declaration", "check", "initiation")}
    return Guide.model_validate({**filled, "figures": timeline})
