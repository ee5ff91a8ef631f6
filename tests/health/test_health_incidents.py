"""Correlation engine on hand-made outages (design: docs/design/health-incidents.md)."""

from __future__ import annotations

from health_city import Run, cut, make_rows, site_cams

from camgrid.config import HealthConfig
from camgrid.health.incidents import CorrelationEngine, Incident
from camgrid.health.topology import build_topology
from camgrid.scenarios.replay import Event, incident_json, replay


def summary(engine: CorrelationEngine) -> list[tuple[str, str, int]]:
    return sorted((i.kind, i.subject, len(i.members)) for i in engine.incidents)


def names(engine: CorrelationEngine, inc: Incident) -> list[str]:
    return sorted(engine.topo.cam_ids[c] for c in inc.members)


def test_feeder_cut_is_one_power_incident_within_latency(run: Run) -> None:
    cams = site_cams(0, 1, 2, 3)
    engine = run(cut(cams, 100.0, 900.0))
    assert summary(engine) == [("power", "F0", 16)]
    inc = engine.incidents[0]
    assert names(engine, inc) == sorted(cams)
    assert inc.opened <= 100.0 + 4.0 + 5.0  # last member seen by 104, incident within 5 s of it
    assert inc.lag_s() <= 5.0
    assert inc.resolved is not None and inc.resolved >= 900.0
    assert inc.survivors == set()


def test_battery_survivors_are_noted_and_do_not_stop_the_incident(run: Run) -> None:
    engine = run(cut(site_cams(0, 1, 2), 100.0, 900.0))  # site 3 rides through on its UPS
    assert summary(engine) == [("power", "F0", 12)]
    inc = engine.incidents[0]
    assert sorted(engine.topo.cam_ids[c] for c in inc.survivors) == site_cams(3)


def test_ups_running_flat_later_joins_the_power_incident(run: Run) -> None:
    events = cut(site_cams(0, 1, 2), 100.0, 2000.0) + cut(site_cams(3), 1500.0, 2000.0)
    engine = run(events)
    assert summary(engine) == [("power", "F0", 16)]


def test_uplink_cut_across_feeders_is_an_uplink_incident(run: Run) -> None:
    cams = site_cams(0, 3, 6, 9)  # U0 spans F0, F1, F2
    engine = run(cut(cams, 50.0, 400.0))
    assert summary(engine) == [("uplink", "U0", 16)]


def test_site_fault_is_a_site_incident(run: Run) -> None:
    engine = run(cut(site_cams(5), 50.0, 400.0))
    assert summary(engine) == [("site", "S05", 4)]


def test_single_camera_fault_and_flapping_give_one_camera_incident_each(run: Run) -> None:
    events = [Event(10.0, "C070", True, "auth refused"), Event(500.0, "C070", False)]
    t = 1000.0
    for _ in range(6):  # flapping: down 10 s, up 30 s
        events += [Event(t, "C081", True, "stalled"), Event(t + 10.0, "C081", False)]
        t += 40.0
    engine = run(events)
    assert summary(engine) == [("camera", "C070", 1), ("camera", "C081", 1)]
    flapper = next(i for i in engine.incidents if i.subject == "C081")
    assert flapper.flaps == 5
    assert flapper.resolved is not None and flapper.resolved >= t - 40.0 + 10.0
    assert engine.incidents[0].reason == "auth refused"


def test_short_blips_repeated_make_a_flapping_camera(run: Run) -> None:
    events = []
    for k in range(3):  # down 1 s only: never long enough to be judged alone
        events += [Event(100.0 + 60 * k, "C050", True), Event(101.0 + 60 * k, "C050", False)]
    engine = run(events)
    assert summary(engine) == [("camera", "C050", 1)]
    assert engine.incidents[0].reason == "flapping"


def test_partial_returns_update_and_stragglers_are_rejudged(run: Run) -> None:
    cfg = HealthConfig(straggler_s=120.0)
    cams = site_cams(0, 1, 2, 3)
    events = cut(cams, 100.0, None)
    events += [Event(900.0 + i, c, False) for i, c in enumerate(cams) if c != "C020"]  # C020 stays dark
    engine = run(events, cfg)
    power = next(i for i in engine.incidents if i.kind == "power")
    assert power.resolved is not None and 900.0 <= power.resolved < 920.0
    camera = [i for i in engine.incidents if i.kind == "camera"]
    assert [i.subject for i in camera] == ["C020"]
    assert camera[0].opened >= power.resolved + 120.0


