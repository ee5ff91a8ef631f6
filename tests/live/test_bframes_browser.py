"""B-frames live in real Chromium: the hub's fragments of a libx264 ``-bf 2`` stream (RTP timestamps = presentation
times, packets in decode order) appended to a MediaSource play to the end, every picture decoded, one buffered range.

Before: live fragments had decode times going back (the RTP timestamps themselves); then, with decode times learnt
from the stream, Chromium dropped the whole first GOP after its 3-frame decode step (MSE's discontinuity rule):
the reorder depth now comes from the SPS (docs/design/packet-path.md, "Pictures, slices and B-frames").
"""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from camgrid.live.hub import LiveHub, Message
from camgrid.media.nal import H264
from camgrid.media.rtp import Depacketizer, packetize, rtp_header
from tests.conftest import CLIP_CACHE
from tests.media.streams import annexb_aus, encode, probe
from tests.web.test_control_room_browser import ARGS, CHROMIUM

NS = 1_000_000_000
PAGE = """<!doctype html><video id=v muted></video><script>
window.res = {errors: [], done: false};
const bufs = %s.map(b => Uint8Array.from(atob(b), c => c.charCodeAt(0)));
const ms = new MediaSource(); const v = document.getElementById('v');
v.src = URL.createObjectURL(ms);
v.onerror = () => window.res.errors.push('video ' + (v.error && v.error.message));
v.onended = () => {
  const q = v.getVideoPlaybackQuality();
  window.res.frames = q.totalVideoFrames; window.res.dropped = q.droppedVideoFrames; window.res.done = true;
};
ms.addEventListener('sourceopen', async () => {
  const sb = ms.addSourceBuffer(%s);
  for (const b of bufs) {
    sb.appendBuffer(b);
    await new Promise(r => sb.addEventListener('updateend', r, {once: true}));
  }
  ms.endOfStream();
  const r = sb.buffered; window.res.ranges = [];
  for (let i = 0; i < r.length; i++) window.res.ranges.push([r.start(i), r.end(i)]);
  try { await v.play(); } catch (e) { window.res.errors.push('play ' + e); }
});
</script>"""


def live_messages() -> list[Message]:
    src = encode(["-preset", "veryfast", "-bf", "2", "-g", "25", "-sc_threshold", "0"], 2, CLIP_CACHE)
    aus = annexb_aus(src)
    packets = probe(src, "packets", "pts_time")
    loop = asyncio.new_event_loop()
    hub = LiveHub(loop, codec_of=lambda cam: H264)
    got: list[Message] = []

    async def collect() -> None:
        async for m in hub.watch("cam"):
            got.append(m)

    task = loop.create_task(collect())
    loop.run_until_complete(asyncio.sleep(0.01))
    dep = Depacketizer(H264)
    seq = 0
    for au, pkt in zip(aus, packets, strict=True):
        ts = 1000 + round(float(pkt["pts_time"]) * 90_000)
        payloads = packetize(H264, au)
        for j, payload in enumerate(payloads):
            dep.push(rtp_header(seq, ts, 7, j == len(payloads) - 1) + payload)
            seq += 1
        for a in dep.ready:
            a.arrival_ns = 1_800_000_000 * NS + (ts - 1000) * NS // 90_000
            hub.tap("cam", a, a.ts, False)
        dep.ready.clear()
    loop.run_until_complete(asyncio.sleep(0.05))
    task.cancel()
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    return got


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_b_frames_play_live_in_chromium() -> None:
    from playwright.sync_api import sync_playwright

    msgs = live_messages()
    assert isinstance(msgs[0], str) and [isinstance(m, bytes) for m in msgs[2:]] == [True] * 51
    mime = json.loads(msgs[0])["mime"]
    html = PAGE % (
        json.dumps([base64.b64encode(m).decode() for m in msgs[2:] if isinstance(m, bytes)]),
        json.dumps(mime),
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.set_content(html)
            page.wait_for_function("window.res.done || window.res.errors.length > 0", timeout=10_000)
            res = page.evaluate("window.res")
        finally:
            browser.close()
    assert res["errors"] == []
    assert len(res["ranges"]) == 1, f"holes in what the browser buffered: {res['ranges']}"
    # Every picture reached the decoder (a slow machine may render some late: droppedVideoFrames is not judged).
    assert res["frames"] == 50
