"""Apply the Alembic migrations, configured in code so it works from any working directory and
from an installed package (the scripts ship as package data).

``python -m db.migrate [URL]`` upgrades ``URL``, ``$DATABASE_URL`` or the default SQLite file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from db.session import DEFAULT_DATABASE_URL, make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration with no ini file: the scripts beside this module.

    The URL travels in ``attributes`` rather than as an option, so a password with ``%`` in it
    needs no ini-style escaping.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (the newest by default)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    url = args[0] if args else os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    upgrade(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
