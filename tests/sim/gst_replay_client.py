"""GStreamer's ONVIF replay client (rtspsrc onvif-mode=true), run by Debian's python3 with gi (not the venv): a foreign
peer for the simulator's replay (tests/sim/test_replay_server.py).

Usage: gst_replay_client.py <rtsp url with credentials> <Range header value> <out.jsonl>

rtspsrc 1.22 in ONVIF mode sends ``Rate-Control`` and a ``clock=`` range but not ``Require: onvif-replay``: as
ONVIF clients built on it do, the ``before-send`` signal adds it to PLAY (and sets the range asked for). Every RTP
packet's replay extension, as GStreamer's own RTP buffer parser reads it, is written out (``rtp`` lines), then every
access unit rtph264depay and h264parse make of them (``au`` lines). The replay ends with the server's BYE; rtspsrc
1.22 does not always turn that into EOS, so the client also stops once nothing has come for ``IDLE_S``. The jitter
buffer runs with ``buffer-mode=none`` so that pictures are timestamped by RTP time from the replay's range start
(the ONVIF time, in ns since 1900); in its default mode it discards the first picture ("cannot calculate a valid
pts") and smooths the rest by arrival time.
"""

from __future__ import annotations

import json
import struct
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtp", "1.0")
gi.require_version("GstRtsp", "1.0")
from gi.repository import GLib, Gst, GstRtp, GstRtsp  # noqa: E402

IDLE_S = 1.5
MAX_S = 25.0


def main() -> int:
    url, rng, out = sys.argv[1], sys.argv[2], sys.argv[3]
    Gst.init(None)
    pipe = Gst.parse_launch(
        f'rtspsrc name=src location="{url}" onvif-mode=true onvif-rate-control=false protocols=tcp latency=0 '
        "buffer-mode=none "  # timestamps from RTP alone: the default (slave) drops the first picture (no valid pts)
        "! rtph264depay name=depay ! h264parse ! video/x-h264,stream-format=byte-stream,alignment=au "
        "! appsink name=sink sync=false emit-signals=true"
    )
    src, sink, depay = pipe.get_by_name("src"), pipe.get_by_name("sink"), pipe.get_by_name("depay")
    fh = open(out, "w", encoding="utf-8")  # noqa: SIM115
    last = [time.monotonic(), False]

    def before_send(_el: Gst.Element, msg: GstRtsp.RTSPMessage) -> bool:
        _res, method, _uri, _ver = msg.parse_request()
        if method == GstRtsp.RTSPMethod.PLAY:
            msg.remove_header(GstRtsp.RTSPHeaderField.RANGE, -1)
            msg.add_header(GstRtsp.RTSPHeaderField.RANGE, rng)
            msg.add_header(GstRtsp.RTSPHeaderField.REQUIRE, "onvif-replay")
        return True

    def probe(_pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        if info.type & Gst.PadProbeType.BUFFER_LIST:
            blist = info.get_buffer_list()
            for i in range(blist.length()):
                record(blist.get(i))
        else:
            record(info.get_buffer())
        last[0] = time.monotonic()
        return Gst.PadProbeReturn.OK

    def record(buf: Gst.Buffer) -> None:
        ok, rtp = GstRtp.RTPBuffer.map(buf, Gst.MapFlags.READ)
        if ok:
            has = rtp.get_extension()
            data, bits = rtp.get_extension_data() if has else (None, -1)
            ext = bytes(data.get_data()) if data is not None else b""
            line = {"kind": "rtp", "seq": rtp.get_seq(), "ts": rtp.get_timestamp(), "profile": bits}
            if len(ext) >= 12:
                secs, frac, flags, cseq = struct.unpack(">IIBB", ext[:10])
                line |= {"ntp_s": secs, "ntp_f": frac, "flags": flags, "cseq": cseq, "words": len(ext) // 4}
            rtp.unmap()
            fh.write(json.dumps(line) + "\n")

    def on_sample(s: Gst.Element) -> Gst.FlowReturn:
        smp = s.emit("pull-sample")
        buf = smp.get_buffer()
        ok, mapped = buf.map(Gst.MapFlags.READ)
        if ok:
            fh.write(json.dumps({"kind": "au", "pts": buf.pts, "data": bytes(mapped.data).hex()}) + "\n")
            buf.unmap(mapped)
        last[0], last[1] = time.monotonic(), True
        return Gst.FlowReturn.OK

    src.connect("before-send", before_send)
    depay.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST, probe)
    sink.connect("new-sample", on_sample)
    loop = GLib.MainLoop()
    started = time.monotonic()
    status = [0]

    def on_message(_bus: Gst.Bus, msg: Gst.Message) -> None:
        if msg.type == Gst.MessageType.ERROR:
            print("error:", msg.parse_error()[0].message, file=sys.stderr)
            status[0] = 1
            loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            loop.quit()

    def tick() -> bool:
        now = time.monotonic()
        if (last[1] and now - last[0] > IDLE_S) or now - started > MAX_S:
            loop.quit()
            return False
        return True

    bus = pipe.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.timeout_add(100, tick)
    pipe.set_state(Gst.State.PLAYING)
    loop.run()
    pipe.set_state(Gst.State.NULL)
    fh.close()
    return status[0]


if __name__ == "__main__":
    sys.exit(main())
