"""Numbers and strings are bounded by the schemas (issue 13, finding 10: "out-of-range numbers and long names give
500s"). The test walks the app's own OpenAPI document: every integer of every path, query and body is sent beyond
any 64-bit column (2^63, 2^70, their negatives) and every string long, by a user whose role may call the route (and
the district-scoped one): an integer beyond the bounds is 422, nothing is ever 5xx. A new route or field is walked
without anyone remembering to add it. On PostgreSQL too (``CAMGRID_TEST_BACKEND=postgres``): there an id beyond a
32-bit column is an error that SQLite would not raise. docs/design/limits-before-work.md."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from camgrid.access.policy import allowed
from tests.api.test_api_roles import ROUTE_PERMISSIONS
from tests.api.test_api_schema_fuzz import SCOPED, USERS, make_clients

HUGE = (2**63, 2**70, -(2**63) - 1, -(2**70))
# Longer than a file name in bytes (within the bounds in characters), and longer than any bound in characters.
LONG_PATHS = ("é" * 150, "x" * 4000)
LONG_BODY = "x" * 20_000
METHODS = ("get", "post", "put", "delete")


def deref(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def scalar_type(doc: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """``integer``/``string``/... of a field, looking through ``anyOf`` with null (optional fields)."""
    schema = deref(doc, schema)
    if "type" in schema:
        return str(schema["type"])
    for option in schema.get("anyOf", []):
        option = deref(doc, option)
        if option.get("type") not in (None, "null"):
            return str(option["type"])
    return None


def sample(doc: dict[str, Any], schema: dict[str, Any], name: str = "") -> Any:
    """A valid-looking value of a field (the other fields of a request, while one is pushed out of range)."""
    schema = deref(doc, schema)
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = scalar_type(doc, schema)
    if kind == "integer":
        return 60_000 if name == "step_ms" else 1
    if kind == "number":
        return 0.5
    if kind == "boolean":
        return True
    if kind == "string":
        return "cam-1" if name in ("camera", "camera_id") else "x" * max(3, int(schema.get("minLength", 0)))
    if kind == "array":
        return []
    if kind == "object":
        props = schema.get("properties", {})
        return {k: sample(doc, v, k) for k, v in props.items() if k in schema.get("required", [])}
    return None


def requests(doc: dict[str, Any]) -> list[tuple[str, str, str, str, Any]]:
    """(method, path, where, field, value) for every scalar of every operation pushed out of range."""
    out = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            fields: list[tuple[str, str, dict[str, Any]]] = [
                (p["in"], p["name"], p["schema"]) for p in op.get("parameters", []) if p["in"] in ("path", "query")
            ]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body is not None:
                fields += [("body", k, v) for k, v in deref(doc, body).get("properties", {}).items()]
            for where, name, schema in fields:
                kind = scalar_type(doc, schema)
                values: tuple[Any, ...] = ()
                if kind == "integer":
                    values = HUGE
                elif kind == "string":
                    values = (LONG_BODY,) if where == "body" else LONG_PATHS
                out += [(method.upper(), path, where, name, v) for v in values]
    return out


def send(client: TestClient, doc: dict[str, Any], method: str, path: str, where: str, name: str, value: Any) -> int:
    op = doc["paths"][path][method.lower()]
    params = {p["name"]: (p["in"], sample(doc, p["schema"], p["name"])) for p in op.get("parameters", [])}
    url = path
    query: dict[str, Any] = {}
    for pname, (pin, default) in params.items():
        v = value if (where, name) == (pin, pname) else default
        if pin == "path":
            url = url.replace("{" + pname + "}", str(v))
        elif pin == "query" and (
            pname == name or any(p["name"] == pname and p.get("required") for p in op["parameters"])
        ):
            query[pname] = v
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    body = None
    if schema is not None:
        body = sample(doc, schema)
        if where == "body":
            body[name] = value
    return client.request(method, url, params=query, json=body).status_code


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TestClient]:
    return make_clients(tmp_path_factory.mktemp("bounds"))


def test_out_of_range_numbers_are_422_and_long_strings_never_5xx(clients: dict[str, TestClient]) -> None:
    doc = clients["admin"].get("/api/openapi.json").json()
    failures = []
    walked = 0
    for method, path, where, name, value in requests(doc):
        permission = ROUTE_PERMISSIONS.get((method, path))
        users = [u for u in USERS if permission is None or allowed("operator" if u == SCOPED else u, permission)]
        for user in users[:1] + ([SCOPED] if SCOPED in users[1:] else []):
            status = send(clients[user], doc, method, path, where, name, value)
            walked += 1
            too_big = isinstance(value, int)
            if status >= 500 or (too_big and status != 422):
                failures.append(f"{user}: {method} {path} {where}.{name}={str(value)[:24]} -> {status}")
    assert walked > 100
    assert not failures, "\n".join(failures)


def test_the_walk_covers_ids_and_times() -> None:
    """The walk reaches what the finding named: ids in paths, times in queries and bodies."""
    from tests.api.test_api_schema_fuzz import schema_document

    found = {(m, p, f) for m, p, _, f, _ in requests(schema_document())}
    assert ("GET", "/api/incidents/{incident_id}", "incident_id") in found
    assert ("GET", "/api/cameras/{camera_id}/timeline", "from_ms") in found
    assert ("POST", "/api/holds", "to_ms") in found
    assert any(re.search(r"/api/plans/\{name\}", p) for _, p, _ in found)
