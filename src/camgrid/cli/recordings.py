"""``camgrid recordings``: what was recorded, what is missing and why, evidence holds, retention."""

from __future__ import annotations

import json

import click

from camgrid.auditing import cli_actor, failing_after
from camgrid.cli.acting import audit_log, refusals
from camgrid.cli.common import open_db, settings_from
from camgrid.clock import SystemClock, iso_to_ns, ns_to_iso
from camgrid.db.engine import unit_of_work
from camgrid.storage import holds, service
from camgrid.vocabulary import AuditAction

NS = 1_000_000_000


def _range(start: str | None, end: str | None) -> tuple[int, int]:
    now = SystemClock().wall_ns()
    try:
        t0 = iso_to_ns(start) if start else now - 3600 * NS
        t1 = iso_to_ns(end) if end else now
    except ValueError as exc:
        raise click.BadParameter(f"times are ISO 8601, e.g. 2026-11-23T06:00:00Z ({exc})") from None
    if t1 <= t0:
        raise click.BadParameter("--to must be after --from")
    return t0, t1


@click.group()
def recordings() -> None:
    """Segments, gaps, evidence holds and retention."""


@recordings.command("segments")
@click.option("--camera", required=True, help="Camera id.")
@click.option("--from", "start", help="Start (ISO 8601 UTC; default one hour ago).")
@click.option("--to", "end", help="End (ISO 8601 UTC; default now).")
@click.option("--json", "as_json", is_flag=True, help="JSON lines.")
@click.pass_context
def segments_cmd(ctx: click.Context, camera: str, start: str | None, end: str | None, as_json: bool) -> None:
    """Recorded segments of a camera in a time range."""
    t0, t1 = _range(start, end)
    _, factory = open_db(settings_from(ctx))
    with unit_of_work(factory) as session:
        rows = service.segments_between(session=session, camera_id=camera, start_ns=t0, end_ns=t1)
        for s in rows:
            rec = {
                "start": ns_to_iso(s.start_ns),
                "end": ns_to_iso(s.end_ns),
                "bytes": s.bytes,
                "frames": s.frames,
                "codec": s.codec,
                "status": s.status,
                "path": s.path,
            }
            click.echo(
                json.dumps(rec) if as_json else f"{rec['start']}  {rec['end']}  {s.codec}  {s.bytes:>10}  {s.path}"
            )


@recordings.command("gaps")
@click.option("--camera", required=True, help="Camera id.")
@click.option("--from", "start", help="Start (ISO 8601 UTC; default one hour ago).")
@click.option("--to", "end", help="End (ISO 8601 UTC; default now).")
@click.option("--json", "as_json", is_flag=True, help="JSON lines.")
@click.pass_context
def gaps_cmd(ctx: click.Context, camera: str, start: str | None, end: str | None, as_json: bool) -> None:
    """Time not recorded, with the reason."""
    t0, t1 = _range(start, end)
    _, factory = open_db(settings_from(ctx))
    with unit_of_work(factory) as session:
        for g in service.gaps_between(session=session, camera_id=camera, start_ns=t0, end_ns=t1):
            rec = {
                "start": ns_to_iso(g.start_ns),
                "end": ns_to_iso(g.end_ns) if g.end_ns else None,
                "reason": g.reason,
                "detail": g.detail,
            }
            click.echo(
                json.dumps(rec) if as_json else f"{rec['start']}  {rec['end'] or 'open':<24}  {g.reason}  {g.detail}"
            )


@recordings.command("hold")
@click.option("--camera", required=True, help="Camera id.")
@click.option("--from", "start", required=True, help="Start of the footage to keep (ISO 8601 UTC).")
@click.option("--to", "end", required=True, help="End of the footage to keep (ISO 8601 UTC).")
@click.option("--reason", required=True, help="Why (case number, request).")
@click.option("--until", help="When the hold ends (ISO 8601 UTC; default: until lifted).")
@click.pass_context
def hold_cmd(ctx: click.Context, camera: str, start: str, end: str, reason: str, until: str | None) -> None:
    """Place an evidence hold: retention will not delete this footage (audited as ``cli:<login>``)."""
    t0, t1 = _range(start, end)
    try:
        until_ns = iso_to_ns(until) if until else None
    except ValueError as exc:
        raise click.BadParameter(f"times are ISO 8601, e.g. 2026-11-23T06:00:00Z ({exc})") from None
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    who = cli_actor()
    try:
        with refusals(), unit_of_work(factory) as session:
            hold = holds.create_hold(
                session=session,
                audit=log,
                actor=who,
                camera_id=camera,
                start_ns=t0,
                end_ns=t1,
                reason=reason,
                now_ns=SystemClock().wall_ns(),
                until_ns=until_ns,
            )
            with failing_after(log, who, AuditAction.HOLD_CREATE, camera=hold.camera_id):
                session.commit()  # a refused commit (the database locked, gone) is logged as such
            click.echo(f"hold {hold.id} on {camera} {ns_to_iso(t0)} .. {ns_to_iso(t1)}")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@recordings.command("retention")
@click.pass_context
def retention_cmd(ctx: click.Context) -> None:
    """Run one retention pass now, of this node's recordings (the recorder runs it every retention.interval_s).

    The recorder's own runner, audited under the operator's login; in a cluster only the segments this node
    (``recorder.node_id``) recorded: the others are on other nodes' disks.
    """
    from camgrid.audit.log import AuditLog
    from camgrid.auditing import AuditError, cli_actor
    from camgrid.motion.activity_store import ActivityRetention
    from camgrid.runtime import activity_store
    from camgrid.storage.retention import RetentionRunner

    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    clock = SystemClock()
    try:
        audit_log = AuditLog.open(engine, home=settings.home, clock=clock, auto_checkpoint=False)
    except AuditError as exc:
        raise click.ClickException(f"audit log unavailable, nothing deleted: {exc}") from None
    runner = RetentionRunner(
        factory=factory,
        cfg=settings.retention,
        audit=audit_log,
        actor=cli_actor(),
        clock=clock,
        node_id=settings.recorder.node_id,
    )
    runner.add_listener(ActivityRetention(store=activity_store(settings), factory=factory))  # erased with the video
    report = runner.run()
    click.echo(json.dumps(report.as_dict()))
    if report.refused:
        raise click.ClickException(f"retention stopped: {report.refused}")
