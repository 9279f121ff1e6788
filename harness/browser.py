"""Debian's chromium, driven by Playwright (its own browser download cannot work here): how the
browser tests and ``make screenshots`` start it."""

from __future__ import annotations

import shutil

from playwright.async_api import Browser, Playwright

# Without the background-networking flags chromium keeps trying to reach Google's hosts, which a
# closed network refuses; no sandbox, because the tests may run as root.
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
MISSING = "Debian's chromium is not installed: `make browser` (part of `make test`) installs it"


class ChromiumMissing(RuntimeError):
    pass


async def launch(playwright: Playwright) -> Browser:
    executable = shutil.which("chromium")
    if executable is None:
        raise ChromiumMissing(MISSING)
    return await playwright.chromium.launch(executable_path=executable, args=FLAGS)
