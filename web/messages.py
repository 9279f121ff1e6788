"""The message catalogue: every text a page shows, by key, from ``web/messages.toml``."""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).with_name("messages.toml")


class MissingMessage(KeyError):
    """A page asked for a key the catalogue lacks: a bug to fix in the catalogue or the page."""


class Messages:
    """``messages("guide.title")`` → the text; ``{placeholders}`` filled from keyword values."""

    def __init__(self, entries: Mapping[str, str]) -> None:
        self._entries = dict(entries)

    @classmethod
    def load(cls, path: Path = CATALOGUE) -> Messages:
        with path.open("rb") as file:
            return cls(_flatten(tomllib.load(file)))

    def known_keys(self) -> set[str]:
        return set(self._entries)

    def __call__(self, key: str, **values: object) -> str:
        try:
            text = self._entries[key]
        except KeyError:
            raise MissingMessage(f"no message {key!r} in {CATALOGUE.name}") from None
        return text.format_map(values) if values else text

    def get(self, key: str, default: str) -> str:
        """The text of ``key``, or ``default`` for a value the catalogue does not name (a role
        or result another system wrote into the audit log)."""
        return self._entries.get(key, default)

    def placeholders(self, key: str) -> set[str]:
        """The ``{names}`` the message ``key`` expects."""
        return {name for _, name, _, _ in string.Formatter().parse(self(key)) if name}


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{key}."))
        elif isinstance(value, str):
            flat[key] = value
        else:
            raise TypeError(f"{CATALOGUE.name}: {key} is {type(value).__name__}, not text")
    return flat


@cache
def messages() -> Messages:
    """The catalogue, read once."""
    return Messages.load()
