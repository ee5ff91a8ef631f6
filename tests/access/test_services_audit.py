"""Services own their invariants (docs/design/services-own-invariants.md): the test walks every public function of
every service module and fails for one that changes data without declaring it (``@audited``), for an audited one
whose ``audit``/``actor`` are not required keyword-only arguments, and for one that acts although its audit entry
could not be written (each is called with a refusing log, whatever it did is committed, and nothing may differ),
modelled on tests/api/test_api_roles.py, which fails for a route without a permission.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pyotp
import pytest
from sqlalchemy.orm import Session

import camgrid
from camgrid.access import directory, totp
from camgrid.access import service as access
from camgrid.access import settings as ui_settings
from camgrid.auditing import SYSTEM, Actor, AuditError, AuditWriter, audit_action
from camgrid.config import PlanRunsConfig
from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade
from camgrid.db.secrets import SecretBox
from camgrid.exports import service as exports
from camgrid.health import service as health
from camgrid.ingest import service as ingest
from camgrid.motion import service as motion
from camgrid.motion import tamper_service as tamper
from camgrid.onvif.discovery import DiscoveryRequest
from camgrid.onvif.service import start_discovery
from camgrid.planner import runs as plan_runs
from camgrid.privacy import camera_mask_service as camera_masks
from camgrid.privacy import service as masks
from camgrid.registry import service as registry
from camgrid.storage import backfill, holds
from camgrid.vocabulary import EvidenceKind, PlanAreaKind, Role, UiCalendar, UiDigits, UiLanguage
from tests.access.world import ADMIN, ADMIN2, OP, PASSWORD, QUARTER, SUP, T0, Refusing, World, build, camera, reopen
from tests.backends import copy_database, db_url

NS = 1_000_000_000
# Service modules that are not named ``service`` (every ``camgrid.<package>.service`` is found on its own).
SERVICE_MODULES = (
    "camgrid.access.settings",
    "camgrid.storage.holds",
    "camgrid.exports.service",
    "camgrid.access.totp",
    "camgrid.access.directory",
    "camgrid.storage.backfill",
    "camgrid.privacy.camera_mask_service",
    "camgrid.health.onvif_service",
    "camgrid.access.layouts",
    "camgrid.planner.runs",
    "camgrid.motion.tamper_service",
)

# Public functions of service modules that are not audited, and why. A new one fails the walk until it is here.
NOT_AUDITED: dict[str, str] = {
    # reads and pure helpers
    "camgrid.access.service.user_for": "read (scoped)",
    "camgrid.exports.service.coverage": "read (scoped): what a range holds, before an export is asked for",
    "camgrid.access.service.principal": "pure",
    "camgrid.access.service.authenticate": "read; a failed login is audited by the login route (no data changes)",
    "camgrid.access.service.resolve": "read",
    "camgrid.access.settings.ui_settings": "read (the caller's own)",
    "camgrid.access.totp.enrolment_of": "read",
    "camgrid.access.totp.second_factor_for": "read",
    "camgrid.access.service.list_users": "read (scoped)",
    "camgrid.access.service.list_tokens": "read (scoped)",
    "camgrid.access.service.credential_count": "read",
    "camgrid.access.service.check_ttl": "pure",
    "camgrid.registry.service.camera_for": "read (scoped)",
    "camgrid.registry.service.list_cameras": "read",
    "camgrid.registry.service.camera_out": "pure",
    "camgrid.registry.service.export_rows": "pure",
    "camgrid.registry.service.reveal": "read: the recorder opens credentials to log in (their release is audited "
    "by export_rows_with_secrets)",
    "camgrid.registry.service.check_secrets": "read",
    "camgrid.registry.service.open_maintenance": "read (the caller scoped the camera)",
    "camgrid.registry.service.in_maintenance": "read (the incident feed's, unscoped: it serves the whole city)",
    "camgrid.privacy.service.get_mask": "read",
    "camgrid.privacy.service.all_masks": "read",
    "camgrid.privacy.camera_mask_service.state_of": "read",
    "camgrid.privacy.camera_mask_service.all_states": "read",
    "camgrid.privacy.camera_mask_service.recorder_side": "the recorder keeps masking a camera that cannot hold "
    "masks: neither the mask nor who burns it in changes",
    "camgrid.privacy.camera_mask_service.camera_masks_verified": "bookkeeping: when a check of the camera's own "
    "mask first passed (its setting was audited)",
    "camgrid.storage.service.segments_between": "read",
    "camgrid.storage.service.gaps_between": "read",
    "camgrid.storage.service.list_holds": "read",
    "camgrid.storage.holds.hold_for": "read (scoped)",
    "camgrid.storage.holds.visible_holds": "read (scoped)",
    "camgrid.exports.service.local_sources": "pure",
    "camgrid.motion.service.local_sources": "pure",
    "camgrid.motion.service.candidate_spans": "pure",
    "camgrid.exports.service.folder_of": "pure",
    "camgrid.exports.service.export_for": "read (scoped)",
    "camgrid.exports.service.list_exports": "read (scoped)",
    "camgrid.exports.service.audit_entries": "pure",
    "camgrid.exports.service.export_files": "read",
    "camgrid.health.service.list_incidents": "read",
    "camgrid.health.service.get_incident": "read",
    "camgrid.health.service.incident_out": "read",
    "camgrid.planner.service.with_fixed": "pure computation",
    "camgrid.planner.service.solve": "pure computation",
    "camgrid.planner.service.best_of": "pure computation",
    "camgrid.planner.service.plan_phases": "pure computation",
    "camgrid.planner.service.coverage_summary": "pure computation",
    "camgrid.cluster.service.live_capacities": "read",
    "camgrid.cluster.service.live_budgets": "read",
    "camgrid.cluster.service.city_load_mbps": "read",
    "camgrid.cluster.service.held_load_mbps": "read",
    "camgrid.cluster.service.active_cameras": "read",
    "camgrid.cluster.service.holders": "read",
    "camgrid.storage.backfill.recent_gaps": "read",
    "camgrid.storage.backfill.camera_infos": "read",
    "camgrid.storage.backfill.open_gap_cameras": "read",
    "camgrid.storage.backfill.known_jobs": "read",
    "camgrid.storage.backfill.due_jobs": "read",
    "camgrid.storage.backfill.jobs_of": "read (the caller scoped the camera)",
    "camgrid.planner.runs.check_request": "pure",
    "camgrid.planner.runs.plan_rows": "pure",
    "camgrid.planner.runs.run_out": "pure",
    "camgrid.planner.runs.list_runs": "read (scoped)",
    "camgrid.planner.runs.run_for": "read (scoped)",
    "camgrid.planner.runs.plan_of": "read (scoped)",
    "camgrid.planner.runs.stop_requested": "read",
    "camgrid.planner.runs.claim_next": "the plan worker's bookkeeping (the run was audited when a planner started it)",
    "camgrid.planner.runs.record_progress": "the plan worker's bookkeeping (a run's objective, bound, gap, steps)",
    "camgrid.planner.runs.finish_run": "the plan worker's bookkeeping (how an audited run ended)",
    "camgrid.planner.runs.mark_interrupted": "the plan worker's bookkeeping (runs a stop interrupted)",
    # camgrid's own bookkeeping: changes neither what is kept, nor who may do what, nor releases video
    "camgrid.cluster.service.register": "a recorder node announces itself (cluster bookkeeping)",
    "camgrid.cluster.service.heartbeat": "cluster bookkeeping",
    "camgrid.cluster.service.set_bitrates": "cluster bookkeeping",
    "camgrid.cluster.service.renew": "camera leases (cluster bookkeeping)",
    "camgrid.cluster.service.ensure_lease_rows": "camera leases (cluster bookkeeping)",
    "camgrid.cluster.service.take": "camera leases (cluster bookkeeping)",
    "camgrid.cluster.service.release": "camera leases (cluster bookkeeping)",
    "camgrid.cluster.service.mark_down": "cluster bookkeeping",
    "camgrid.health.service.record_transitions": "the health engine's derived state",
    "camgrid.health.service.persist_incident": "the incident engine's derived state",
    "camgrid.health.onvif_service.record_camera_events": "what cameras report (ONVIF events), as observed",
    "camgrid.health.onvif_service.record_clock": "a camera's measured clock offset, as observed",
    "camgrid.health.onvif_service.prune_camera_events": "retention of observations (onvif.event_days)",
    "camgrid.health.onvif_service.camera_events_between": "read",
    "camgrid.health.onvif_service.onvif_status": "read",
    "camgrid.health.onvif_service.last_states": "read",
    "camgrid.motion.tamper_service.raise_tamper": "what camgrid sees in a camera's pictures (an observation, as "
    "health transitions are)",
    "camgrid.motion.tamper_service.clear_tamper": "an observation: the picture is normal again",
    "camgrid.motion.tamper_service.save_reference": "the reference camgrid learnt (its re-take is audited)",
    "camgrid.motion.tamper_service.open_tampers": "read",
    "camgrid.motion.tamper_service.references": "read",
    "camgrid.motion.tamper_service.pending_retakes": "read",
    "camgrid.motion.tamper_service.stills_of": "read",
    "camgrid.motion.tamper_service.incident_still": "read (scoped; the route checks the video permission)",
    "camgrid.health.service.persist_records": "the incident engine's derived state",
    "camgrid.health.service.persist_records_ids": "the incident engine's derived state",
    "camgrid.health.service.close_stale_live": "the incident engine's derived state (logged as camgrid's action)",
    "camgrid.health.service.acknowledge": "an operator's note on an incident, kept with who and when",
    "camgrid.health.service.comment": "an operator's note on an incident, kept with who and when",
    "camgrid.storage.backfill.add_jobs": "edge backfill's pending jobs (each is audited by begin_job when it runs)",
    "camgrid.storage.backfill.requeue_running": "edge backfill bookkeeping (jobs interrupted by a stop)",
    "camgrid.storage.backfill.finish_job": "edge backfill bookkeeping (the job's outcome, after its audited start)",
    "camgrid.sim.service.prepare": "the simulator's own files",
    "camgrid.sim.service.serve": "runs the simulator",
    # a user's own wall layouts: release no video (each tile's stream is authorised when it opens), seen by nobody else
    "camgrid.access.layouts.list_layouts": "read (the user's own, scoped)",
    "camgrid.access.layouts.save_layout": "a user's own wall layout (releases no video)",
    "camgrid.access.layouts.update_layout": "a user's own wall layout (releases no video)",
    "camgrid.access.layouts.rename_layout": "a user's own wall layout (releases no video)",
    "camgrid.access.layouts.delete_layout": "a user's own wall layout (releases no video)",
}

Call = Callable[[World, Session, AuditWriter], object]


def _export(w: World, s: Session, audit: AuditWriter) -> object:
    return exports.request_export(
        session=s, audit=audit, actor=OP, camera_id="cam-a", from_ns=T0, to_ns=T0 + 4 * NS, reason="case 3", now_ns=T0
    )


def _approve(w: World, s: Session, audit: AuditWriter) -> object:
    return exports.approve_export(
        session=s, audit=audit, actor=SUP, root=w.root, export_id=w.ids["pending"], reason="ok", now_ns=T0 + 9 * NS
    )


# One call per audited function, on the world of tests/access/world.py; a new audited function fails until it has one.
CASES: dict[str, Call] = {
    "camgrid.access.settings.set_ui_settings": lambda w, s, a: ui_settings.set_ui_settings(
        session=s,
        audit=a,
        actor=ADMIN,
        user_id=access.user_for(session=s, actor=ADMIN, username="victim").id,
        settings=ui_settings.UiSettings(UiLanguage.FA_AF, UiCalendar.PERSIAN, UiDigits.ARABEXT),
    ),
    "camgrid.access.service.create_user": lambda w, s, a: access.create_user(
        session=s, audit=a, actor=ADMIN, username="new", password=PASSWORD, role="viewer", districts=["D-01"], now_ns=T0
    ),
    "camgrid.access.service.update_user": lambda w, s, a: access.update_user(
        session=s, audit=a, actor=ADMIN, username="victim", role="supervisor"
    ),
    "camgrid.access.service.disable_user": lambda w, s, a: access.disable_user(
        session=s, audit=a, actor=ADMIN, username="victim"
    ),
    "camgrid.access.service.enable_user": lambda w, s, a: access.enable_user(
        session=s, audit=a, actor=ADMIN, username="gone-quiet"
    ),
    "camgrid.access.service.delete_user": lambda w, s, a: access.delete_user(
        session=s, audit=a, actor=ADMIN, username="victim", now_ns=T0
    ),
    "camgrid.access.service.reset_password": lambda w, s, a: access.reset_password(
        session=s, audit=a, actor=ADMIN, username="victim", password="another-password-1"
    ),
    "camgrid.access.service.revoke_access": lambda w, s, a: access.revoke_access(
        session=s, audit=a, actor=ADMIN, username="victim"
    ),
    "camgrid.access.service.start_session": lambda w, s, a: access.start_session(
        session=s,
        audit=a,
        actor=OP,
        user=access.user_for(session=s, actor=ADMIN, username="viewer"),
        ttl_s=60,
        now_ns=T0,
    ),
    "camgrid.access.service.end_session": lambda w, s, a: access.end_session(
        session=s, audit=a, actor=OP, secret="no-such-secret"
    ),
    "camgrid.access.service.issue_token": lambda w, s, a: access.issue_token(
        session=s, audit=a, actor=ADMIN, username="viewer", ttl_s=60, now_ns=T0
    ),
    "camgrid.access.service.revoke_tokens": lambda w, s, a: access.revoke_tokens(
        session=s, audit=a, actor=ADMIN, username="victim"
    ),
    "camgrid.access.totp.enrol": lambda w, s, a: totp.enrol(
        session=s,
        audit=a,
        actor=ADMIN,
        user=access.user_for(session=s, actor=ADMIN, username="viewer"),
        box=totp.SecretBox.open(w.home),
        now_ns=T0,
        confirmed=True,
    ),
    "camgrid.access.totp.reset": lambda w, s, a: totp.reset(session=s, audit=a, actor=ADMIN, username="victim"),
    "camgrid.access.totp.verify": lambda w, s, a: totp.verify(
        session=s,
        audit=a,
        actor=OP,
        user=access.user_for(session=s, actor=ADMIN, username="victim"),
        box=totp.SecretBox.open(w.home),
        code=pyotp.TOTP(w.ids["totp"].secret).at(T0 // NS + 60),
        now_ns=T0 + 60 * NS,
    ),
    "camgrid.access.directory.sync_user": lambda w, s, a: directory.sync_user(
        session=s,
        audit=a,
        actor=Actor("dir-user", "operator", ("D-01",)),
        found=directory.DirectoryUser("dir-user", "uid=dir-user,ou=people,dc=city", "operator", ("D-01",)),
        now_ns=T0,
    ),
    "camgrid.registry.service.import_cameras": lambda w, s, a: registry.import_cameras(
        session=s, audit=a, actor=ADMIN, rows=[camera("cam-c", "D-03")], now_ns=T0
    ),
    "camgrid.registry.service.export_rows_with_secrets": lambda w, s, a: registry.export_rows_with_secrets(
        session=s, audit=a, actor=ADMIN, box=SecretBox(w.home / "secrets.key")
    ),
    "camgrid.registry.service.set_camera_status": lambda w, s, a: registry.set_camera_status(
        session=s, audit=a, actor=ADMIN, camera_id="cam-b", status="disabled", now_ns=T0
    ),
    "camgrid.registry.service.set_camera_audio": lambda w, s, a: registry.set_camera_audio(
        session=s, audit=a, actor=ADMIN, camera_id="cam-a", enabled=True, now_ns=T0
    ),
    "camgrid.registry.service.set_maintenance": lambda w, s, a: registry.set_maintenance(
        session=s, audit=a, actor=OP, camera_id="cam-a", on=True, note="lens replaced", now_ns=T0
    ),
    "camgrid.ingest.service.open_probe": lambda w, s, a: ingest.open_probe(
        session=s, audit=a, actor=OP, box=SecretBox(w.home / "secrets.key"), camera_id="cam-a", seconds=5.0
    ),
    # the request is checked and the entry written; the probe itself runs afterwards (camgrid.onvif.discovery.run)
    "camgrid.onvif.service.start_discovery": lambda w, s, a: start_discovery(
        audit=a, actor=ADMIN, request=DiscoveryRequest(addresses=("127.0.0.1",), username="admin", password="pw")
    ),
    "camgrid.privacy.service.set_mask": lambda w, s, a: masks.set_mask(
        session=s, audit=a, actor=ADMIN, camera_id="cam-a", polygons=QUARTER[:1] * 2, now_ns=T0
    ),
    "camgrid.privacy.service.request_removal": lambda w, s, a: masks.request_removal(
        session=s, audit=a, actor=ADMIN, camera_id="cam-a", now_ns=T0
    ),
    "camgrid.privacy.service.approve_removal": lambda w, s, a: masks.approve_removal(
        session=s, audit=a, actor=ADMIN2, camera_id="cam-b", now_ns=T0
    ),
    "camgrid.privacy.service.refuse_removal": lambda w, s, a: masks.refuse_removal(
        session=s, audit=a, actor=ADMIN2, camera_id="cam-b", now_ns=T0
    ),
    "camgrid.privacy.camera_mask_service.set_camera_masks": lambda w, s, a: camera_masks.set_camera_masks(
        session=s, audit=a, actor=ADMIN, camera_id="cam-b", revision=1, apply=lambda: ["Mask1"], now_ns=T0
    ),
    "camgrid.privacy.camera_mask_service.camera_masks_failed": lambda w, s, a: camera_masks.camera_masks_failed(
        session=s, audit=a, actor=SYSTEM, camera_id="cam-b", reason="tampered", now_ns=T0
    ),
    "camgrid.privacy.camera_mask_service.rearm_camera_masks": lambda w, s, a: camera_masks.rearm_camera_masks(
        session=s, audit=a, actor=ADMIN, camera_id="cam-a", now_ns=T0
    ),
    "camgrid.motion.tamper_service.retake_reference": lambda w, s, a: tamper.retake_reference(
        session=s, audit=a, actor=OP, camera_id="cam-a", now_ns=T0
    ),
    "camgrid.storage.holds.create_hold": lambda w, s, a: holds.create_hold(
        session=s, audit=a, actor=SUP, camera_id="cam-b", start_ns=T0, end_ns=T0 + NS, reason="case 4", now_ns=T0
    ),
    "camgrid.motion.service.search_motion": lambda w, s, a: motion.search_motion(
        session=s,
        audit=a,
        actor=OP,
        store=None,
        camera_id="cam-a",
        region=[0, 0, 0.5, 0.5],
        start_ns=T0,
        end_ns=T0 + 10 * NS,
    ),
    "camgrid.storage.holds.release_hold": lambda w, s, a: holds.release_hold(
        session=s, audit=a, actor=SUP, hold_id=w.ids["hold"], reason="case closed", now_ns=T0 + NS
    ),
    "camgrid.storage.backfill.begin_job": lambda w, s, a: backfill.begin_job(
        session=s,
        audit=a,
        actor=SYSTEM,
        camera_id="cam-a",
        start_ns=T0,
        end_ns=T0 + 60 * NS,
        node_id="local",
        now_ns=T0 + 90 * NS,
    ),
    "camgrid.exports.service.request_export": _export,
    "camgrid.exports.service.approve_export": _approve,
    "camgrid.exports.service.refuse_export": lambda w, s, a: exports.refuse_export(
        session=s, audit=a, actor=SUP, export_id=w.ids["pending"], reason="no", now_ns=T0 + NS
    ),
    "camgrid.exports.service.download_export": lambda w, s, a: exports.download_export(
        session=s, audit=a, actor=OP, root=w.root, export_id=w.ids["ready"], name=exports.CLIP
    ),
    "camgrid.exports.service.package_export": lambda w, s, a: exports.package_export(
        session=s, audit=a, actor=OP, root=w.root, export_id=w.ids["ready"]
    ),
    "camgrid.health.service.decide_suggestion": lambda w, s, a: health.decide_suggestion(
        session=s, audit=a, actor=SUP, suggestion_id=w.ids["suggestion"], accept=True, t_ns=T0
    ),
    "camgrid.health.service.submit_evidence": lambda w, s, a: health.submit_evidence(
        feed=w.feed, audit=a, actor=OP, kind=EvidenceKind.FEEDER, subject="F-D-01", active=True, t_ns=T0
    ),
    "camgrid.planner.runs.start_run": lambda w, s, a: plan_runs.start_run(
        session=s,
        audit=a,
        actor=PLANNER,
        request=plan_runs.RunRequest(PlanAreaKind.DISTRICTS, (3.0,), ("dome-90",), ("D-01",)),
        cfg=PlanRunsConfig(),
        known_districts={"D-01"},
        map_box=(27.0, 85.0, 28.0, 86.0),
        now_ns=T0,
    ),
    "camgrid.planner.runs.stop_run": lambda w, s, a: plan_runs.stop_run(
        session=s, audit=a, actor=PLANNER, run_id=w.ids["plan_running"], now_ns=T0
    ),
    "camgrid.planner.runs.import_run": lambda w, s, a: plan_runs.import_run(
        session=s, audit=a, actor=PLANNER, run_id=w.ids["plan_done"], now_ns=T0
    ),
}
# Audited functions that write more than their own entry, and why.
ENTRIES: dict[str, int] = {
    "camgrid.planner.runs.import_run": 2,  # plan.import, then the registry's own cameras.import
}
PLANNER = Actor("planner", Role.PLANNER)


def service_modules() -> list[ModuleType]:
    found = []
    for info in pkgutil.iter_modules(camgrid.__path__):
        name = f"camgrid.{info.name}.service"
        if info.ispkg and (Path(camgrid.__path__[0]) / info.name / "service.py").is_file():
            found.append(importlib.import_module(name))
    return found + [importlib.import_module(m) for m in SERVICE_MODULES]


def public_functions() -> dict[str, Any]:
    out = {}
    for module in service_modules():
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and fn.__module__ == module.__name__ and not name.startswith("_"):
                out[f"{module.__name__}.{name}"] = fn
    return out


def test_every_module_that_audits_is_walked() -> None:
    """A module marking functions ``@audited`` outside the walked list would escape the walk."""
    src = Path(camgrid.__path__[0])
    walked = {m.__name__ for m in service_modules()}
    marking = {
        "camgrid." + ".".join(p.relative_to(src).with_suffix("").parts)
        for p in src.rglob("*.py")
        if re.search(r"^@audited\(", p.read_text(), re.M)
    }
    assert marking <= walked, f"add to SERVICE_MODULES: {sorted(marking - walked)}"


def test_every_service_function_is_audited_or_known_not_to_need_it() -> None:
    functions = public_functions()
    unknown = sorted(n for n, fn in functions.items() if audit_action(fn) is None and n not in NOT_AUDITED)
    assert not unknown, f"audit these (@audited, audit and actor arguments) or state why not in NOT_AUDITED: {unknown}"
    stale = sorted(n for n in NOT_AUDITED if n not in functions)
    assert not stale, f"NOT_AUDITED names functions that are gone: {stale}"
    for name, fn in functions.items():
        if audit_action(fn) is None:
            continue
        params = inspect.signature(fn).parameters
        for arg in ("audit", "actor"):
            p = params.get(arg)
            assert p is not None and p.kind is p.KEYWORD_ONLY and p.default is p.empty, (
                f"{name}: {arg} must be a required keyword-only argument"
            )
    audited = sorted(n for n, fn in functions.items() if audit_action(fn) is not None)
    assert sorted(CASES) == audited, f"give every audited function a case: {sorted(set(audited) ^ set(CASES))}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, dict[str, Any], int]]:
    """The world, built once for the module (about forty audited actions and a recorded segment: seconds a test on a
    loaded machine), kept aside as a template home and database."""
    base = tmp_path_factory.mktemp("world")
    home = base / "home"
    home.mkdir()
    url = db_url(home / "audit.db")  # on PostgreSQL a session database, the template of every test's
    engine = make_engine(url)
    upgrade(engine)
    w = build(engine, home)
    ids, now_ns = dict(w.ids), w.clock.wall_ns()
    w.log.close()
    engine.dispose()  # SQLite: the WAL is in the file; PostgreSQL: a template must have no connection
    home.rename(base / "template")
    yield base, url, ids, now_ns


@pytest.fixture
def world(built: tuple[Path, str, dict[str, Any], int]) -> Iterator[World]:
    """Each test acts on a fresh copy of the built world, at the same paths (rows name files under the home)."""
    base, template_url, ids, now_ns = built
    home = base / "home"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(base / "template", home)
    url = db_url(home / "audit.db")  # SQLite: the copied file; PostgreSQL: this test's database, made a copy
    if url != template_url:
        copy_database(template_url, url)
    engine = make_engine(url)
    w = reopen(engine, home, ids, now_ns)
    yield w
    w.log.close()
    engine.dispose()


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_entry_means_nothing_happens(name: str, world: World) -> None:
    fn = public_functions()[name]
    before = world.snapshot()
    session = world.factory()
    try:
        with pytest.raises(AuditError):
            CASES[name](world, session, Refusing())
        session.commit()  # whatever the service did before the refusal would now be stored
    finally:
        session.close()
    assert world.snapshot() == before, f"{name} acted although its audit entry was refused"

    # The same call with the real log acts, and writes the declared action, as the actor, first.
    size = world.log.size
    session = world.factory()
    try:
        CASES[name](world, session, world.log)
        session.commit()
    finally:
        session.close()
    assert world.log.size == size + ENTRIES.get(name, 1), f"{name} wrote {world.log.size - size} entries"
    entry = json.loads(world.log.entry_data(size))
    assert entry["action"] == audit_action(fn)
    releases = (
        "download_export",
        "package_export",
        "export_rows_with_secrets",
        "open_probe",
    )  # hand something out, change nothing
    assert world.snapshot() != before or name.endswith(releases), f"{name} changed nothing"
