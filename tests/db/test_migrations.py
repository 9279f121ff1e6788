"""The migrations create exactly the models' schema, from any working directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, inspect

from db.migrate import MIGRATIONS, alembic_config, upgrade
from db.models import Base


def _differences(engine: Engine, metadata: MetaData) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_upgrade_head_matches_the_models(engine: Engine) -> None:
    assert _differences(engine, Base.metadata) == []


def test_the_comparison_would_see_a_difference(engine: Engine) -> None:
    # Guard against a vacuous pass: against empty metadata every table is "to be removed".
    removed = {
        diff[1].name for diff in _differences(engine, MetaData()) if diff[0] == "remove_table"
    }
    assert removed == set(Base.metadata.tables)


def test_database_is_at_the_single_head(engine: Engine) -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(heads)


def test_upgrade_again_from_another_directory_is_a_no_op(
    database_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    upgrade(database_url)
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran


def test_the_scripts_ship_with_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert any(MIGRATIONS.glob("versions/0001_*.py"))
