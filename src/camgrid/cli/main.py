"""The ``camgrid`` command. Sub-commands are imported only when used, so ``camgrid record`` stays lean."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from camgrid import __version__

# name -> "module:attribute"; each module owns one capability's commands.
COMMANDS: dict[str, tuple[str, str]] = {
    "cameras": ("camgrid.cli.cameras:cameras", "Import, list and export cameras"),
    "sim": ("camgrid.cli.sim:sim", "Run the simulated city and its fault injector"),
    "record": ("camgrid.cli.record:record", "Record the registered cameras"),
    "recordings": ("camgrid.cli.recordings:recordings", "Segments, gaps, holds and retention"),
    "demo": ("camgrid.cli.demo:demo", "Simulated city + recorder on this machine"),
    "db": ("camgrid.cli.dbcmd:db", "Database migrations"),
    "plan": ("camgrid.cli.plan:plan", "Plan where cameras go (security map)"),
    "health": ("camgrid.cli.health:health", "Camera health and incident correlation"),
    "serve": ("camgrid.cli.serve:serve", "The control room (and the recorder) on one port"),
    "users": ("camgrid.cli.users:users", "Users, roles and tokens"),
    "export": ("camgrid.cli.export:export", "Check exported clips"),
    "report": ("camgrid.cli.report:report", "Availability and outage reports"),
    "audit": ("camgrid.cli.audit:audit", "Audit log: export and verify"),
    "node": ("camgrid.cli.node:node", "Run a recorder node of a cluster"),
    "node-credential": ("camgrid.cli.node:node_credential", "A recorder node's media credential and certificate"),
    "certs": ("camgrid.cli.certs:certs", "Make a self-signed TLS certificate for serve"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr = entry[0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        cmd: click.Command = getattr(module, attr)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CAMGRID_HOME",
    default=Path("var"),
    show_default=True,
    help="Folder with the config, database and recordings (env CAMGRID_HOME).",
)
@click.version_option(__version__, prog_name="camgrid")
@click.pass_context
def cli(ctx: click.Context, home: Path) -> None:
    """camgrid: record, watch and understand a city's cameras."""
    ctx.obj = {"home": home}


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="camgrid")


if __name__ == "__main__":
    main()
