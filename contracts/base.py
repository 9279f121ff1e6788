"""The building blocks of every message: the strict base model and the constrained strings,
numbers and months the contracts are made of."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.months import YearMonth

RegionCode = Annotated[str, Field(pattern=r"^\d{6}$", description="GB/T 2260 region code")]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:@-]+$")]
# Free text people send: no NUL or other control characters but newline and tab (PostgreSQL
# refuses NUL, and no name or reason needs the others).
_PRINTABLE = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
Text = Annotated[str, Field(max_length=2000, pattern=_PRINTABLE)]
Reason = Annotated[str, Field(min_length=1, max_length=2000, pattern=_PRINTABLE)]
Ref = Annotated[str, Field(max_length=200, pattern=_PRINTABLE)]  # evidence, archive pages
Name = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f]*$")]
IdNumber = Annotated[str, Field(pattern=r"^[0-9]{17}[0-9X]$", description="18-digit ID number")]
CaseId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
Years = Annotated[Decimal, Field(ge=0, le=80)]


def _plausible(month: YearMonth) -> YearMonth:
    if not 1900 <= month.year <= 2100:
        raise ValueError(f"{month} is outside 1900..2100")
    return month


Month = Annotated[YearMonth, AfterValidator(_plausible)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
