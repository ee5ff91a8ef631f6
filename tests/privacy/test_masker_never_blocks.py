"""A masked camera's masker thread never holds up the ingest thread, and never dies on one picture.

The ingest thread hands pictures to the masker and, when the camera's session ends, calls ``reset()``. With the old
bounded queue a stuck or slow masker made ``reset()`` wait for a free slot, and every camera of the node stopped
with it. And an unexpected exception on one picture ended the masker thread: the camera went silent with no gap.
"""

from __future__ import annotations

import threading
from typing import Any

from shapely.geometry import Polygon

from camgrid.media.rtp import AccessUnit
from camgrid.privacy.masker import Masker
from tests.backends import wait_for

SQUARE = [Polygon([(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)])]


class StuckMasker(Masker):
    """Fault injector: the masker thread blocks on its first picture until released."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.release = threading.Event()
        self.seen = 0
        super().__init__(*args, **kwargs)

    def _picture(self, au: AccessUnit, ext: int, jump: bool) -> None:
        self.seen += 1
        self.release.wait(30)


class BuggyMasker(Masker):
    """Fault injector: every picture raises an error nobody planned for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.seen = 0
        super().__init__(*args, **kwargs)

    def _picture(self, au: AccessUnit, ext: int, jump: bool) -> None:
        self.seen += 1
        raise KeyError("a bug")


def _au(i: int) -> AccessUnit:
    return AccessUnit(ts=i * 3600, data=b"\x00\x00\x00\x01\x65", key=True)


def test_control_messages_never_wait_behind_a_stuck_masker() -> None:
    m = StuckMasker("cam-1", "h264", SQUARE, max_queue=4)
    try:
        for i in range(50):  # far more than the queue holds: the surplus is dropped, never passed on unmasked
            m.submit(_au(i), i * 3600, False)
        wait_for(lambda: m.seen == 1, 10, what="the masker to take its first picture")
        done = threading.Event()

        def control() -> None:
            m.reset()
            m.set_polygons(SQUARE)
            done.set()

        threading.Thread(target=control, daemon=True).start()
        assert done.wait(5), "reset()/set_polygons() blocked behind the stuck masker (the ingest thread would too)"
        assert m.dropped >= 50 - 1 - 4
        assert m.drain() == []
    finally:
        m.release.set()
        m.close()


def test_an_unexpected_error_on_one_picture_does_not_end_the_masker() -> None:
    m = BuggyMasker("cam-1", "h264", SQUARE, max_queue=8)
    try:
        m.submit(_au(0), 0, False)
        wait_for(lambda: m.seen == 1 and m.dropped == 1, 10, what="the first picture to fail")
        m.submit(_au(1), 3600, False)
        wait_for(lambda: m.seen == 2, 10, what="the masker to take the next picture: its thread survived")
        assert m.drain() == [], "a picture that failed is dropped, never passed on unmasked"
    finally:
        m.close()
