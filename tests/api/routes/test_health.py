"""``api/routes/health.py``: ``GET /health`` says whether the database and Temporal answer."""

from __future__ import annotations

import httpx

from api.app import create_app
from db.session import make_engine, make_sessionmaker
from tests.api.conftest import Api


async def test_health(api: Api) -> None:
    response = await api.http.get("/health")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_health_is_503_when_the_database_is_down(api: Api) -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    app = create_app(api.settings, client=api.env.client, sessions=make_sessionmaker(engine))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                response = await http.get("/health")
    finally:
        engine.dispose()
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"].startswith("unavailable")
    assert body["temporal"] == "ok"
