"""The API is typed: every route declares its body, the API speaks milliseconds, the committed OpenAPI document
(from which the front end's types are generated) is the app's, and the hand-serialised camera list matches the
schema it declares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.api.openapi_doc import openapi_document, openapi_text, with_route_table
from camgrid.api.schemas import CameraColumns, CameraOut, Timeline
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import CameraState, GapReason
from tests.backends import backend_env
from tests.seeding import SEED, seed_log

WEB = Path(__file__).resolve().parents[2] / "web"
# downloads: an export clip or package, the audit log, a CSV report
MEDIA = {"video/mp4", "application/zip", "text/csv", "image/jpeg"}
# Mutation routes another change rewrites into service calls (issue 12): they get their response models there
# (the models exist: Me, ExportOut, HoldOut, MaskOut, SuggestionDecision, Accepted). Remove an entry when it lands.
PENDING: set[tuple[str, str]] = set()  # routes allowed to stay untyped: none


def _untyped(schema: dict[str, Any]) -> bool:
    """An empty schema, a bare object (what FastAPI makes of ``-> dict[str, Any]``) or a list of either."""
    if schema.get("type") == "array":
        return _untyped(schema.get("items", {}))
    return not schema or (schema.get("type") == "object" and "properties" not in schema and "$ref" not in schema)


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def test_every_route_declares_a_typed_body() -> None:
    doc = openapi_document()
    untyped = []
    for method, path, op in _operations(doc):
        ok = {c: r for c, r in op["responses"].items() if c.startswith("2")}
        assert len(ok) == 1, (method, path, list(ok))
        (code, response), *_ = ok.items()
        content = response.get("content", {})
        if code == "204" or MEDIA & set(content):
            continue
        schema = content.get("application/json", {}).get("schema", {})
        if _untyped(schema) != ((method, path) in PENDING):
            untyped.append(f"{method.upper()} {path}")
    assert not untyped, f"untyped (or typed but still listed in PENDING): {untyped}"


def _keys(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [k for k in node.get("properties", {})]
        out += [p["name"] for p in node.get("parameters", []) if isinstance(p, dict) and "name" in p]
        return out + [k for v in node.values() for k in _keys(v)]
    if isinstance(node, list):
        return [k for v in node for k in _keys(v)]
    return []


def test_the_api_speaks_milliseconds() -> None:
    """No ``*_ns`` field or parameter anywhere: nanoseconds since 1970 exceed JavaScript's safe integers."""
    nanos = sorted({k for k in _keys(openapi_document()) if k.endswith("_ns")})
    assert nanos == []


def test_committed_openapi_document_is_the_apps() -> None:
    """web/openapi.json (from which web/src/api-types.ts is generated at build time) must be regenerated and
    committed with any change of a route or a response model."""
    committed = (WEB / "openapi.json").read_text() if (WEB / "openapi.json").is_file() else ""
    assert committed == openapi_text(), "run: python -m camgrid.api.openapi_doc web/openapi.json && npm run gen:api"


def test_bodies_match_their_declared_schemas(tmp_path: Path) -> None:
    """Real bodies, validated by the models the document declares: the hand-serialised columnar camera list too."""
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    with unit_of_work(factory) as s:
        rows = [
            CameraIn(
                id=f"cam-{i}",
                name=f"c{i}",
                lat=27.69,
                lon=85.31 + i / 1000,
                district="D-1",
                site="S-1",
                feeder="F-1",
                uplink="U-1",
                rtsp_url=f"rtsp://10.0.0.{i}/s",
                heading_deg=359.6 if i == 1 else None,
                fov_deg=62.4 if i == 1 else None,
                range_m=40.0 if i == 1 else None,
            )
            for i in (1, 2)
        ]
        registry.import_cameras(session=s, rows=rows, now_ns=0, audit=log, actor=SEED)
    with unit_of_work(factory) as s:  # one audited action per unit of work (SQLite: the log commits on its own)
        access.create_user(
            session=s,
            username="op",
            password="pw-123456789",
            role="operator",
            districts=None,
            now_ns=0,
            audit=log,
            actor=SEED,
        )
    ctx = AppContext(settings=settings, factory=factory, clock=SystemClock())
    ctx.states.set("cam-2", CameraState.OFFLINE, GapReason.UNREACHABLE, 5_000_000)
    client = TestClient(create_app(ctx))
    assert client.post("/api/auth/login", json={"username": "op", "password": "pw-123456789"}).status_code == 200
    cols = CameraColumns.model_validate_json(client.get("/api/cameras").content, strict=False)
    assert cols.id == ["cam-1", "cam-2"] and cols.state == ["unknown", "offline"] and cols.since_ms == [None, 5]
    assert cols.reason == ["", "unreachable"] and cols.count == 2
    # The map's view cones: whole degrees and metres (a heading of 359.6 wraps to 0), null where unknown.
    assert (cols.heading_deg, cols.fov_deg, cols.range_m) == ([0, None], [62, None], [40, None])
    assert CameraOut.model_validate(client.get("/api/cameras/cam-2").json()).since_ms == 5
    timeline = client.get("/api/cameras/cam-1/timeline", params={"from_ms": 0, "to_ms": 1000})
    assert Timeline.model_validate(timeline.json()) == Timeline(segments=[], gaps=[])


def test_websocket_messages_are_in_the_document() -> None:
    schemas = openapi_document()["components"]["schemas"]
    assert {"CameraEvent", "IncidentEvent", "Hello", "LiveCodec", "LiveOrigin", "LiveOffline"} <= set(schemas)
    assert json.dumps(schemas["CameraEvent"]).count("GapReason") == 1


def test_the_design_note_lists_every_route() -> None:
    """docs/design/control-room-api.md embeds the route table generated from the app: a new or changed route
    (path, permission, body) fails here until the note is regenerated."""
    note = (WEB.parent / "docs" / "design" / "control-room-api.md").read_text()
    assert with_route_table(note) == note, (
        "run: python -m camgrid.api.openapi_doc --routes docs/design/control-room-api.md"
    )
