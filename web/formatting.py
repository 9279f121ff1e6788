"""How the pages write dates, months and amounts, in the catalogue's words (``my.date`` …)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from domain.months import YearMonth
from domain.timeline import CHINA_TZ
from web.messages import messages


def cn_date(day: date) -> str:
    return messages()("my.date", year=day.year, month=day.month, day=day.day)


def cn_datetime(moment: datetime) -> str:
    """A moment in China's time: the date and the minute."""
    local = moment.astimezone(CHINA_TZ)
    return f"{cn_date(local.date())} {local:%H:%M}"


def cn_month(month: YearMonth) -> str:
    return messages()("my.month", year=month.year, month=month.month)


def yuan(amount: Decimal) -> str:
    """Two decimals, as a pension award or a payout is written."""
    return f"{amount.quantize(Decimal('0.01'))}"


def years(value: Decimal) -> str:
    """Years of contribution without trailing zeros: 30, 15.5."""
    text = f"{value.normalize():f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


FILTERS = {
    "cn_date": cn_date,
    "cn_datetime": cn_datetime,
    "cn_month": cn_month,
    "yuan": yuan,
    "years": years,
}
