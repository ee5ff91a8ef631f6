"""The SDP a simulated camera describes itself with (and the quirks that bend it)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from camgrid.media.nal import H264, nal_type, param_set_type
from camgrid.sim.quirks import DECLARED_FPS

if TYPE_CHECKING:
    from camgrid.sim.server import CameraState


def sdp_for(cam: CameraState, session_id: str, sub: bool = False) -> str:
    clip = cam.sub_clip if sub and cam.sub_clip is not None else cam.clip
    b64 = [base64.b64encode(p).decode() for p in clip.params]
    if cam.has("bad-sprop"):
        b64 = ["Z0IAKeKQFAe2AtwEBAaQeJEV", "aM48gA"[:-1] + "!"]  # an SPS of another camera, and not base64
    lines = [
        "v=0",
        f"o=- {int(session_id, 16)} 1 IN IP4 127.0.0.1",
        f"s=camgrid-sim {cam.spec.id}",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=control:*",
        "m=video 0 RTP/AVP 96",
    ]
    if clip.codec == H264:
        sps = next(p for p in clip.params if nal_type(H264, p) == param_set_type(H264, "sps"))
        lines.append("a=rtpmap:96 H264/90000" + (" " if cam.has("sdp-no-origin") else ""))
        fmtp = f"packetization-mode=1;profile-level-id={sps[1:4].hex()};sprop-parameter-sets={','.join(b64)}"
    else:
        by_type = {nal_type(clip.codec, p): base64.b64encode(p).decode() for p in clip.params}
        lines.append("a=rtpmap:96 H265/90000")
        fmtp = f"sprop-vps={by_type.get(32, '')};sprop-sps={by_type.get(33, '')};sprop-pps={by_type.get(34, '')}"
    if cam.has("sdp-no-origin"):
        lines.remove(lines[1])
    lines.append("a=fmtp:96" if cam.has("empty-fmtp") else f"a=fmtp:96 {fmtp}")
    if cam.has("fps-short"):
        lines.append(f"a=framerate:{DECLARED_FPS}")
    lines.append("a=control:trackID=0")
    if cam.audio is not None and not sub:
        lines += cam.audio.sdp_lines("trackID=1")
    return "\r\n".join(lines) + "\r\n"
