"""``camgrid report``: availability and outage minutes by cause per district, feeder or camera, for any period."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from typing import Any

import click

from camgrid.cli.common import open_db, settings_from
from camgrid.db.engine import unit_of_work

NS = 1_000_000_000


def _instant(value: str) -> int:
    """ISO 8601 -> UTC ns (a time without zone is UTC)."""
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time (e.g. 2026-11-23T06:00:00Z)") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)  # noqa: UP017
    return round(t.timestamp() * NS)


def to_csv(report: dict[str, Any]) -> str:
    """One line per group (and the city), outage minutes by cause as columns."""
    from camgrid.health.reports import CAUSES

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([report["by"], "cameras", "availability", "down_min", *(f"{c}_min" for c in CAUSES)])
    rows = list(report["rows"])
    if report["city"] is not None and report["by"] != "city":
        rows.append(report["city"])
    for r in rows:
        w.writerow([r["key"], r["cameras"], r["availability"], r["down_min"], *(r["outage_min"][c] for c in CAUSES)])
    return buf.getvalue()


@click.group()
def report() -> None:
    """Reports from the recording index and the stored incidents."""


@report.command("availability")
@click.option("--from", "start", required=True, help="Start, ISO 8601 (UTC when no zone).")
@click.option("--to", "end", required=True, help="End, ISO 8601 (UTC when no zone).")
@click.option(
    "--by",
    type=click.Choice(["district", "feeder", "site", "uplink", "camera", "city"]),
    default="district",
    show_default=True,
    help="Group cameras by.",
)
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option(
    "--coverage/--no-coverage",
    default=False,
    show_default=True,
    help="Add lost coverage (JSON only; the planner's visibility model on the built-in map).",
)
@click.pass_context
def availability(ctx: click.Context, start: str, end: str, by: str, fmt: str, coverage: bool) -> None:
    """Share of time recording and outage minutes by cause (power, uplink, camera, recorder, disk) per group."""
    from camgrid.health.reports import availability_report

    lo, hi = _instant(start), _instant(end)
    if hi <= lo:
        raise click.BadParameter("--to must be after --from")
    settings = settings_from(ctx)
    _, factory = open_db(settings)
    with unit_of_work(factory) as session:
        cov = None
        if coverage:
            from camgrid.api.health_coverage import registry_coverage

            cov = registry_coverage(session=session, settings=settings)
        data = availability_report(session=session, lo=lo, hi=hi, by=by, coverage=cov)
    click.echo(json.dumps(data, indent=2) if fmt == "json" else to_csv(data), nl=fmt == "json")


@report.command("transparency")
@click.option("--month", required=True, help="YYYY-MM (UTC).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def transparency(ctx: click.Context, month: str, fmt: str) -> None:
    """Views, playbacks, exports, holds and deletions per district in a month, counted from the audit log."""
    from sqlalchemy import select as sa_select

    from camgrid.audit.transparency import COLUMNS
    from camgrid.audit.transparency import report as transparency_report
    from camgrid.registry.models import Camera

    try:
        datetime.strptime(month + "-01+0000", "%Y-%m-%d%z")
    except ValueError:
        raise click.BadParameter("--month is YYYY-MM, e.g. 2026-11") from None
    _, factory = open_db(settings_from(ctx))
    with unit_of_work(factory) as session:
        district_of = {c: d for c, d in session.execute(sa_select(Camera.id, Camera.district_id))}
        rows = transparency_report(session=session, month=month, district_of=district_of)
    cols = [*COLUMNS, "deleted_gb"]
    if fmt == "json":
        click.echo(json.dumps({"month": month, "districts": rows}, indent=1))
        return
    sep = "," if fmt == "csv" else "  "
    click.echo(sep.join(["district", *cols]))
    for district, row in rows.items():
        click.echo(sep.join([district, *(f"{row[c]:.3f}" if c == "deleted_gb" else str(int(row[c])) for c in cols)]))
