"""Display preferences for older eyes (适老化): large text and high contrast, kept in a cookie so
every page renders with them from the server (no script needed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import Request, Response

COOKIE = "display"
TextSize = Literal["normal", "large"]
Contrast = Literal["normal", "high"]
TEXT_SIZES: tuple[TextSize, ...] = ("normal", "large")
CONTRASTS: tuple[Contrast, ...] = ("normal", "high")
YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Display:
    text: TextSize = "normal"
    contrast: Contrast = "normal"

    @classmethod
    def of(cls, request: Request) -> Display:
        """The caller's preferences; anything unrecognised in the cookie means the default."""
        text, _, contrast = request.cookies.get(COOKIE, "").partition(".")
        return cls(
            text="large" if text == "large" else "normal",
            contrast="high" if contrast == "high" else "normal",
        )

    @property
    def classes(self) -> str:
        """The ``<html>`` classes the style sheet keys on."""
        return " ".join(
            name
            for name, on in (
                ("text-large", self.text == "large"),
                ("contrast-high", self.contrast == "high"),
            )
            if on
        )

    def keep(self, request: Request, response: Response) -> None:
        response.set_cookie(
            COOKIE,
            f"{self.text}.{self.contrast}",
            max_age=YEAR,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
