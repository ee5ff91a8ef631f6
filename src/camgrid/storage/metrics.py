"""``/metrics`` in the Prometheus text format: per-camera bytes, frames, reconnects, gap seconds and state, and the
recorder's own gauges (free space, backlogs, each thread up and its restarts)."""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MetricsFn = Callable[[], dict[str, dict[str, float | str]]]
GaugesFn = Callable[[], dict[str, float]]

_COUNTERS = {
    "bytes": ("camgrid_camera_received_bytes_total", "counter", "Bytes received from the camera"),
    "frames": ("camgrid_camera_frames_total", "counter", "Access units received"),
    "reconnects": ("camgrid_camera_reconnects_total", "counter", "Sessions that failed and were retried"),
    "gap_seconds": ("camgrid_camera_gap_seconds_total", "counter", "Seconds not recorded since the recorder started"),
    "segments": ("camgrid_camera_segments_total", "counter", "Segments started"),
    "lost_packets": ("camgrid_camera_lost_packets_total", "counter", "RTP packets the camera sent that never came"),
    "dropped_packets": (
        "camgrid_camera_dropped_packets_total",
        "counter",
        "RTP packets dropped: another session's SSRC or a stray payload type",
    ),
    "reordered_packets": ("camgrid_camera_reordered_packets_total", "counter", "UDP packets put back in order"),
    "recording": ("camgrid_camera_recording", "gauge", "1 while a segment is being written"),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(per_camera: dict[str, dict[str, float | str]], gauges: dict[str, float]) -> str:
    lines: list[str] = []
    for key, (name, kind, help_text) in _COUNTERS.items():
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for cid in sorted(per_camera):
            lines.append(f'{name}{{camera="{_escape(cid)}"}} {float(per_camera[cid][key]):g}')
    lines.append("# HELP camgrid_camera_state Camera recording state (1 for the current state)")
    lines.append("# TYPE camgrid_camera_state gauge")
    for cid in sorted(per_camera):
        lines.append(
            f'camgrid_camera_state{{camera="{_escape(cid)}",state="{_escape(str(per_camera[cid]["state"]))}"}} 1'
        )
    typed: set[str] = set()
    for name, value in sorted(gauges.items()):
        # A gauge's name may carry labels (``camgrid_recorder_thread_up{thread="ingest"}``): one TYPE per family.
        family = name.split("{", 1)[0]
        if family not in typed:
            typed.add(family)
            kind = "counter" if family.endswith("_total") else "gauge"
            lines.append(f"# TYPE {family} {kind}")
        lines.append(f"{name} {value:g}")
    return "\n".join(lines) + "\n"


def serve_metrics(host: str, port: int, per_camera: MetricsFn, gauges: GaugesFn, token: str) -> ThreadingHTTPServer:
    """Start the endpoint on a daemon thread. Secure by default: a scrape must send ``Authorization: Bearer
    <token>`` (Prometheus: ``authorization: {credentials_file: .../run/metrics.token}``)."""
    expected = f"Bearer {token}"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if not hmac.compare_digest(self.headers.get("Authorization", ""), expected):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Bearer realm="camgrid-metrics"')
                self.end_headers()
                return
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = render(per_camera(), gauges()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
