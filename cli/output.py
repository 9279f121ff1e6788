"""Printing for the CLI: aligned tables for people, JSON for scripts."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import IO, Any

from domain.months import YearMonth


def to_jsonable(value: Any) -> Any:
    """Dates and months as ISO text, Decimals as numbers (exact for the fen amounts we print)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | YearMonth):
        return str(value) if isinstance(value, YearMonth) else value.isoformat()
    return value


def print_json(value: Any, out: IO[str]) -> None:
    json.dump(to_jsonable(value), out, ensure_ascii=False, indent=2)
    out.write("\n")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    plain = to_jsonable(value)
    return str(plain)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: IO[str]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([_width(h), *(_width(row[i]) for row in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True))

    out.write(line(headers).rstrip() + "\n")
    out.write(line(["-" * w for w in widths]).rstrip() + "\n")
    for row in cells:
        out.write(line(row).rstrip() + "\n")


def print_pairs(pairs: Sequence[tuple[str, Any]], out: IO[str]) -> None:
    """A two-column "field: value" listing for a single result."""
    width = max(_width(k) for k, _ in pairs)
    for key, value in pairs:
        out.write(f"{key}{' ' * (width - _width(key))}  {_cell(value)}\n")