def test_wrong_feeder_in_registry_gives_a_suggested_correction() -> None:
    topo = build_topology(make_rows({"C011": {"feeder": "F2"}}))  # really on F0 with its site-mates
    engine = replay(topo, sorted(cut(site_cams(0, 1, 2, 3), 100.0, 900.0), key=lambda e: e.t)).engine
    assert summary(engine) == [("power", "F0", 16)]
    suggestion = engine.incidents[0].suggestions
    assert [(s.camera, s.field, s.registry, s.suggested) for s in suggestion] == [("C011", "feeder", "F2", "F0")]


def test_uplink_cut_during_power_cut(run: Run) -> None:
    power = cut(site_cams(0, 1, 2, 3), 100.0, 600.0)
    # U1 = sites 1, 4, 7, 10; site 1 is already dark from the power cut
    uplink = cut(site_cams(4, 7, 10), 300.0, 1200.0)
    uplink += [Event(1200.0 + i, c, False) for i, c in enumerate(site_cams(1))]
    power = [e for e in power if not (not e.down and e.camera in site_cams(1))]  # site 1 stays dark after 600
    engine = run(power + uplink)
    assert summary(engine) == [("power", "F0", 16), ("uplink", "U1", 16)]
    p = next(i for i in engine.incidents if i.kind == "power")
    u = next(i for i in engine.incidents if i.kind == "uplink")
    assert p.resolved is not None and 600.0 <= p.resolved < 700.0  # power back; site 1 still dark for the uplink
    assert u.resolved is not None and u.resolved >= 1200.0
    assert u.lag_s() <= 5.0


def test_camera_fault_during_an_outage_window_is_listed_as_unexplained(run: Run) -> None:
    events = [*cut(site_cams(0, 1, 2, 3), 100.0, 900.0), Event(103.0, "C110", True), Event(800.0, "C110", False)]
    engine = run(events)
    assert summary(engine) == [("camera", "C110", 1), ("power", "F0", 16)]
    power = next(i for i in engine.incidents if i.kind == "power")
    assert [engine.topo.cam_ids[c] for c in power.unexplained] == ["C110"]


def test_utility_notice_lets_a_few_cameras_open_the_feeder_and_raises_confidence(topo) -> None:  # type: ignore[no-untyped-def]
    plain = CorrelationEngine(topo)
    noticed = CorrelationEngine(topo)
    noticed.utility_notice("F1", 90.0)
    for engine in (plain, noticed):
        for e in cut(site_cams(4), 100.0, None):  # one site of F1 only (its other sites on batteries)
            engine.camera_down(e.camera, e.t, e.reason)
        engine.finish(200.0)
    assert summary(plain) == [("site", "S04", 4)]
    assert summary(noticed) == [("power", "F1", 4)]
    assert noticed.incidents[0].evidence == ["utility"]


def test_evidence_raises_confidence_of_a_power_incident(topo) -> None:  # type: ignore[no-untyped-def]
    confidences = []
    for notice in (False, True):
        engine = CorrelationEngine(topo)
        if notice:
            engine.ups_on_battery("S00", 99.0)
        for e in cut(site_cams(0, 1, 2), 100.0, None):
            engine.camera_down(e.camera, e.t, e.reason)
        engine.finish(200.0)
        assert summary(engine) == [("power", "F0", 12)]
        confidences.append(engine.incidents[0].confidence())
    assert confidences[1] > confidences[0]


def test_two_feeders_cut_together_are_two_incidents(run: Run) -> None:
    engine = run(cut(site_cams(0, 1, 2, 3, 4, 5, 6, 7), 100.0, 900.0, spread=5.0))
    assert summary(engine) == [("power", "F0", 16), ("power", "F1", 16)]


