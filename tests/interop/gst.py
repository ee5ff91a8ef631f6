"""gst-rtsp-server variants: which pipeline each mount runs, and starting the server (tests/interop/gst_server.py)."""

from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port
from tests.interop.harness import HERE, SYSTEM_PYTHON, Camera, Clip, Server, clip_pictures, mp4, start_server


@dataclass(frozen=True)
class GstVariant:
    name: str
    what: str  # what it exercises
    clip: Clip
    audio: str | None = None  # "aac" or "pcma", a second track of the same file (harness.mp4)
    strip_sprop: bool = False
    stapa: bool = False
    digest: bool = False
    timeout: int | None = None
    refuse_get_parameter: bool = False


def variants(seconds: float) -> list[GstVariant]:
    h264 = Clip("h264", seconds)
    return [
        GstVariant("h264-inband", "H.264, SPS/PPS only in-band (no sprop-parameter-sets in the SDP)", h264, None, True),
        GstVariant(
            "h264-stapa",
            "H.264 with two slices per picture, both slices (and the parameter sets) aggregated in STAP-A packets "
            "(rtph264pay aggregate-mode=max-stap, mtu 4000)",
            Clip("h264", seconds, slices=2),
            stapa=True,
        ),
        GstVariant("h264-digest", "H.264 behind RTSP Digest authentication", h264, digest=True),
        GstVariant("h265", "H.265 (rtph265pay, parameter sets in-band and in the SDP)", Clip("h265", seconds)),
        GstVariant("h264-aac", "H.264 with an AAC (MPEG4-GENERIC) audio track", h264, audio="aac"),
        GstVariant("h264-pcma", "H.264 with a G.711 A-law (PCMA) audio track", h264, audio="pcma"),
        GstVariant("h264-timeout", "H.264, a 5 s RTSP session timeout (keepalives must come in time)", h264, timeout=5),
        GstVariant(
            "h264-get-parameter-501",
            "H.264, a 5 s session timeout and GET_PARAMETER answered 501: the keepalive must fall back (OPTIONS)",
            h264,
            timeout=5,
            refuse_get_parameter=True,
        ),
    ]


def launch(v: GstVariant) -> str:
    media = mp4(v.clip, v.audio)
    if v.clip.codec == "h264":
        extra = " aggregate-mode=max-stap mtu=4000" if v.stapa else " aggregate-mode=none"
        video = f"h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1{extra}"
    else:
        video = "h265parse ! rtph265pay name=pay0 pt=96 config-interval=-1"
    parts = [f"filesrc location={media} ! qtdemux name=d d.video_0 ! queue ! {video}"]
    if v.audio == "aac":
        parts.append("d.audio_0 ! queue ! aacparse ! rtpmp4gpay name=pay1 pt=97")
    elif v.audio == "pcma":
        # from the same demuxer: camgrid does not SETUP the audio track, and gst-rtsp-server leaves that stream
        # unlinked; a demuxer shrugs a not-linked pad off, while a separate source (filesrc ! wavparse) fails the
        # whole pipeline with "not-linked" (seen here: the video stops after ~3 s)
        parts.append("d.audio_0 ! queue ! rtppcmapay name=pay1 pt=8")
    return "( " + " ".join(parts) + " )"


def gst_available() -> str | None:
    """Why the GStreamer server cannot run here (None when it can)."""
    if shutil.which(SYSTEM_PYTHON) is None:
        return f"{SYSTEM_PYTHON} is missing"
    import subprocess

    probe = (
        "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import Gst, GstRtspServer; "
        "Gst.init(None); import sys; "
        "sys.exit(0 if all(Gst.ElementFactory.find(e) for e in "
        "['rtph264pay','rtph265pay','h264parse','h265parse','qtdemux','aacparse','rtpmp4gpay',"
        "'rtppcmapay']) else 3)"
    )
    r = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return "gst-rtsp-server or a GStreamer plugin is missing (make deps installs them): " + r.stderr[-300:]
    return None


def serve(vs: list[GstVariant], folder: Path) -> tuple[list[Server], list[Camera]]:
    """gst-rtsp-server processes with a mount per variant (the Digest ones in a server of their own, since all of a
    server's mounts share its authentication); the cameras that point at them."""
    servers: list[Server] = []
    cameras: list[Camera] = []
    try:
        for digest in (False, True):
            group = [v for v in vs if v.digest == digest]
            if not group:
                continue
            port = free_port()
            user, password = ("interop", secrets.token_urlsafe(12)) if digest else ("", "")
            mounts = []
            for v in group:
                mount: dict[str, object] = {"path": f"/{v.name}", "launch": launch(v), "strip_sprop": v.strip_sprop}
                if v.timeout:
                    mount["timeout"] = v.timeout
                if v.refuse_get_parameter:
                    mount["refuse_get_parameter"] = True
                mounts.append(mount)
                url = f"rtsp://127.0.0.1:{port}/{v.name}"
                cameras.append(Camera(f"gst-{v.name}", url, clip_pictures(v.clip), user, password))
            tag = "digest" if digest else "open"
            config = folder / f"gst-{tag}.json"
            config.touch(0o600)
            doc = {"port": port, "digest": [user, password] if digest else None, "mounts": mounts}
            config.write_text(json.dumps(doc))
            servers.append(
                start_server(
                    [SYSTEM_PYTHON, str(HERE / "gst_server.py"), str(config)],
                    folder / f"gst-{tag}.log",
                    lambda text: "ready" in text,
                    "gst-rtsp-server",
                )
            )
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers, cameras
