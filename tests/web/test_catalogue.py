"""Every text a person sees comes from one place: the catalogue (``web/messages.toml``) or the
guide's data (``web/guide.toml``), never written into a template or the code."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from api.problems import _slug
from contracts.people import Department, Role
from contracts.workflow import (
    Assignee,
    ItemKey,
    ItemStatus,
    Outcome,
    RefusalType,
    Stage,
    Task,
    TaskKind,
)
from domain.plan import RetirementPath
from domain.policy import Category
from policies import load_policy
from web.clerk import NOTICES
from web.consequences import consequence
from web.guide import GUIDE, load_guide
from web.messages import Messages, MissingMessage, messages

WEB = Path(__file__).resolve().parents[2] / "web"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# t("key", …) or t.get("key", …): a whole key; t("prefix." ~ value): keys built at run time.
KEY = re.compile(r"""\bt(?:\.get)?\(\s*["']([a-z0-9_.-]+)["']\s*[,)]""")
DYNAMIC = re.compile(r"""\bt(?:\.get)?\(\s*["']([a-z0-9_.-]+)["']\s*~""")


def _templates() -> list[Path]:
    return sorted((WEB / "templates").glob("*.html"))


def _strings_in_code(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module that a page could show (docstrings are for developers)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


def test_no_template_or_module_writes_chinese_of_its_own() -> None:
    in_templates = [
        f"{path.name}:{n}: {line.strip()}"
        for path in [*_templates(), *sorted((WEB / "static").glob("*.js"))]
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CJK.search(line)
    ]
    in_code = [
        f"{path.name}:{n}: {text}"
        for path in sorted(WEB.glob("*.py"))
        for n, text in _strings_in_code(path)
        if CJK.search(text)
    ]
    assert in_templates + in_code == []
    # The check reads what it should: a Chinese literal in code would be caught.
    assert CJK.search("".join(text for _, text in _strings_in_code(Path(__file__))))


def test_every_key_a_template_names_is_in_the_catalogue() -> None:
    catalogue = messages()
    used = {key for path in _templates() for key in KEY.findall(path.read_text(encoding="utf-8"))}
    assert used, "the pattern found no keys: the check would pass vacuously"
    assert sorted(used - catalogue.known_keys()) == []
    # Keys built from a prefix (``t("item." ~ key)``) must cover every value they are built from.
    prefixes = {p for path in _templates() for p in DYNAMIC.findall(path.read_text("utf-8"))}
    assert {"item.", "department.", "clerk.notice_", "task."} <= prefixes
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in catalogue.known_keys()), prefix


def test_a_missing_key_is_an_error_not_a_blank() -> None:
    with pytest.raises(MissingMessage, match="nope"):
        messages()("nope")
    assert Messages({"a.b": "第{n}项"})("a.b", n=3) == "第3项"


def test_the_guide_names_each_item_once_and_fills_every_placeholder() -> None:
    guide = load_guide(load_policy())
    assert len(guide.items) == 9
    catalogue = messages()
    for item in guide.items:
        assert f"item.{item.key.value}" in catalogue.known_keys()
        assert f"department.{item.department}" in catalogue.known_keys()
        assert "{" not in item.time_limit + item.who


def test_a_placeholder_the_policy_lacks_fails_at_start_up(tmp_path: Path) -> None:
    broken = tmp_path / "guide.toml"
    text = GUIDE.read_text(encoding="utf-8").replace("T 前 {declaration}", "T 前 {declaratoin}")
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="declaratoin"):
        load_guide(load_policy(), broken)


def test_an_item_left_out_fails_at_start_up(tmp_path: Path) -> None:
    broken = tmp_path / "guide.toml"
    text = GUIDE.read_text(encoding="utf-8")
    cut = text.index('[[items]]\nkey = "one-child-reward"')
    end = text.index("[[items]]", cut + 1)
    broken.write_text(text[:cut] + text[end:], encoding="utf-8")
    with pytest.raises(ValueError, match="nine items"):
        load_guide(load_policy(), broken)


def test_the_keys_built_at_run_time_exist() -> None:
    catalogue = messages().known_keys()
    for kind in TaskKind:
        assert f"task.{kind.value}" in catalogue
    for enum, prefix in (
        (Stage, "stage."),
        (ItemKey, "item."),
        (ItemStatus, "item_status."),
        (Outcome, "outcome."),
        (Department, "department."),
        (Department, "department_short."),
        (Role, "role."),
        (Category, "category."),
        (RetirementPath, "path."),
    ):
        missing = [m.value for m in enum if f"{prefix}{m.value}" not in catalogue]
        assert missing == [], prefix
    assert {f"clerk.notice_{n}" for n in NOTICES} <= catalogue
    for slug in (_slug(r.value) for r in RefusalType):
        assert f"problem.{slug}" in catalogue, slug


def test_a_clerk_is_told_what_each_decision_will_do() -> None:
    """Every decision a clerk can make on every task has its consequence in the catalogue."""
    catalogue = messages().known_keys()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    for kind in (k for k in TaskKind if k.clerk_task is not None):
        outcomes = ["approve", "reject"] + (["return"] if kind.returnable else [])
        for department in Department:
            task = Task(
                id="t", kind=kind, title="t", assignee=Assignee.CLERK,
                department=department, opened_at=now,
            )  # fmt: skip
            for stage in (Stage.PRE_REVIEW, Stage.JOINT_HANDLING):
                snapshot = SimpleNamespace(stage=stage)
                for outcome in outcomes:
                    key = consequence(task, outcome, snapshot)  # type: ignore[arg-type]
                    assert key in catalogue, key
