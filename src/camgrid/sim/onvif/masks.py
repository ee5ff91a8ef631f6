"""Media2 privacy masks on the simulated cameras (ONVIF Media2 Service Specification, ver20 media WSDL).

GetMaskOptions, GetMasks, CreateMask, SetMask and DeleteMask, only on models whose traits say ``masks``; anyone who
logs in may change them (an admin behind camgrid's back is just another client). Polygons are ONVIF normalised
coordinates (-1..1, y up), bounded in count and points. The camera really burns its enabled masks into the video
it serves (:mod:`camgrid.sim.masked_clips`), from its next loop boundary; the ``mask_tamper`` fault stops that while
GetMasks still lists them (the camera's word is not proof).
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

from camgrid.sim.masked_clips import DEFAULT_COLOR, MAX_MASKS, MAX_POINTS, MaskBurner, SimMask
from camgrid.sim.onvif.media import VIDEO_SOURCE_CONFIG
from camgrid.sim.onvif.soap import NS, Call, SoapFault, operation
from camgrid.sim.server import CameraState, SimServer

if TYPE_CHECKING:
    from lxml.etree import _Element as XmlElement  # lxml's element type (what etree.fromstring returns)

YCBCR = "http://www.onvif.org/ver10/colorspace/YCbCr"
_BURNERS: dict[int, MaskBurner] = {}
_TOKENS = itertools.count(1)
_HEAD = f'xmlns:tr2="{NS["tr2"]}" xmlns:tt="{NS["tt"]}"'


def burner(server: SimServer) -> MaskBurner:
    b = _BURNERS.get(id(server))
    if b is None:
        b = _BURNERS[id(server)] = MaskBurner(server.fps)
    return b


def set_masks(server: SimServer, cam: CameraState, masks: list[SimMask]) -> None:
    """The camera's mask set is now ``masks``: burned in from a loop boundary once encoded (off the event loop)."""
    cam.camera_masks = masks
    burner(server).masks_changed(cam)


def _check_supported(call: Call) -> CameraState:
    cam = call.camera
    if not cam.onvif.masks:
        raise SoapFault("ter:ActionNotSupported", f"{cam.spec.id} has no privacy masks", sender=False)
    return cam


def _mask_xml(m: SimMask) -> str:
    pts = "".join(f'<tt:Point x="{x:.6f}" y="{y:.6f}"/>' for x, y in m.points)
    color = f'<tr2:Color X="{m.color[0]:g}" Y="{m.color[1]:g}" Z="{m.color[2]:g}" Colorspace="{YCBCR}"/>'
    return (
        f"<tr2:ConfigurationToken>{m.config_token}</tr2:ConfigurationToken><tr2:Polygon>{pts}</tr2:Polygon>"
        f"<tr2:Type>Color</tr2:Type>{color}<tr2:Enabled>{str(m.enabled).lower()}</tr2:Enabled>"
    )


def _float(value: str | None, what: str, low: float, high: float) -> float:
    try:
        out = float(value if value is not None else "nan")
    except ValueError:
        raise SoapFault("ter:InvalidArgVal", f"{what} is not a number") from None
    if not math.isfinite(out) or not low <= out <= high:
        raise SoapFault("ter:InvalidArgVal", f"{what} must be between {low:g} and {high:g}")
    return out


