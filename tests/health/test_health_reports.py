"""Reports by tables (docs/design/health-incidents.md, "Reports"): hand-made gaps and incidents -> availability,
outage minutes by cause, lost and live coverage; plus the SQL layer on a real migrated database."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from tests.backends import backend_env

from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.health import reports as r
from camgrid.health.reports import CameraInfo, GapSpan, IncidentSpan

M = 60 * r.NS  # one minute in ns
CAMS = [
    CameraInfo("a", "S1", "F1", "D1"),
    CameraInfo("b", "S1", "F1", "D1"),
    CameraInfo("c", "S2", "F2", "D1"),
    CameraInfo("d", "S3", "F2", "D2"),
]


@pytest.mark.parametrize(
    ("reason", "cause"),
    [
        ("unreachable", "camera"),
        ("stalled", "camera"),
        ("auth_refused", "camera"),
        ("disk_full", "disk"),
        ("disk_slow", "disk"),
        ("recorder_not_running", "recorder"),
        ("starting", "recorder"),
        ("internal_error", "recorder"),  # camgrid itself failed: not the camera's fault
    ],
)
def test_cause_of_reason(reason: str, cause: str) -> None:
    assert r.cause_of_reason(reason) == cause


# gaps, incidents (camera, kind, start, end), expected minutes by cause for camera "a" in [0, 60 min)
OUTAGE_TABLE = [
    ([("unreachable", 10, 20)], [], {"camera": 10}),
    ([("unreachable", 10, 20)], [("power", 9, 20)], {"power": 10}),
    ([("unreachable", 10, 20)], [("power", 12, 15)], {"power": 3, "camera": 7}),
    ([("unreachable", 10, 20)], [("uplink", 10, 30)], {"uplink": 10}),
    ([("unreachable", 10, 20)], [("power", 10, 14), ("uplink", 12, 18)], {"power": 4, "uplink": 4, "camera": 2}),
    ([("unreachable", 10, 20)], [("site", 0, None)], {"power": 10}),
    ([("disk_full", 10, 20)], [("power", 0, 60)], {"disk": 10}),  # a full disk is not a power cut
    ([("recorder_not_running", 50, None)], [], {"recorder": 10}),  # an open gap runs to the end of the period
    ([("unreachable", -30, 5)], [], {"camera": 5}),  # clipped to the period
    ([("stalled", 10, 20), ("unreachable", 15, 25)], [], {"camera": 15}),  # overlapping gaps counted once
    ([("stalled", 70, 80)], [], {}),
]


@pytest.mark.parametrize(("gaps", "incs", "expected"), OUTAGE_TABLE)
def test_camera_outage_by_cause(
    gaps: list[tuple[str, int, int | None]],
    incs: list[tuple[str, int, int | None]],
    expected: dict[str, int],
) -> None:
    g = [GapSpan("a", s * M, None if e is None else e * M, why) for why, s, e in gaps]
    i = [IncidentSpan("a", kind, s * M, None if e is None else e * M) for kind, s, e in incs]
    got = r.camera_outage(g, i, 0, 60 * M)
    assert {k: v // M for k, v in got.items() if v} == expected


def test_availability_by_group() -> None:
    gaps = [
        GapSpan("a", 0, 30 * M, "unreachable"),  # F1 cut for 30 min: a and b
        GapSpan("b", 0, 30 * M, "unreachable"),
        GapSpan("c", 40 * M, 46 * M, "auth_refused"),  # a lone camera fault
        GapSpan("d", 0, 60 * M, "disk_full"),
    ]
    incs = [IncidentSpan("a", "power", 0, 30 * M), IncidentSpan("b", "power", 0, 30 * M)]
    rows = {x.key: x for x in r.availability(CAMS, gaps, incs, 0, 60 * M, "feeder")}
    assert rows["F1"].cameras == 2 and rows["F1"].availability == pytest.approx(0.5)
    assert rows["F1"].by_cause_s["power"] == pytest.approx(60 * 60)
    assert rows["F2"].availability == pytest.approx(1 - (6 + 60) / 120)
    assert rows["F2"].by_cause_s == {
        "power": 0,
        "uplink": 0,
        "camera": 6 * 60,
        "recorder": 0,
        "disk": 60 * 60,
        "maintenance": 0,
    }
    city = r.availability(CAMS, gaps, incs, 0, 60 * M, "city")
    assert len(city) == 1 and city[0].cameras == 4
    assert city[0].availability == pytest.approx(1 - (30 + 30 + 6 + 60) / 240)
    by_district = {x.key: x.availability for x in r.availability(CAMS, gaps, incs, 0, 60 * M, "district")}
    assert by_district == pytest.approx({"D1": 1 - 66 / 180, "D2": 0.0})
    by_camera = r.availability(CAMS, gaps, incs, 0, 60 * M, "camera")
    assert [x.key for x in by_camera] == ["d", "a", "b", "c"]  # worst first
    d = rows["F1"].as_dict()
    assert d["outage_min"]["power"] == 60 and d["down_min"] == 60 and d["availability"] == 0.5
    with pytest.raises(ValueError, match="by must be"):
        r.availability(CAMS, gaps, incs, 0, M, "street")


COVERAGE = {"a": [("p1", 3.0), ("p2", 1.0)], "b": [("p2", 1.0)], "c": [("p3", 2.0)]}


@pytest.mark.parametrize(
    ("down", "lost_weight_min"),
    [
        ({}, 0),
        ({"a": [(0, 10)]}, 3 * 10),  # p2 is still watched by b
        ({"a": [(0, 10)], "b": [(5, 20)]}, 3 * 10 + 1 * 5),  # p2 dark only while both are
        ({"c": [(0, 60)]}, 2 * 60),
        ({"d": [(0, 60)]}, 0),  # a camera that watches nothing loses nothing
    ],
)
def test_lost_coverage(down: dict[str, list[tuple[int, int]]], lost_weight_min: int) -> None:
    spans = {c: [(s * M, e * M) for s, e in v] for c, v in down.items()}
    got = r.lost_coverage(COVERAGE, spans, 0, 60 * M)
    assert got["weight_total"] == 6.0
    assert got["lost_weight_h"] == pytest.approx(lost_weight_min / 60)
    assert got["share"] == pytest.approx(lost_weight_min / (6 * 60), abs=1e-6)


@pytest.mark.parametrize(
    ("up", "share"), [({"a", "b", "c"}, 1.0), ({"b", "c"}, 3 / 6), ({"a"}, 4 / 6), (set(), 0.0), ({"c"}, 2 / 6)]
)
def test_live_coverage(up: set[str], share: float) -> None:
    assert r.live_coverage(COVERAGE, up) == pytest.approx(share)
    assert r.live_coverage({}, up) == 1.0


spans_st = st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100)).map(lambda t: (min(t), max(t))), max_size=8)


@given(spans_st, spans_st)
def test_merge_and_intersect_agree_with_sets(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> None:
    def cells(spans: list[tuple[int, int]]) -> set[int]:
        return {x for s, e in spans for x in range(s, e)}

    ma, mb = r.merge(a), r.merge(b)
    assert cells(ma) == cells(a) and r.total(ma) == len(cells(a))
    assert all(x[1] < y[0] for x, y in itertools.pairwise(ma))
    assert cells(r.intersect(ma, mb)) == cells(a) & cells(b)


def test_sql_layer(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    with unit_of_work(factory) as s:
        for t, ids in (("districts", ["D1", "D2"]), ("feeders", ["F1", "F2"]), ("uplinks", ["U1"])):
            for i in ids:
                s.execute(text(f"insert into {t} (id, name) values (:i, :i)"), {"i": i})
        for site, d in (("S1", "D1"), ("S2", "D1"), ("S3", "D2")):
            s.execute(
                text(
                    "insert into sites (id, name, district_id, feeder_id, uplink_id, lat, lon) values "
                    "(:i, :i, :d, 'F1', 'U1', 0, 0)"
                ),
                {"i": site, "d": d},
            )
        for c in CAMS:
            s.execute(
                text(
                    "insert into cameras (id, name, lat, lon, district_id, site_id, feeder_id, uplink_id, rtsp_url,"
                    " sub_rtsp_url, username, credentials, status, updated_ns, revision)"
                    " values (:i, :i, 0, 0, :d, :s, :f, 'U1', 'rtsp://x', '', '', '', 'active', 0, 1)"
                ),
                {"i": c.id, "d": c.district, "s": c.site, "f": c.feeder},
            )
        for cam, start, end, reason in (
            ("a", 0, 30, "unreachable"),
            ("b", 0, 30, "unreachable"),
            ("d", 50, None, "disk_full"),
            ("c", 200, 300, "stalled"),
        ):
            s.execute(
                text(
                    "insert into gaps (camera_id, start_ns, end_ns, reason, detail, node_id)"
                    " values (:c, :s, :e, :r, '', 'n')"
                ),
                {"c": cam, "s": start * M, "e": None if end is None else end * M, "r": reason},
            )
        s.execute(
            text(
                "insert into incidents (engine_key, kind, subject, opened_ns, confidence, n_members, flaps, evidence)"
                " values ('k1', 'power', 'F1', :o, 0.9, 2, 0, '')"
            ),
            {"o": 1 * M},
        )
        for cam in ("a", "b"):
            s.execute(
                text(
                    "insert into incident_cameras (incident_id, camera_id, role, down_ns) values (1, :c, 'member', 0)"
                ),
                {"c": cam},
            )
    with unit_of_work(factory) as s:
        rep = r.availability_report(session=s, lo=0, hi=60 * M, by="feeder", coverage=COVERAGE)
        scoped = r.availability_report(session=s, lo=0, hi=60 * M, by="camera", districts=["D2"])
    rows = {x["key"]: x for x in rep["rows"]}
    assert rows["F1"]["outage_min"]["power"] == 60 and rows["F1"]["availability"] == 0.5
    assert rows["F2"]["outage_min"]["disk"] == 10 and rows["F2"]["outage_min"]["camera"] == 0  # c's gap is later
    assert rep["city"]["cameras"] == 4 and rep["from_ms"] == 0 and rep["to_ms"] == 3_600_000
    assert rep["lost_coverage"]["lost_weight_h"] == pytest.approx((3 * 30 + 1 * 30) / 60)
    assert [x["key"] for x in scoped["rows"]] == ["d"]  # a user of D2 sees D2 only


def test_report_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from camgrid.cli.main import cli

    test_sql_layer(tmp_path)  # the same hand-made city in tmp_path's database
    runner = CliRunner()
    args = ["--home", str(tmp_path), "report", "availability", "--from", "1970-01-01T00:00:00Z"]
    out = runner.invoke(cli, [*args, "--to", "1970-01-01T01:00:00", "--by", "feeder", "--format", "csv"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert (
        lines[0]
        == "feeder,cameras,availability,down_min,power_min,uplink_min,camera_min,recorder_min,disk_min,maintenance_min"
    )
    assert "F1,2,0.5,60.0,60.0,0.0,0.0,0.0,0.0,0.0" in lines and lines[-1].startswith("city,4,")
    js = runner.invoke(cli, [*args, "--to", "1970-01-01T01:00:00Z", "--by", "district"])
    assert js.exit_code == 0 and json.loads(js.output)["by"] == "district"
    bad = runner.invoke(cli, [*args, "--to", "1969-12-31T00:00:00Z"])
    assert bad.exit_code == 2 and "after" in bad.output
    assert runner.invoke(cli, ["report", "availability", "--help"]).exit_code == 0


def test_availability_series_buckets() -> None:
    gaps = [GapSpan("a", 10 * M, 40 * M, "unreachable")]
    s = r.availability_series(CAMS, gaps, [], 0, 60 * M, 20 * M, "camera")
    assert s["a"] == [0.5, 0.0, 1.0] and s["d"] == [1.0, 1.0, 1.0]
    assert r.buckets(0, 50, 20) == [(0, 20), (20, 40), (40, 50)]
    with pytest.raises(ValueError, match="at most"):
        r.buckets(0, 10_000, 1)


def test_power_cut_stats_ranking_and_hours() -> None:
    h = 3600 * r.NS
    cuts = [
        ("F1", 14 * h, 15 * h),  # 60 min, begins at 14:00 UTC = 19:45 local (+5:45)
        ("F1", 2 * h, 2 * h + 30 * M),  # 30 min
        ("F2", 13 * h, None),  # still out at the end of the period: 11 h
        ("F3", -2 * h, 1 * h),  # began before the period: its minutes count, not the cut
    ]
    got = r.power_cut_stats(cuts, 0, 24 * h, lambda _t: 5 * 3600 + 45 * 60)
    assert got["feeders"] == [
        {"feeder": "F2", "cuts": 1, "minutes": 660.0},
        {"feeder": "F1", "cuts": 2, "minutes": 90.0},
        {"feeder": "F3", "cuts": 0, "minutes": 60.0},
    ]
    hours = got["hour_of_day"]
    assert sum(hours) == 3 and hours[19] == 1 and hours[7] == 1 and hours[18] == 1


def test_maintenance_is_reported_apart_and_left_out_of_availability() -> None:
    """A camera dark from minute 30 to 90 of two hours, in maintenance from 20 to 60: the half hour under repair is
    ``maintenance`` (not down), the rest ``camera``; availability is over the 80 minutes it was in service."""
    cam = [CameraInfo("a", "S1", "F1", "D1")]
    gaps = [GapSpan("a", 30 * M, 90 * M, "unreachable")]
    windows = [IncidentSpan("a", "maintenance", 20 * M, 60 * M)]
    [row] = r.availability(cam, gaps, windows, 0, 120 * M, "camera")
    assert row.by_cause_s["maintenance"] == pytest.approx(30 * 60) and row.by_cause_s["camera"] == pytest.approx(
        30 * 60
    )
    assert row.down_s == pytest.approx(30 * 60) and row.availability == pytest.approx(1 - 30 / 80)
    # a disk gap inside the window is maintenance too: a camera under repair is not expected to record
    [row] = r.availability(cam, [GapSpan("a", 30 * M, 50 * M, "disk_full")], windows, 0, 120 * M, "camera")
    assert row.by_cause_s["maintenance"] == pytest.approx(20 * 60) and row.down_s == 0 and row.availability == 1.0


def test_sql_layer_reads_maintenance_windows(tmp_path: Path) -> None:
    test_sql_layer(tmp_path)  # the hand-made city: c is dark (stalled) from minute 200 to 300
    engine = make_engine(load_settings(tmp_path, backend_env(tmp_path)).database_url)
    factory = session_factory(engine)
    with unit_of_work(factory) as s:
        s.execute(
            text(
                "insert into camera_maintenance (camera_id, start_ns, end_ns, started_by, note)"
                " values ('c', :s, :e, 'op', 'mast repainted')"
            ),
            {"s": 190 * M, "e": 260 * M},
        )
    with unit_of_work(factory) as s:
        rep = r.availability_report(session=s, lo=0, hi=400 * M, by="camera")
    engine.dispose()
    c = {x["key"]: x for x in rep["rows"]}["c"]
    assert c["outage_min"]["maintenance"] == 60 and c["outage_min"]["camera"] == 40 and c["down_min"] == 40
    # c is first seen at minute 200 (its first gap): it exists 200 minutes, 60 of them in maintenance
    assert c["availability"] == pytest.approx(1 - 40 / (200 - 60))
