"""Every route's unit of work commits before its response is sent (docs/design/services-own-invariants.md,
Caveats): FastAPI runs the code after a dependency's ``yield`` after the response unless the dependency is declared
``scope="function"``, and a client that re-reads right after a write (the planner screen after an import) would then
see the old rows, or a 200 for a commit that then failed. The walk covers every router of ``camgrid.api`` and the
app's own routes, so a new route is checked too."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute

import camgrid.api
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.api.deps import db
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade
from tests.backends import backend_env


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    home: Path = tmp_path_factory.mktemp("uow")
    settings = load_settings(home, backend_env(home))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    ctx = AppContext(settings=settings, factory=session_factory(engine), clock=SystemClock())
    yield create_app(ctx)
    if ctx.audit is not None:
        ctx.audit.close()
    engine.dispose()


def routes(app: FastAPI) -> Iterator[APIRoute | APIWebSocketRoute]:
    """The app's own routes and those of every ``router`` in ``camgrid.api``'s modules."""
    holders: list[object] = [app]
    for info in pkgutil.iter_modules(camgrid.api.__path__):
        router = getattr(importlib.import_module(f"camgrid.api.{info.name}"), "router", None)
        if isinstance(router, APIRouter):
            holders.append(router)
    for holder in holders:
        for route in getattr(holder, "routes", []):
            if isinstance(route, APIRoute | APIWebSocketRoute):
                yield route


def db_uses(dependant: Dependant) -> Iterator[Dependant]:
    """Every use of the ``db`` dependency in a route's dependency tree."""
    for sub in dependant.dependencies:
        if sub.call is db:
            yield sub
        yield from db_uses(sub)


def test_every_route_commits_before_its_response_is_sent(app: FastAPI) -> None:
    uses = 0
    late: list[str] = []
    for route in routes(app):
        for dep in db_uses(route.dependant):
            uses += 1
            if dep.scope != "function":
                late.append(f"{sorted(getattr(route, 'methods', None) or ['WS'])} {route.path}")
    assert uses >= 50, "the walk found too few routes with a database session: is it still walking them?"
    assert late == [], f"routes whose commit would run after the response: {late}"