def test_records_stream_opened_then_resolved(topo) -> None:  # type: ignore[no-untyped-def]
    engine = CorrelationEngine(topo)
    seen = []
    for e in sorted(cut(site_cams(5), 50.0, 400.0), key=lambda e: e.t):
        if e.down:
            engine.camera_down(e.camera, e.t, e.reason)
        else:
            engine.camera_up(e.camera, e.t)
        seen += [(r.event, r.incident.kind) for r in engine.drain()]
    engine.advance(1000.0)
    seen += [(r.event, r.incident.kind) for r in engine.drain()]
    assert seen[0] == ("opened", "site")
    assert seen[-1] == ("resolved", "site")
    assert ("updated", "site") in seen


def test_incident_json_keys_and_order(run: Run) -> None:
    engine = run(cut(site_cams(5), 50.0, 400.0))
    row = incident_json(engine.incidents[0], engine.topo)
    assert list(row)[:5] == ["kind", "subject", "opened", "resolved", "cameras"]
    assert row["cameras"] == sorted(row["cameras"])


def test_lone_camera_with_a_wrong_feeder_is_attached_by_place_and_time() -> None:
    # C012 alone at its own site S99, next to site 1 (on F0), but the registry says F2: no site-mates to go by.
    topo = build_topology(make_rows({"C012": {"site": "S99", "feeder": "F2", "uplink": "U2"}}))
    engine = replay(topo, sorted(cut(site_cams(0, 1, 2, 3), 100.0, 900.0), key=lambda e: e.t)).engine
    assert summary(engine) == [("power", "F0", 16)]
    [s] = engine.incidents[0].suggestions
    assert (s.camera, s.field, s.registry, s.suggested) == ("C012", "feeder", "F2", "F0")


def test_lone_camera_far_away_or_late_is_its_own_incident() -> None:
    far = build_topology(make_rows({"C012": {"site": "S99", "feeder": "F2", "uplink": "U2", "lat": "27.9"}}))
    engine = replay(far, sorted(cut(site_cams(0, 1, 2, 3), 100.0, 900.0), key=lambda e: e.t)).engine
    assert summary(engine) == [("camera", "C012", 1), ("power", "F0", 15)]
    near = build_topology(make_rows({"C012": {"site": "S99", "feeder": "F2", "uplink": "U2"}}))
    events = [e for e in cut(site_cams(0, 1, 2, 3), 100.0, None) if e.camera != "C012"]
    engine = replay(near, sorted([*events, Event(160.0, "C012", True)], key=lambda e: e.t)).engine
    assert summary(engine) == [("camera", "C012", 1), ("power", "F0", 15)]


def test_flapping_with_long_gaps_stays_one_incident(run: Run) -> None:
    events, t = [], 1000.0
    for _ in range(5):  # down 20 s, back for 150 s: each gap shorter than the (growing) hysteresis
        events += [Event(t, "C081", True, "stalled"), Event(t + 20.0, "C081", False)]
        t += 170.0
    engine = run(events)
    assert summary(engine) == [("camera", "C081", 1)]
    assert engine.incidents[0].flaps == 4


def test_city_blackout_is_one_power_incident_per_feeder_not_uplinks(run: Run) -> None:
    # every feeder trips within 2 s: each uplink is fully dark too, but the feeders explain it all
    events = []
    for f, offset in ((0, 0.0), (1, 0.8), (2, 1.6)):
        events += cut(site_cams(*range(4 * f, 4 * f + 4)), 100.0 + offset, 2000.0 + 60 * f, spread=5.0)
    engine = run(events)
    assert summary(engine) == [("power", "F0", 16), ("power", "F1", 16), ("power", "F2", 16)]


def test_epoch_seconds_give_the_same_incidents_as_small_times(run: Run) -> None:
    events = cut(site_cams(0, 1, 2, 3), 100.0, 900.0) + cut(site_cams(9), 300.0, 500.0)
    small = summary(run(events))
    shift = 1_700_000_000.0
    big = run([Event(e.t + shift, e.camera, e.down, e.reason) for e in events], until=shift + 20_000.0)
    assert summary(big) == small == [("power", "F0", 16), ("site", "S09", 4)]
    assert all(i.lag_s() <= 5.0 for i in big.incidents)
