"""``camgrid health``: replay camera changes into incidents, make scenarios, score them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from camgrid.auditing import cli_actor
from camgrid.cli.acting import audit_log, refusals
from camgrid.cli.common import open_db, settings_from
from camgrid.clock import SystemClock
from camgrid.db.engine import unit_of_work
from camgrid.health import service
from camgrid.health.topology import build_topology
from camgrid.registry import io as regio
from camgrid.scenarios.city_day import ScenarioShape, generate
from camgrid.scenarios.replay import ReplayInputError, incident_json, parse_events, parse_evidence, replay
from camgrid.scenarios.score import read_jsonl, score


@click.group()
def health() -> None:
    """Camera health and incident correlation."""


@health.command("replay")
@click.option(
    "--registry",
    "registry_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Camera file (CSV or GeoJSON, the import format) with each camera's site, feeder and uplink.",
)
@click.option(
    "--events",
    "events_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help='JSON lines {"t": seconds, "camera": id, "state": "down"|"up"}; other keys ignored ("reason" kept).',
)
@click.option(
    "--evidence",
    "evidence_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help='Optional JSON lines of outside evidence: {"t", "feeder"[, "until"]} notices, {"t", "site", "ups"} UPS.',
)
@click.option("--stats/--no-stats", default=False, help="Print events, engine time and incident counts to stderr.")
@click.option("--store/--no-store", default=False, help="Also store the incidents in the database.")
@click.option("--run-id", default="replay", show_default=True, help="Names this replay's incidents when stored.")
@click.option(
    "--t0-ns", default=0, show_default=True, type=int, help="UTC nanoseconds of t=0 when storing (0: t is epoch s)."
)
@click.pass_context
def health_replay(
    ctx: click.Context,
    registry_path: Path,
    events_path: Path,
    evidence_path: Path | None,
    stats: bool,
    store: bool,
    run_id: str,
    t0_ns: int,
) -> None:
    """Replay EVENTS on a simulated clock; print one JSON line per incident, ordered by opened, kind, subject.

    Bad input (any bad registry row or event line) prints FILE:LINE: reason and exits 2.
    """
    settings = settings_from(ctx)
    parsed = regio.parse_camera_file(registry_path)
    if parsed.errors:
        for err in parsed.errors:
            click.echo(err, err=True)
        click.echo(f"{registry_path}: {len(parsed.errors)} bad row(s); nothing replayed", err=True)
        ctx.exit(2)
    topo = build_topology(parsed.rows)
    try:
        events = parse_events(events_path, topo)
        evidence = parse_evidence(evidence_path, topo) if evidence_path is not None else []
    except ReplayInputError as exc:
        click.echo(str(exc), err=True)
        click.echo("bad input line(s); nothing replayed", err=True)
        ctx.exit(2)
    result = replay(topo, events, settings.health, evidence)
    out = sys.stdout
    for inc in result.incidents:
        out.write(json.dumps(incident_json(inc, topo), separators=(", ", ": ")) + "\n")
    out.flush()
    if store:
        _, factory = open_db(settings)
        with unit_of_work(factory) as session:
            for inc in result.incidents:
                service.persist_incident(session=session, incident=inc, topo=topo, run_id=run_id, t0_ns=t0_ns)
    if stats:
        rate = result.events / result.engine_seconds if result.engine_seconds > 0 else 0.0
        click.echo(
            f"events={result.events} incidents={len(result.incidents)} engine_s={result.engine_seconds:.3f} "
            f"events_per_s={rate:.0f}",
            err=True,
        )


@health.command("scenario")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for cameras.csv, events.jsonl, truth.jsonl and meta.json.",
)
@click.option("--cameras", default=62_000, show_default=True, type=click.IntRange(1, 1_000_000), help="City size.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (same seed, same files).")
@click.option("--feeder-cuts", default=40, show_default=True, type=click.IntRange(0, 10_000), help="Power cuts.")
@click.option("--uplink-cuts", default=15, show_default=True, type=click.IntRange(0, 10_000), help="Uplink cuts.")
@click.option("--site-faults", default=20, show_default=True, type=click.IntRange(0, 10_000), help="Site faults.")
@click.option(
    "--camera-faults", default=60, show_default=True, type=click.IntRange(0, 100_000), help="Single-camera faults."
)
def health_scenario(
    out_dir: Path, cameras: int, seed: int, feeder_cuts: int, uplink_cuts: int, site_faults: int, camera_faults: int
) -> None:
    """Write a city and a day of outages with ground truth (for replay and the benchmark)."""
    shape = ScenarioShape(
        cameras=cameras,
        seed=seed,
        feeder_cuts=feeder_cuts,
        uplink_cuts=uplink_cuts,
        uplink_during_power=min(3, uplink_cuts),
        site_faults=site_faults,
        camera_faults=camera_faults,
    )
    scenario = generate(shape)
    paths = scenario.write(out_dir)
    click.echo(
        f"{paths['registry']}: {cameras} cameras; {paths['events']}: {len(scenario.events)} events; "
        f"{paths['truth']}: {len(scenario.truth)} incidents"
    )


@health.command("score")
@click.option(
    "--truth",
    "truth_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Ground truth incidents (JSON lines).",
)
@click.option(
    "--incidents",
    "incidents_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Incidents printed by replay (JSON lines).",
)
@click.option("--tolerance", default=60.0, show_default=True, type=float, help="Opening time tolerance, seconds.")
@click.option("--jaccard", default=0.9, show_default=True, type=float, help="Least member Jaccard for a match.")
def health_score(truth_path: Path, incidents_path: Path, tolerance: float, jaccard: float) -> None:
    """Precision, recall and latency of INCIDENTS against TRUTH (kind + subject + opened + members)."""
    result = score(read_jsonl(incidents_path), read_jsonl(truth_path), tolerance_s=tolerance, min_jaccard=jaccard)
    for kind, (matched, predicted, true) in result.by_kind.items():
        click.echo(f"{kind}: matched={matched} predicted={predicted} truth={true}")
    click.echo(
        f"precision={result.precision:.4f} recall={result.recall:.4f} latency_p95_s={result.latency_p(0.95):.2f}"
    )


@health.command("incidents")
@click.option("--open", "open_only", is_flag=True, help="Only incidents not yet resolved.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000), help="Newest first, at most.")
@click.pass_context
def health_incidents(ctx: click.Context, open_only: bool, limit: int) -> None:
    """Stored incidents as JSON lines, newest first, with cameras, suggestions and operator actions."""
    _, factory = open_db(settings_from(ctx))
    with unit_of_work(factory) as session:
        for item in service.list_incidents(session=session, open_only=open_only, limit=limit):
            click.echo(item.model_dump_json())


def _operator_action(ctx: click.Context, fn: str, **kwargs: object) -> None:
    _, factory = open_db(settings_from(ctx))
    try:
        with unit_of_work(factory) as session:
            getattr(service, fn)(session=session, t_ns=SystemClock().wall_ns(), **kwargs)
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None


@health.command("ack")
@click.argument("incident_id", type=int)
@click.option("--by", "actor", required=True, help="Operator name.")
@click.option("--text", default="", help="Optional note.")
@click.pass_context
def health_ack(ctx: click.Context, incident_id: int, actor: str, text: str) -> None:
    """Acknowledge INCIDENT_ID (kept with who and when)."""
    _operator_action(ctx, "acknowledge", incident_id=incident_id, actor=actor, text=text)


@health.command("comment")
@click.argument("incident_id", type=int)
@click.argument("text")
@click.option("--by", "actor", required=True, help="Operator name.")
@click.pass_context
def health_comment(ctx: click.Context, incident_id: int, text: str, actor: str) -> None:
    """Add a comment TEXT to INCIDENT_ID."""
    _operator_action(ctx, "comment", incident_id=incident_id, actor=actor, text=text)


@health.command("suggestion")
@click.argument("suggestion_id", type=int)
@click.argument("decision", type=click.Choice(["accept", "reject"]))
@click.option("--by", "by", hidden=True, help="Ignored (kept for old scripts): the login running this decides.")
@click.pass_context
def health_suggestion(ctx: click.Context, suggestion_id: int, decision: str, by: str | None) -> None:
    """Accept (corrects the registry) or reject a suggested registry correction (audited as ``cli:<login>``)."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    try:
        with refusals(), unit_of_work(factory) as session:
            service.decide_suggestion(
                session=session,
                audit=log,
                actor=cli_actor(),
                suggestion_id=suggestion_id,
                accept=decision == "accept",
                t_ns=SystemClock().wall_ns(),
            )
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None
