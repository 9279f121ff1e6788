"""``make screenshots`` takes each page at each size from the service run as processes, with
people signed in and made-up cases to show."""

from __future__ import annotations

import struct
from pathlib import Path

from harness.screenshots import SHOTS, SIZES, Shot, take


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


async def test_each_shot_at_each_size(tmp_path: Path) -> None:
    shots = (
        Shot("guide", "/guide"),
        Shot("guide-large", "/guide", display="large.high"),
        Shot("retiree", "/my", user="retiree"),
        Shot("clerk-case", "/clerk/cases/{waiting}", user="clerk-hr"),
    )
    written = await take(tmp_path, shots)
    assert sorted(p.name for p in written) == sorted(
        f"{shot.name}-{size}.png" for shot in shots for size in SIZES
    )
    for path in written:
        size = path.name.removesuffix(".png").rsplit("-", 1)[1]
        assert _png_size(path) == (SIZES[size]["width"], SIZES[size]["height"])
    # The large-text page differs from the standard one.
    assert (tmp_path / "guide-phone.png").read_bytes() != (
        tmp_path / "guide-large-phone.png"
    ).read_bytes()
    # Every page of the site is in the README's set.
    assert {"/", "/guide", "/signin", "/my", "/clerk", "/employer", "/supervisor"} <= {
        shot.path for shot in SHOTS
    }
