"""The message templates (``templates.toml``): a kind and its facts become the Chinese title and
text people read."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates.toml")
SPECS = ("date", "month", "word", "")


class TemplateError(ValueError):
    """A kind without a template, or a fact its template needs that was not given."""


@dataclass(frozen=True)
class Rendered:
    title: str
    text: str


class Templates:
    """``templates.render("reminder", {"milestone": "declaration", "due": "2027-03-15"})``."""

    def __init__(self, kinds: Mapping[str, Mapping[str, str]], words: Mapping[str, str], sign: str):
        self._kinds = {kind: dict(parts) for kind, parts in kinds.items()}
        self._words = dict(words)
        self.sms_sign = sign
        for kind, parts in self._kinds.items():
            if set(parts) != {"title", "text"}:
                raise TemplateError(f"template {kind!r} needs a title and a text, no more")
            for part in parts.values():
                for _, name, spec, _ in string.Formatter().parse(part):
                    if name is not None and (not name.isidentifier() or spec not in SPECS):
                        raise TemplateError(f"template {kind!r}: {{{name}:{spec}}} is not a blank")

    @classmethod
    def load(cls, path: Path = TEMPLATES) -> Templates:
        with path.open("rb") as file:
            data = tomllib.load(file)
        return cls(data["kinds"], data["words"], data["sms"]["sign"])

    @property
    def kinds(self) -> set[str]:
        return set(self._kinds)

    def blanks(self, kind: str) -> set[str]:
        """The facts the kind's template needs."""
        return {
            name
            for part in self._template(kind).values()
            for _, name, _, _ in string.Formatter().parse(part)
            if name
        }

    def render(self, kind: str, facts: Mapping[str, str]) -> Rendered:
        parts = self._template(kind)
        missing = self.blanks(kind) - set(facts)
        if missing:
            raise TemplateError(f"template {kind!r} needs {', '.join(sorted(missing))}")
        values = {name: _Fact(value, self._words) for name, value in facts.items()}
        return Rendered(parts["title"].format_map(values), parts["text"].format_map(values))

    def sms(self, rendered: Rendered) -> str:
        """The text as an SMS: the sender's sign first, as the SMS platform requires."""
        return f"{self.sms_sign}{rendered.text}"

    def _template(self, kind: str) -> dict[str, str]:
        try:
            return self._kinds[kind]
        except KeyError:
            raise TemplateError(f"no template for {kind!r}") from None


class _Fact:
    """A fact as a blank writes it: ``{due:date}``, ``{month:month}``, ``{what:word}``."""

    def __init__(self, value: str, words: Mapping[str, str]) -> None:
        self._value, self._words = value, words

    def __format__(self, spec: str) -> str:
        if spec == "date":
            day = date.fromisoformat(self._value)
            return f"{day.year}年{day.month}月{day.day}日"
        if spec == "month":
            year, month = self._value.split("-")
            return f"{int(year)}年{int(month)}月"
        if spec == "word":
            return self._words.get(self._value, self._value)
        return self._value


@cache
def templates() -> Templates:
    return Templates.load()
