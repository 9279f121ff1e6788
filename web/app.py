"""The whole HTTP service: the JSON API (``api.app``) with the pages beside it.

``uvicorn web.app:app`` serves both; the API's routes, schema and behaviour are exactly
``api.app.create_app``'s, the pages add routes outside the schema and ``/static``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.app import create_app as create_api
from policies import load_policy
from service.settings import Settings
from web import clerk, counter, employer, public, retiree, signin, supervisor
from web.guide import load_guide
from web.rendering import STATIC, STATIC_URL, environment


def create_app(
    settings: Settings | None = None,
    *,
    client: Client | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> FastAPI:
    """The API and the pages; tests pass their own Temporal client and database sessions."""
    app = create_api(settings, client=client, sessions=sessions)
    app.state.guide = load_guide(load_policy())
    environment()  # the templates' environment and the catalogue, read now: errors at start-up
    for pages in (public, signin, retiree, clerk, counter, employer, supervisor):
        app.include_router(pages.router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="static")
    return app


def __getattr__(name: str) -> Any:
    # ``uvicorn web.app:app`` builds the app on first access, with settings from the environment.
    if name == "app":
        return create_app()
    raise AttributeError(name)