def _parse_mask(el: XmlElement | None, token: str) -> SimMask:
    if el is None:
        raise SoapFault("ter:InvalidArgVal", "no Mask")
    conf = el.find("tr2:ConfigurationToken", NS)
    conf_token = (conf.text or "").strip() if conf is not None else ""
    if conf_token != VIDEO_SOURCE_CONFIG:
        raise SoapFault("ter:NoConfig", f"no video source configuration {conf_token[:64]!r}")
    points = el.findall("tr2:Polygon/tt:Point", NS)
    if not 3 <= len(points) <= MAX_POINTS:
        raise SoapFault("ter:InvalidArgVal", f"a mask polygon has 3 to {MAX_POINTS} points")
    pts = tuple((_float(p.get("x"), "Point x", -1.0, 1.0), _float(p.get("y"), "Point y", -1.0, 1.0)) for p in points)
    kind = el.find("tr2:Type", NS)
    if kind is None or (kind.text or "").strip() != "Color":
        raise SoapFault("ter:InvalidArgVal", "this camera masks with a colour only (Type Color)")
    c = el.find("tr2:Color", NS)
    color = DEFAULT_COLOR
    if c is not None:
        if c.get("Colorspace") not in (None, YCBCR):
            raise SoapFault("ter:InvalidArgVal", "mask colours are YCbCr")
        color = (
            _float(c.get("X"), "Color X", 0, 255),
            _float(c.get("Y"), "Color Y", 0, 255),
            _float(c.get("Z"), "Color Z", 0, 255),
        )
    enabled = el.find("tr2:Enabled", NS)
    on = enabled is None or (enabled.text or "").strip().lower() in ("true", "1")
    return SimMask(token, conf_token, pts, color, on)


@operation("media2", "GetMaskOptions")
def get_mask_options(call: Call) -> str:
    _check_supported(call)
    colors = f'<tt:ColorList X="16" Y="128" Z="128" Colorspace="{YCBCR}"/>'
    colors += f'<tt:ColorList X="128" Y="128" Z="128" Colorspace="{YCBCR}"/>'
    return (
        f'<tr2:GetMaskOptionsResponse {_HEAD}><tr2:Options RectangleOnly="false" SingleColorOnly="false">'
        f"<tr2:MaxMasks>{MAX_MASKS}</tr2:MaxMasks><tr2:MaxPoints>{MAX_POINTS}</tr2:MaxPoints>"
        f"<tr2:Types>Color</tr2:Types><tr2:Color>{colors}</tr2:Color></tr2:Options></tr2:GetMaskOptionsResponse>"
    )


@operation("media2", "GetMasks")
def get_masks(call: Call) -> str:
    cam = _check_supported(call)
    token = call.text("tr2:Token")
    conf = call.text("tr2:ConfigurationToken")
    masks = [m for m in cam.camera_masks if (not token or m.token == token) and (not conf or m.config_token == conf)]
    if token and not masks:
        raise SoapFault("ter:InvalidArgVal", f"no mask {token!r}")
    body = "".join(f"<tr2:Masks token={quoteattr(m.token)}>{_mask_xml(m)}</tr2:Masks>" for m in masks)
    return f"<tr2:GetMasksResponse {_HEAD}>{body}</tr2:GetMasksResponse>"


@operation("media2", "CreateMask")
def create_mask(call: Call) -> str:
    cam = _check_supported(call)
    if len(cam.camera_masks) >= MAX_MASKS:
        raise SoapFault("ter:MaxMasks", f"the camera holds at most {MAX_MASKS} masks", sender=False)
    token = f"Mask{next(_TOKENS)}"
    mask = _parse_mask(call.body.find("tr2:Mask", NS), token)
    set_masks(call.server, cam, [*cam.camera_masks, mask])
    return f"<tr2:CreateMaskResponse {_HEAD}><tr2:Token>{token}</tr2:Token></tr2:CreateMaskResponse>"


@operation("media2", "SetMask")
def set_mask(call: Call) -> str:
    cam = _check_supported(call)
    el = call.body.find("tr2:Mask", NS)
    token = (el.get("token") or "") if el is not None else ""
    if token not in {m.token for m in cam.camera_masks}:
        raise SoapFault("ter:InvalidArgVal", f"no mask {token!r}")
    mask = _parse_mask(el, token)
    set_masks(call.server, cam, [mask if m.token == token else m for m in cam.camera_masks])
    return f"<tr2:SetMaskResponse {_HEAD}/>"


@operation("media2", "DeleteMask")
def delete_mask(call: Call) -> str:
    cam = _check_supported(call)
    token = call.text("tr2:Token")
    if token not in {m.token for m in cam.camera_masks}:
        raise SoapFault("ter:InvalidArgVal", f"no mask {token!r}")
    set_masks(call.server, cam, [m for m in cam.camera_masks if m.token != token])
    return f"<tr2:DeleteMaskResponse {_HEAD}/>"
