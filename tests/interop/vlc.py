"""VLC's RTSP server (Debian's vlc-bin + vlc-plugin-base, ``#rtp{sdp=rtsp://...}``): RTP over UDP only.

VLC refuses to run as root, so as root it runs as ``nobody`` (setpriv), with a home of its own and the clip copied
where that user can read it. It plays the clip in a loop and clients join the broadcast where it is.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tests.conftest import free_port
from tests.interop.harness import Camera, Clip, Server, clip_pictures, mp4, readable_copy, rtsp_ready, start_server

NOBODY = 65534


def missing() -> str | None:
    for tool in ("cvlc", "setpriv"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (make deps installs vlc-bin, vlc-plugin-base)"
    return None


def serve(clip: Clip, folder: Path, name: str = "stream") -> tuple[Server, Camera]:
    port = free_port()
    media = readable_copy(mp4(clip))
    home = Path(tempfile.mkdtemp(prefix="camgrid-vlc-"))
    cmd = ["cvlc", "-I", "dummy", "--no-audio", "--loop", str(media)]
    cmd += ["--sout", f"#rtp{{sdp=rtsp://127.0.0.1:{port}/{name}}}", "--rtsp-host", "127.0.0.1"]
    if os.geteuid() == 0:
        os.chown(home, NOBODY, NOBODY)
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    try:
        server = start_server(cmd, folder / f"vlc-{name}.log", rtsp_ready(port), "VLC's RTSP server", env=env)
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    server.cleanup.append(home)
    return server, Camera(f"vlc-{name}", f"rtsp://127.0.0.1:{port}/{name}", clip_pictures(clip))
