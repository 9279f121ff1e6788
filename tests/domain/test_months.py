from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from domain.months import YearMonth, add_months

months = st.builds(YearMonth, st.integers(1900, 2100), st.integers(1, 12))


def test_parse_and_print() -> None:
    assert YearMonth.parse("2026-08") == YearMonth(2026, 8)
    assert str(YearMonth(2026, 8)) == "2026-08"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-8", "26-08", "2026/08", "", "x"])
def test_parse_refuses_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="month"):
        YearMonth.parse(text)


def test_month_edges() -> None:
    assert YearMonth(2024, 2).last_day() == date(2024, 2, 29)
    assert YearMonth(2026, 2).last_day() == date(2026, 2, 28)
    assert YearMonth(2026, 12).plus(1) == YearMonth(2027, 1)
    assert YearMonth(2027, 1).minus(13) == YearMonth(2025, 12)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


@given(months, st.integers(-1200, 1200))
def test_plus_minus_round_trip(month: YearMonth, n: int) -> None:
    assert month.plus(n).minus(n) == month
    assert month.plus(n).months_since(month) == n
    assert (month.plus(n) > month) == (n > 0)


def test_pydantic_round_trip() -> None:
    class Holder(BaseModel):
        month: YearMonth

    held = Holder.model_validate_json('{"month": "1965-01"}')
    assert held.month == YearMonth(1965, 1)
    assert held.model_dump_json() == '{"month":"1965-01"}'
    assert Holder.model_json_schema()["properties"]["month"]["type"] == "string"
    with pytest.raises(ValidationError, match="YYYY-MM"):
        Holder.model_validate_json('{"month": "1965-1"}')
