"""Bounds of what a request may carry (docs/design/limits-before-work.md): an integer or a string outside them is
422, before any route or database sees it. Without them an id of 2^70 (or 2^31 on PostgreSQL's INTEGER keys) or a
time whose nanoseconds overflow a 64-bit column was a 500; a plan name longer than a file name was one too.

``tests/api/test_api_bounds.py`` walks every integer and string of the OpenAPI document out of range."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

# 2200-01-01T00:00:00Z in milliseconds: its nanoseconds (the storage unit) fit a signed 64-bit integer (to 2262).
MAX_MS = 7_258_118_400_000
# Row ids are INTEGER columns (32-bit on PostgreSQL).
MAX_ROW_ID = 2**31 - 1
MAX_ID_CHARS = 64  # camera, district, feeder, site ids (String(64) columns)
MAX_NAME_CHARS = 200  # plan and file names (a file name is at most 255 bytes)

TimeMs = Annotated[int, Field(ge=0, le=MAX_MS, description="UTC milliseconds since 1970 (before 2200)")]
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
CameraId = Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS)]
NameInPath = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS)]
QueryMs = Annotated[int, Query(ge=0, le=MAX_MS, description="UTC milliseconds since 1970 (before 2200)")]
