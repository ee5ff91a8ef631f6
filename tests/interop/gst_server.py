"""gst-rtsp-server (Debian's gir1.2-gst-rtsp-server-1.0) serving fixed files for camgrid's interop tests.

Run with Debian's /usr/bin/python3 (the project venv has no PyGObject): ``python3 gst_server.py CONFIG.json``.
CONFIG: ``{"port": N, "digest": [user, password] | null, "mounts": [{"path": "/x", "launch": "( ... )",
"strip_sprop": bool, "timeout": seconds, "refuse_get_parameter": bool}]}``. Prints ``ready`` once it listens. Every
client gets its own pipeline, from the file's start.

- ``strip_sprop``: the SDP carries no ``sprop-parameter-sets`` / ``sprop-vps/sps/pps``: the parameter sets come only
  in-band (``config-interval=-1`` puts them before every IDR), as many cameras do.
- ``digest``: every mount needs RTSP Digest authentication (Basic is not offered). gst-rtsp-server answers 404, not
  401, to an anonymous client on a mount its default token may not see, so a Digest camera is a server of its own.
- ``timeout``: the RTSP session timeout the server announces (``Session: ...;timeout=N``) and enforces: without an
  RTSP request (a keepalive) for that long, the connection is closed.
- ``refuse_get_parameter``: GET_PARAMETER is answered 501 Not Implemented (so it keeps nothing alive).
"""

from __future__ import annotations

import json
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstRtsp", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer, GstSdp  # noqa: E402

Gst.init(None)  # before the media subclass is registered

SPROP = ("sprop-parameter-sets", "sprop-vps", "sprop-sps", "sprop-pps")


class NoSpropMedia(GstRtspServer.RTSPMedia):
    """A media whose SDP leaves the parameter sets out of every ``a=fmtp`` line."""

    def do_setup_sdp(self, sdp: GstSdp.SDPMessage, info: GstRtspServer.SDPInfo) -> bool:
        if not GstRtspServer.RTSPMedia.do_setup_sdp(self, sdp, info):
            return False
        for m in range(sdp.medias_len()):
            media = sdp.get_media(m)
            for a in range(media.attributes_len()):
                attr = media.get_attribute(a)
                if attr.key != "fmtp":
                    continue
                pt, _, params = attr.value.partition(" ")
                kept = [p for p in params.split(";") if p.strip().split("=")[0] not in SPROP]
                new = GstSdp.SDPAttribute()
                new.set("fmtp", f"{pt} {';'.join(kept)}")
                media.replace_attribute(a, new)
        return True


def _role(name: str) -> Gst.Structure:
    text = f"{name}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
    return Gst.Structure.from_string(text)[0]


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as fh:
        config = json.load(fh)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(config["port"]))
    if config.get("digest"):
        # every mount of this server needs Digest (Basic is not offered); without credentials: 401 + a challenge
        auth = GstRtspServer.RTSPAuth()
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        user, password = config["digest"]
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        auth.add_digest(user, password, token)
        server.set_auth(auth)
    timeouts: dict[str, int] = {}
    refusing: set[str] = set()
    mounts = server.get_mount_points()
    for m in config["mounts"]:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(m["launch"])
        factory.set_shared(False)
        if m.get("strip_sprop"):
            factory.set_media_gtype(NoSpropMedia.__gtype__)
        if config.get("digest"):
            factory.add_role_from_structure(_role("user"))
        if m.get("timeout"):
            timeouts[m["path"]] = int(m["timeout"])
        if m.get("refuse_get_parameter"):
            refusing.add(m["path"])
        mounts.add_factory(m["path"], factory)

    # gst-rtsp-server never expires a session whose RTP goes over the RTSP connection (TCP interleaved): the
    # connection keeps it alive. Cameras that enforce their announced timeout close the connection when no RTSP
    # request came within it; the mounts with a timeout do that here (RTCP does not count, as on those cameras).
    strict: list[GstRtspServer.RTSPClient] = []

    def on_client(_server: GstRtspServer.RTSPServer, client: GstRtspServer.RTSPClient) -> None:
        def on_session(_client: GstRtspServer.RTSPClient, session: GstRtspServer.RTSPSession) -> None:
            # the session takes the timeout of the mount its client asked for first (else the default, 60 s)
            path = getattr(client, "_camgrid_path", None) or ""
            for mount, seconds in timeouts.items():
                if path == mount or path.startswith(mount + "/"):
                    session.set_timeout(seconds)
                    client._camgrid_timeout = seconds  # type: ignore[attr-defined]
                    strict.append(client)

        def on_request(_client: GstRtspServer.RTSPClient, ctx: GstRtspServer.RTSPContext) -> None:
            client._camgrid_last = time.monotonic()  # type: ignore[attr-defined]
            uri = ctx.uri
            if uri is not None and getattr(client, "_camgrid_path", None) is None:
                client._camgrid_path = uri.abspath  # type: ignore[attr-defined]

        def on_closed(_client: GstRtspServer.RTSPClient) -> None:
            if client in strict:
                strict.remove(client)

        def refuse(_client: GstRtspServer.RTSPClient, ctx: GstRtspServer.RTSPContext) -> GstRtsp.RTSPStatusCode:
            path = getattr(client, "_camgrid_path", None) or ""
            if any(path == m or path.startswith(m + "/") for m in refusing):
                return GstRtsp.RTSPStatusCode.NOT_IMPLEMENTED
            return GstRtsp.RTSPStatusCode.OK

        client.connect("new-session", on_session)
        client.connect("pre-get-parameter-request", refuse)
        for request in ("describe", "setup", "play", "options", "get-parameter", "set-parameter"):
            client.connect(f"{request}-request", on_request)
        client.connect("closed", on_closed)

    def enforce() -> bool:
        now = time.monotonic()
        for client in list(strict):
            if now - getattr(client, "_camgrid_last", now) > client._camgrid_timeout + 0.5:
                print(f"session timeout: no RTSP request for {client._camgrid_timeout} s: closing", flush=True)
                strict.remove(client)
                client.close()
        return True

    server.connect("client-connected", on_client)
    GLib.timeout_add(250, enforce)
    # the session pool's cleanup runs every second, so an expired session is reaped promptly
    pool = server.get_session_pool()
    GLib.timeout_add_seconds(1, lambda: (pool.cleanup(), True)[1])
    if server.attach(None) == 0:
        print("gst-rtsp-server: cannot listen", flush=True)
        return 1
    print(f"ready {config['port']}", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
