from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.idcard import InvalidIdNumber, mask, parse_id_number, upgrade_15_to_18
from domain.policy import Gender
from tests.support.people import fixed_id_number

TODAY = date(2026, 11, 28)


def test_published_examples() -> None:
    first = parse_id_number("11010519491231002X", TODAY)
    assert (first.birth_date, first.gender, first.region_code) == (
        date(1949, 12, 31),
        Gender.FEMALE,
        "110105",
    )
    second = parse_id_number("34052419800101001x", TODAY)  # lowercase x accepted
    assert second.number == "34052419800101001X"
    assert (second.birth_date, second.gender) == (date(1980, 1, 1), Gender.MALE)


def test_legacy_15_digit_number_is_upgraded() -> None:
    assert upgrade_15_to_18("110105491231002") == "11010519491231002X"
    parsed = parse_id_number("110105491231002", TODAY)
    assert parsed.number == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1101051949123100", "length"),
        ("11010519491231002XX", "length"),
        ("1101051949123100AX", "characters"),
        ("X1010519491231002X", "characters"),
        ("990105194912310025", "region"),
        ("110105194902300024", "birth-date"),  # 1949-02-30
        ("110105189901010010", "birth-date"),  # before 1900
        ("110105194912310021", "check-character"),
    ],
)
def test_each_failure_has_its_own_reason(number: str, code: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(number, TODAY)
    assert caught.value.code == code
    assert str(caught.value)


def test_future_birth_date() -> None:
    number = fixed_id_number(date(2026, 12, 1), region="220102")  # sequence 001
    with pytest.raises(InvalidIdNumber, match="in the future"):
        parse_id_number(number, TODAY)
    assert parse_id_number(number, date(2026, 12, 1)).birth_date == date(2026, 12, 1)


def test_mask_hides_birth_date() -> None:
    assert mask("11010519491231002X") == "1101**********002X"


provinces = st.sampled_from(["11", "22", "34", "44", "65", "82"])
births = st.dates(date(1900, 1, 1), TODAY)


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, date, Gender]:
    region = draw(provinces) + draw(st.text("0123456789", min_size=4, max_size=4))
    born = draw(births)
    sequence = draw(st.integers(0, 999))
    gender = Gender.MALE if sequence % 2 else Gender.FEMALE
    number = fixed_id_number(born, sequence // 2, female=gender is Gender.FEMALE, region=region)
    return number, born, gender


@given(id_numbers())
def test_round_trip(case: tuple[str, date, Gender]) -> None:
    number, born, gender = case
    parsed = parse_id_number(number, TODAY)
    assert (parsed.number, parsed.birth_date, parsed.gender) == (number, born, gender)
    if number[17] == "X":
        assert parse_id_number(number.lower(), TODAY).number == number


@given(id_numbers(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_every_single_character_corruption_is_caught(
    case: tuple[str, date, Gender], position: int, replacement: str
) -> None:
    number = case[0]
    if number[position] == replacement:
        return
    corrupted = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(corrupted, TODAY)


@given(id_numbers())
def test_legacy_numbers_of_the_1900s_upgrade_to_the_same_number(
    case: tuple[str, date, Gender],
) -> None:
    number, born, _ = case
    if born.year // 100 != 19:
        return
    legacy = number[:6] + number[8:17]
    assert upgrade_15_to_18(legacy) == number
