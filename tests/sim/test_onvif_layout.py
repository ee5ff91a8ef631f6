"""Which simulated camera is which ONVIF device: models by position, own loopback addresses, the registry's
``onvif_url``, and ``camgrid sim`` serving it all (docs/design/onvif.md, "The simulator as ONVIF devices")."""

from __future__ import annotations

import csv
import os
import re
import subprocess
from pathlib import Path

from camgrid.sim.layout import (
    ALL_SERVICES,
    PROFILE_G,
    make_city,
    onvif_address,
    onvif_index,
    onvif_traits,
    read_registry,
    write_registry,
)
from tests.backends import free_port
from tests.conftest import CAMGRID, CLIP_CACHE
from tests.sim.onvif_wire import envelope, request


def test_models_by_position() -> None:
    first, no_masks, no_events, no_g = (onvif_traits(i) for i in (1, 2, 3, 4))
    assert first.services == ALL_SERVICES and first.masks and first.sd_card and first.battery
    assert no_masks.services == ALL_SERVICES and not no_masks.masks
    assert "events" not in no_events.services and no_events.masks
    assert not (no_g.services & PROFILE_G) and not no_g.sd_card and "media2" in no_g.services
    assert onvif_traits(13) == first  # the cycle repeats (models every 4, batteries every 3)
    assert [i for i in range(1, 13) if onvif_traits(i).battery] == [1, 4, 7, 10]
    assert first.sd_capacity_s == 24 * 3600.0
    assert len({onvif_traits(i).model for i in range(1, 5)}) == 4


def test_each_camera_has_its_own_loopback_address() -> None:
    assert onvif_address(1) == "127.1.0.1"
    assert onvif_address(258) == "127.1.1.2"
    assert onvif_address(65536 + 5) == "127.2.0.5"
    addresses = {onvif_address(i) for i in range(1, 70_000)}
    assert len(addresses) == 69_999
    assert all(onvif_index(onvif_address(i)) == i for i in (1, 255, 256, 65535, 65536, 69_999))
    assert onvif_index("127.0.0.1") is None and onvif_index("10.1.0.1") is None and onvif_index("127.1.0") is None


def test_the_registry_names_each_device_service(tmp_path: Path) -> None:
    cams = make_city(5, seed=3)
    path = tmp_path / "cameras.csv"
    write_registry(cams, path, "127.0.0.1", 8554, 8556)
    rows = list(csv.DictReader(path.open()))
    assert [r["onvif_url"] for r in rows] == [f"http://{c.onvif_address}:8556/onvif/device_service" for c in cams]
    assert [c.id for c in read_registry(path)] == [c.id for c in cams]
    write_registry(cams, path, "127.0.0.1", 8554)  # without ONVIF: the columns as before
    assert "onvif_url" not in next(csv.reader(path.open()))


def test_camgrid_sim_serves_onvif_and_writes_the_real_port(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ)
    env.update(
        CAMGRID_HOME=str(home),
        CAMGRID_SIM__PORT=str(free_port()),
        CAMGRID_SIM__WIDTH="320",
        CAMGRID_SIM__HEIGHT="240",
        CAMGRID_SIM__FPS="10",
        CAMGRID_SIM__CLIP_SECONDS="2",
        CAMGRID_SIM__CACHE_DIR=str(CLIP_CACHE),
        PYTHONUNBUFFERED="1",
    )
    registry = tmp_path / "cameras.csv"
    args = ["sim", "--count", "2", "--out", str(registry), "--control-port", "0"]
    proc = subprocess.Popen(
        [*CAMGRID, *args, "--onvif-port", "0", "--discovery-port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = ""
        for line in proc.stdout:
            if "camgrid-sim ready" in line:
                ready = line
                break
        match = re.search(r"device_service discovery udp/(\d+)", ready)
        port_match = re.search(r"onvif http://<camera address>:(\d+)/", ready)
        assert match and port_match, ready
        rows = list(csv.DictReader(registry.open()))
        urls = [r["onvif_url"] for r in rows]
        assert urls == [f"http://127.1.0.{i}:{port_match.group(1)}/onvif/device_service" for i in (1, 2)]
        status, body = request(
            "127.1.0.2", int(port_match.group(1)), "/onvif/device_service", envelope("GetSystemDateAndTime")
        )
        assert status == 200 and b"UTCDateTime" in body
    finally:
        proc.terminate()
        proc.wait(20)
