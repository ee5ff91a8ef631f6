"""live555 (built from its source by scripts/build-live555.sh into .make/cache/live555) serving H.264 files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT, free_port
from tests.interop.harness import Camera, Clip, Server, annexb, clip_pictures, start_server

BUILD = ROOT / "scripts" / "build-live555.sh"
BINARY = ROOT / ".make" / "cache" / "live555" / "camgrid-live555-server"


def toolchain_missing() -> str | None:
    missing = [t for t in ("g++", "gcc") if shutil.which(t) is None]
    return f"{', '.join(missing)} missing: live555 is built from source (apt-get install g++)" if missing else None


def build() -> Path:
    """The server binary, built once (the script is idempotent: it does nothing when the binary is up to date)."""
    r = subprocess.run([str(BUILD)], capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"building live555 failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    return BINARY


def serve(binary: Path, streams: list[tuple[str, str, Clip]], folder: Path) -> tuple[Server, list[Camera]]:
    """One live555 server with a stream per (name, mode, clip); mode "file" or "discrete" (live555_server.cpp)."""
    port = free_port()
    args = [str(binary), str(port)]
    cameras = []
    for name, mode, clip in streams:
        args += [name, mode, str(annexb(clip))]
        cameras.append(Camera(f"live555-{name}", f"rtsp://127.0.0.1:{port}/{name}", clip_pictures(clip)))
    server = start_server(args, folder / "live555.log", lambda text: "ready" in text, "live555")
    return server, cameras
