"""Reading and writing camera files (CSV, GeoJSON).

Parsing is separate from applying: :func:`parse_camera_file` returns every valid row and every error as
``FILE:ROW: reason``; the caller imports only when there are no errors, which makes an import atomic.
Row numbers are file lines for CSV (the header is row 1) and feature numbers (from 1) for GeoJSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from camgrid.registry.schemas import CameraIn

REQUIRED = ("id", "name", "lat", "lon", "district", "site", "feeder", "uplink", "rtsp_url")
OPTIONAL = (
    "username",
    "password",
    "heading_deg",
    "fov_deg",
    "range_m",
    "sub_rtsp_url",
    "transport",
    "onvif_url",
    "street",
)
COLUMNS = REQUIRED + OPTIONAL
# Read and ignored: what ``camgrid cameras discover`` notes about each camera it proposes (maker, streams, clock),
# so its file imports as it is once the admin has completed it.
INFORMATIONAL = ("notes",)
MAX_ROWS = 1_000_000
MAX_FIELD = 4096


@dataclass
class ParseResult:
    rows: list[CameraIn] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "row"
        msg = str(err["msg"]).removeprefix("Value error, ")
        # Never echo a password back; other inputs are short and help the operator.
        if loc == "password" or err["type"] in ("extra_forbidden",):
            parts.append(f"{loc}: {msg}")
        elif (
            "input" in err
            and loc not in ("rtsp_url", "sub_rtsp_url", "onvif_url")
            and isinstance(err["input"], str | int | float)
        ):
            parts.append(f"{loc}: {msg} (got {str(err['input'])[:60]!r})")
        else:
            parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def _clean(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in INFORMATIONAL:
            continue
        if isinstance(value, str):
            value = value.strip()
            if value == "" and key in OPTIONAL:
                continue
        out[key] = value
    return out


def _validate_rows(name: str, items: Iterable[tuple[int, dict[str, Any]]], result: ParseResult) -> None:
    first_seen: dict[str, int] = {}
    for row_no, raw in items:
        try:
            cam = CameraIn.model_validate(_clean(raw))
        except ValidationError as exc:
            result.errors.append(f"{name}:{row_no}: {_describe(exc)}")
            continue
        if cam.id in first_seen:
            result.errors.append(f"{name}:{row_no}: duplicate id {cam.id!r} (first on row {first_seen[cam.id]})")
            continue
        first_seen[cam.id] = row_no
        result.rows.append(cam)


def _decode(name: str, data: bytes, result: ParseResult) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        result.errors.append(f"{name}:{line}: not valid UTF-8 (byte {exc.start}); save the file as UTF-8")
        return None


def _parse_csv(name: str, text: str, result: ParseResult) -> None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        result.errors.append(f"{name}:1: empty file: expected a header with {', '.join(REQUIRED)}")
        return
    except csv.Error as exc:
        result.errors.append(f"{name}:1: unreadable header: {exc}")
        return
    cols = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in cols]
    unknown = [c for c in cols if c not in COLUMNS and c not in INFORMATIONAL]
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if missing or unknown or dupes:
        why = []
        if missing:
            why.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            why.append(f"unknown column(s) {', '.join(unknown)}")
        if dupes:
            why.append(f"repeated column(s) {', '.join(dupes)}")
        result.errors.append(f"{name}:1: {'; '.join(why)}")
        return

    def rows() -> Iterable[tuple[int, dict[str, Any]]]:
        count = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                result.errors.append(f"{name}:{reader.line_num}: malformed CSV: {exc}")
                return
            line = reader.line_num
            if not values or all(not v.strip() for v in values):
                continue
            count += 1
            if count > MAX_ROWS:
                result.errors.append(f"{name}:{line}: more than {MAX_ROWS} rows; split the file")
                return
            if len(values) != len(cols):
                result.errors.append(f"{name}:{line}: {len(values)} fields, the header has {len(cols)}")
                continue
            if any(len(v) > MAX_FIELD for v in values):
                result.errors.append(f"{name}:{line}: a field is longer than {MAX_FIELD} characters")
                continue
            yield line, dict(zip(cols, values, strict=True))

    _validate_rows(name, rows(), result)
    if not result.rows and not result.errors:
        result.errors.append(f"{name}:2: no camera rows after the header")


def _parse_geojson(name: str, text: str, result: ParseResult) -> None:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        result.errors.append(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}")
        return
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        result.errors.append(f"{name}:1: expected a GeoJSON FeatureCollection")
        return
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        result.errors.append(f"{name}:1: the FeatureCollection has no features")
        return
    if len(features) > MAX_ROWS:
        result.errors.append(f"{name}:1: more than {MAX_ROWS} features; split the file")
        return

    def rows() -> Iterable[tuple[int, dict[str, Any]]]:
        for i, feat in enumerate(features, start=1):
            geom = feat.get("geometry") if isinstance(feat, dict) else None
            props = feat.get("properties") if isinstance(feat, dict) else None
            coords = geom.get("coordinates") if isinstance(geom, dict) else None
            if not isinstance(geom, dict) or geom.get("type") != "Point" or not isinstance(coords, list):
                result.errors.append(f"{name}:{i}: feature must be a Point")
                continue
            if len(coords) < 2 or not all(isinstance(c, int | float) for c in coords[:2]):
                result.errors.append(f"{name}:{i}: Point needs [lon, lat] numbers")
                continue
            if not isinstance(props, dict):
                result.errors.append(f"{name}:{i}: feature has no properties")
                continue
            unknown = [k for k in props if (k not in COLUMNS and k not in INFORMATIONAL) or k in ("lat", "lon")]
            if unknown:
                result.errors.append(f"{name}:{i}: unknown properties {', '.join(map(str, unknown))}")
                continue
            raw = {k: ("" if v is None else v) for k, v in props.items()}
            raw["lon"], raw["lat"] = coords[0], coords[1]
            yield i, raw

    _validate_rows(name, rows(), result)


def parse_camera_file(path: Path) -> ParseResult:
    """Parse a CSV or GeoJSON camera file; never raises for bad content."""
    result = ParseResult()
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        result.errors.append(f"{name}:0: cannot read: {exc.strerror}")
        return result
    text = _decode(name, data, result)
    if text is None:
        return result
    if not text.strip():
        result.errors.append(f"{name}:1: empty file")
        return result
    if path.suffix.lower() in (".geojson", ".json") or text.lstrip().startswith("{"):
        _parse_geojson(name, text, result)
    else:
        _parse_csv(name, text, result)
    return result


def write_csv(rows: Sequence[dict[str, Any]], out: io.TextIOBase | Any, *, with_secrets: bool = False) -> None:
    """Write cameras as CSV in the import format (no passwords unless ``with_secrets``)."""
    cols = [c for c in COLUMNS if with_secrets or c != "password"]
    writer = csv.DictWriter(out, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in cols})


def to_geojson(rows: Sequence[dict[str, Any]], *, with_secrets: bool = False) -> dict[str, Any]:
    feats = []
    hidden = ("lat", "lon") if with_secrets else ("lat", "lon", "password")
    for row in rows:
        props = {k: row.get(k) for k in COLUMNS if k not in hidden}
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": feats}
