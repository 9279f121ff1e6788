"""``/docs`` works on a network with no internet: Swagger UI's files are the project's own
(``api/static/swagger-ui/VENDORED.md``), unchanged from the release it names."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from api.app import SWAGGER_UI
from tests.api.conftest import Api

HASH = re.compile(r"`([\w.-]+)` ([0-9a-f]{64})")


async def test_docs_loads_only_files_of_this_service(api: Api) -> None:
    page = await api.http.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
    assert urls, page.text
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "validatorUrl" in page.text  # no badge that asks validator.swagger.io
    for asset, kind in (
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "text/css"),
        ("favicon-32x32.png", "image/png"),
    ):
        served = await api.http.get(f"/docs/assets/{asset}")
        assert served.status_code == 200 and kind in served.headers["content-type"]
    assert (await api.http.get("/redoc")).status_code == 404  # its page, too, needed a CDN


def test_the_vendored_files_are_the_release_named() -> None:
    written = dict(HASH.findall((SWAGGER_UI / "VENDORED.md").read_text(encoding="utf-8")))
    assert set(written) == {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}
    for name, digest in written.items():
        assert hashlib.sha256(Path(SWAGGER_UI / name).read_bytes()).hexdigest() == digest, name
