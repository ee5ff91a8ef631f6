"""The API's OpenAPI document, without a database: ``python -m camgrid.api.openapi_doc web/openapi.json``.

The front end's TypeScript types are generated from the committed ``web/openapi.json`` (``web/scripts/api-types.mjs``);
``tests/api/test_api_types.py`` fails when the routes and the committed document drift apart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.clock import SystemClock
from camgrid.config import load_settings


def openapi_document() -> dict[str, Any]:
    """The document as the app serves it at /api/openapi.json (the routes alone describe it: no database)."""
    ctx = AppContext(settings=load_settings(Path("/nonexistent"), {}), factory=None, clock=SystemClock())  # type: ignore[arg-type]
    return create_app(ctx).openapi()


def openapi_text() -> str:
    """Stable text (sorted keys, one trailing newline) so that the committed file diffs cleanly."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m camgrid.api.openapi_doc OUT.json", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(openapi_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
