"""The simulated city's layout: like a real city, deterministic, on the shipped streets."""

from __future__ import annotations

import stat
from collections import defaultdict
from pathlib import Path

import pytest

from camgrid.registry.io import parse_camera_file
from camgrid.sim.layout import make_city, read_registry, write_registry


@pytest.mark.parametrize("count", [1, 5, 32, 200])
def test_layout_shape(count: int, tmp_path: Path) -> None:
    cams = make_city(count, seed=3)
    assert len(cams) == count and len({c.id for c in cams}) == count
    assert make_city(count, seed=3) == cams, "deterministic"
    per_site: dict[str, int] = defaultdict(int)
    for c in cams:
        per_site[c.site] += 1
        assert 27.6 < c.lat < 27.8 and 85.2 < c.lon < 85.4
    if count >= 32:
        assert max(per_site.values()) >= 2, "several cameras per site"
        feeders_of_uplink: dict[str, set[str]] = defaultdict(set)
        for c in cams:
            feeders_of_uplink[c.uplink].add(c.feeder)
        assert any(len(f) > 1 for f in feeders_of_uplink.values()), "uplinks do not follow feeders"
        assert {c.codec for c in cams} == {"h264", "h265"}
    path = tmp_path / "cams.csv"
    write_registry(cams, path, "127.0.0.1", 8554)
    parsed = parse_camera_file(path)
    assert not parsed.errors and len(parsed.rows) == count
    assert [c.codec for c in read_registry(path)] == [c.codec for c in cams]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "it holds the cameras' passwords (secrets-at-rest.md)"
