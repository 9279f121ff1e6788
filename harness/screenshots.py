"""``make screenshots``: each page at a phone's and a desktop's size, taken in Debian's chromium
from the service running as ``make run`` runs it (the dev server and ``uvicorn web.app:app`` as
processes on free ports), into ``docs/screenshots/`` for the README."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import ViewportSize, async_playwright

from harness.browser import launch
from harness.cluster import Cluster, run_stoppable
from harness.scratch import sqlite_database

OUT = Path("docs") / "screenshots"
SIZES: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    display: str = ""  # the display-preference cookie's value, e.g. "large.high"


SHOTS = (
    Shot("home", "/"),
    Shot("guide", "/guide"),
    Shot("guide-large-text", "/guide", display="large.high"),
)


async def take(out: Path, shots: tuple[Shot, ...] = SHOTS) -> list[Path]:
    """Every shot at every size into ``out``: the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="retirement-shots-") as name:
        folder = Path(name)
        with sqlite_database(folder) as url:
            cluster = Cluster(folder, url)
            try:
                cluster.start_server()
                cluster.start_api()
                async with async_playwright() as playwright:
                    browser = await launch(playwright)
                    for shot in shots:
                        for size, viewport in SIZES.items():
                            context = await browser.new_context(
                                base_url=cluster.api_url, locale="zh-CN", viewport=viewport
                            )
                            if shot.display:
                                await context.add_cookies(
                                    [
                                        {
                                            "name": "display",
                                            "value": shot.display,
                                            "url": cluster.api_url,
                                        }
                                    ]
                                )
                            page = await context.new_page()
                            await page.goto(shot.path)
                            target = out / f"{shot.name}-{size}.png"
                            await page.screenshot(path=str(target))  # what the screen shows first
                            written.append(target)
                            await context.close()
                    await browser.close()
            finally:
                cluster.stop()
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m harness.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    for path in run_stoppable(take(args.out)):
        print(path)
    sys.stdout.flush()
    os._exit(0)  # the Temporal SDK can abort the interpreter at exit (docs/engineering.md)


if __name__ == "__main__":
    main()
