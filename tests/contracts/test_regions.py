"""Who covers which region: one rule (``contracts.people.region_prefix``), which the Python checks
and the read model's SQL filter must apply alike."""

from __future__ import annotations

import pytest
from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from api.queries import region_filter
from contracts.people import region_covers, region_prefix

CODES = ["220000", "220100", "220102", "220104", "220200", "220202", "210102", "220110"]


class _Base(DeclarativeBase):
    pass


class _Row(_Base):
    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)


@pytest.mark.parametrize(
    ("actor", "prefix"), [("220000", "22"), ("220100", "2201"), ("220102", "220102")]
)
def test_province_city_and_county(actor: str, prefix: str) -> None:
    assert region_prefix(actor) == prefix


def test_python_and_sql_cover_the_same_regions() -> None:
    engine = create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(_Row(code=code) for code in CODES)
        session.commit()
        for actor in CODES:
            in_sql = set(session.scalars(select(_Row.code).where(region_filter(_Row.code, actor))))
            in_python = {code for code in CODES if region_covers(actor, code)}
            assert in_sql == in_python, actor
    assert {c for c in CODES if region_covers("220100", c)} == {
        "220100",
        "220102",
        "220104",
        "220110",
    }
    assert not region_covers("220102", "220104")
