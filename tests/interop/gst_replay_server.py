"""gst-rtsp-server as an ONVIF replay server (Profile G): GstRTSPOnvifServer, a GstRTSPOnvifMediaFactory with replay
support, and ``rtponviftimestamp`` writing the 0xABAC header extension. A foreign peer for camgrid's replay client.

Run with Debian's /usr/bin/python3: ``python3 gst_replay_server.py CONFIG.json``; CONFIG: ``{"port": N, "file":
"clip.mp4", "card_start_ns": NTP ns (since 1900) of the file's first picture}``. Prints ``ready`` once it listens.

The "card" holds the file once, from ``card_start_ns``. The server turns ``Range: clock=a-b`` into a seek to the
absolute times a..b (ns since 1900); the replay bin below translates it into the file's own times (after the
example ``test-onvif-server.c`` of gst-rtsp-server, without its looping), and ``rtponviftimestamp`` with the card's
start as its ``ntp-offset`` writes the card's clock into every packet.
"""

from __future__ import annotations

import json
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)

CONFIG: dict[str, object] = {}


class ReplayBin:
    """filesrc ! qtdemux, behind a ghost pad that translates seeks, segments and timestamps by the card's start."""

    def __init__(self, parent: Gst.Bin, location: str, card_start: int) -> None:
        self.card_start = card_start
        self.bin = Gst.Bin.new(None)
        parent.add(self.bin)
        src = Gst.ElementFactory.make("filesrc")
        src.set_property("location", location)
        demux = Gst.ElementFactory.make("qtdemux")
        self.bin.add(src)
        self.bin.add(demux)
        src.link(demux)
        self.ghost = Gst.GhostPad.new_no_target("src", Gst.PadDirection.SRC)
        self.bin.add_pad(self.ghost)
        self.ghost.set_event_function_full(self._event)
        self.ghost.set_query_function_full(self._query)
        demux.connect("pad-added", self._pad_added)

    def _pad_added(self, _demux: Gst.Element, pad: Gst.Pad) -> None:
        caps = pad.get_current_caps()
        if caps is not None and caps.get_structure(0).get_name() == "video/x-h264":
            self.ghost.set_target(pad)

    def _event(self, pad: Gst.Pad, parent: Gst.Object, event: Gst.Event) -> bool:
        if event.type == Gst.EventType.SEEK:
            rate, fmt, flags, _st, start, _et, stop = event.parse_seek()
            if stop < 0 or stop == Gst.CLOCK_TIME_NONE:
                stop = self.card_start + 10**15
            ostart = max(0, start - self.card_start)
            ostop = max(ostart, stop - self.card_start)
            out = Gst.Event.new_seek(rate, fmt, flags, Gst.SeekType.SET, ostart, Gst.SeekType.SET, ostop)
            out.set_seqnum(event.get_seqnum())
            return Gst.Pad.event_default(pad, parent, out)
        return Gst.Pad.event_default(pad, parent, event)

    def _query(self, pad: Gst.Pad, parent: Gst.Object, query: Gst.Query) -> bool:
        if query.type == Gst.QueryType.SEEKING:
            query.set_seeking(Gst.Format.TIME, True, 0, -1)
            return True
        return Gst.Pad.query_default(pad, parent, query)


class Factory(GstRtspServer.RTSPOnvifMediaFactory):
    def do_create_element(self, url: object) -> Gst.Element:
        top = Gst.Bin.new(None)
        replay = ReplayBin(top, str(CONFIG["file"]), int(CONFIG["card_start_ns"]))  # type: ignore[call-overload]
        top._camgrid_replay = replay  # keep the Python object (its probes) alive with the bin
        pay = Gst.Bin.new("pay0")
        elems = [Gst.ElementFactory.make(n) for n in ("queue", "h264parse", "rtph264pay", "rtponviftimestamp", "queue")]
        elems[2].set_property("config-interval", -1)
        elems[2].set_property("pt", 96)
        elems[3].set_property("ntp-offset", int(CONFIG["card_start_ns"]))  # type: ignore[call-overload]
        elems[3].set_property("set-e-bit", True)
        elems[3].set_property("drop-out-of-segment", False)
        for e in elems:
            pay.add(e)
        for k in range(len(elems) - 1):
            elems[k].link(elems[k + 1])
        pay.add_pad(Gst.GhostPad.new("sink", elems[0].get_static_pad("sink")))
        pay.add_pad(Gst.GhostPad.new("src", elems[-1].get_static_pad("src")))
        top.add(pay)
        replay.bin.link(pay)
        elems[3].set_clock(Gst.SystemClock.obtain())
        return top


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as fh:
        CONFIG.update(json.load(fh))
    server = GstRtspServer.RTSPOnvifServer.new()
    server.set_address("127.0.0.1")
    server.set_service(str(CONFIG["port"]))
    factory = Factory()
    factory.set_replay_support(True)
    factory.set_media_gtype(GstRtspServer.RTSPOnvifMedia.__gtype__)  # its construct makes ONVIF media only
    factory.set_shared(False)
    server.get_mount_points().add_factory("/replay", factory)
    if server.attach(None) == 0:
        print("gst-rtsp-server: cannot listen", flush=True)
        return 1
    print(f"ready {CONFIG['port']}", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
