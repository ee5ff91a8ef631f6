"""``camgrid export``: check an exported clip offline."""

from __future__ import annotations

from pathlib import Path

import click

from camgrid.audit.note import NoteError, Verifier
from camgrid.exports.clip import verify

SIG_PREFIX = "\u2014 "


def check_signature(folder: Path, key: Path | None) -> list[str]:
    """The manifest's signed note must carry exactly manifest.json and a valid Ed25519 signature of the key."""
    sig_path = folder / "manifest.sig"
    if not sig_path.is_file():
        return ["manifest.sig is missing: the manifest is not signed"]
    key_path = key or folder / "key.pub"
    try:
        verifier = Verifier.parse(key_path.read_text().strip())
    except (OSError, NoteError, ValueError) as exc:
        return [f"{key_path.name}: not a verifier key ({exc})"]
    note = sig_path.read_text()
    body, sep, sigs = note.rpartition("\n\n")
    body += "\n"
    if not sep or body != (folder / "manifest.json").read_text():
        return ["manifest.json differs from the signed manifest in manifest.sig"]
    import base64

    for line in sigs.splitlines():
        if not line.startswith(SIG_PREFIX):
            continue
        name, _, blob = line[len(SIG_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(blob)
        except ValueError:
            continue
        if name == verifier.name and raw[:4] == verifier.id and verifier.verify(body.encode(), raw[4:]):
            return []
    return [f"manifest.sig: no valid signature by {verifier.name}"]


@click.group()
def export() -> None:
    """Exports."""


@export.command("verify")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--key",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The installation's verifier key obtained separately (default: the export's key.pub).",
)
def verify_cmd(folder: Path, key: Path | None) -> None:
    """Check the manifest's signature and every file's SHA-256; exit 1 and say what differs."""
    problems = verify(folder)
    problems += check_signature(folder, key)
    if problems:
        for p in problems:
            click.echo(f"{folder}: {p}", err=True)
        raise SystemExit(1)
    click.echo(f"{folder}: intact (signed by {Verifier.parse((key or folder / 'key.pub').read_text().strip()).name})")
