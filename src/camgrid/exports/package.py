"""An export as one package (issue 16, docs/design/export-package.md): a zip of the clip, the signed manifest, the
verifier key and a small page that explains how to check them offline.

The page (``README.html``) is written into the export before the manifest, so the manifest lists it with its
SHA-256 and the signature covers it: instructions that could be swapped unnoticed would be worthless. The zip is
built while it streams (``ZIP_STORED``: video does not compress, and storing keeps the cost one copy), a chunk at a
time, through a sink that is not seekable, so no zip is ever written to disk or held in memory whole.
"""

from __future__ import annotations

import html
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from camgrid.clock import ns_to_iso

README = "README.html"
CHUNK = 1 << 20
MAX_PACKAGE_BYTES = 16 << 30  # a 6-hour clip of a 4K camera is far below this: a bound, not a budget


class PackageTooLarge(ValueError):
    """The export's files are larger than one package may be."""


def _fmt_gap(g: dict[str, Any]) -> str:
    end = "still open" if g.get("end_ns") is None else ns_to_iso(int(g["end_ns"]))
    return f"{ns_to_iso(int(g['start_ns']))} to {end}: {g.get('reason') or 'not recorded'}"


def readme_html(
    *,
    export_id: str,
    camera: dict[str, Any],
    requested: tuple[int, int],
    actual: tuple[int, int],
    gaps: Sequence[dict[str, Any]],
    clip_name: str,
    clip_sha256: str,
    key_text: str | None,
) -> str:
    """The page that travels with the clip: what it holds, its gaps, and how to verify it without camgrid's server."""
    e = html.escape
    gap_items = "".join(f"<li>{e(_fmt_gap(g))}</li>" for g in gaps) or "<li>none: recorded throughout</li>"
    key = (
        f"<pre>{e(key_text)}</pre><p>Compare it with the installation's key obtained separately (from its "
        "administrator): a key shipped next to the evidence proves nothing on its own.</p>"
        if key_text
        else "<p><b>This export is not signed</b> (the installation had no audit key).</p>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Export {e(export_id)}: how to verify</title>
<style>body{{font:15px/1.5 sans-serif;max-width:52em;margin:2em auto;padding:0 1em}}
code,pre{{background:#eee;padding:2px 4px;overflow-wrap:anywhere;white-space:pre-wrap}}</style>
</head><body>
<h1>Export {e(export_id)}</h1>
<p>Camera <b>{e(str(camera.get("id", "")))}</b> ({e(str(camera.get("name", "")))},
district {e(str(camera.get("district", "")))}).
Requested {e(ns_to_iso(requested[0]))} to {e(ns_to_iso(requested[1]))}; the clip holds
{e(ns_to_iso(actual[0]))} to {e(ns_to_iso(actual[1]))} (UTC; cut on keyframes).</p>
<h2>Gaps inside the clip</h2>
<p>Times the camera was not recorded: the clip jumps over them.</p>
<ul>{gap_items}</ul>
<h2>What is in this package</h2>
<ul>
<li><code>{e(clip_name)}</code>: the video, remuxed from the recording, never re-encoded.
SHA-256 <code>{e(clip_sha256)}</code></li>
<li><code>{README}</code>: this page (listed in the manifest too).</li>
<li><code>manifest.json</code>: camera, times, gaps, who asked, who approved and why, and the SHA-256 and size
of every file.</li>
<li><code>manifest.sig</code>: the manifest signed (Ed25519, a signed note) with the installation's audit key.</li>
<li><code>key.pub</code>: that key's public half.</li>
</ul>
<h2>How to verify, offline</h2>
<ol>
<li>Unzip into an empty folder and hash every file: <code>sha256sum {e(clip_name)} {README}</code>.
Each digest and size must
equal its entry in <code>manifest.json</code> (<code>"files"</code>).</li>
<li>Check the signature and every digest at once with camgrid's command line (no server needed):
<code>camgrid export verify FOLDER --key installation-key.pub</code>. It prints <i>intact</i> or what differs.</li>
<li>Without camgrid: <code>manifest.sig</code> is the text of <code>manifest.json</code>, a blank line, then a line
<code>&mdash; NAME BASE64</code>; BASE64 decodes to the key's 4-byte id then a 64-byte Ed25519
signature of
<code>manifest.json</code>'s exact bytes. <code>key.pub</code> is <code>NAME+ID+BASE64</code>, the last part a 0x01
byte then the 32-byte Ed25519 public key. Any Ed25519 tool can check it.</li>
</ol>
<h2>Public key</h2>
{key}
</body></html>
"""


class _Sink:
    """A write-only, unseekable file for ``zipfile``: what is written is taken out by the streamer."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, b: bytes) -> int:
        self.parts.append(bytes(b))
        return len(b)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def check_size(folder: Path, names: Sequence[str]) -> int:
    total = sum((folder / n).stat().st_size for n in names)
    if total > MAX_PACKAGE_BYTES:
        raise PackageTooLarge(f"the export's files take {total} bytes: at most {MAX_PACKAGE_BYTES} in one package")
    return total


def zip_stream(folder: Path, names: Sequence[str], prefix: str) -> Iterator[bytes]:
    """The zip of ``folder``'s ``names`` under ``prefix/``, a chunk at a time (at most about ``CHUNK`` bytes)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in names:
            info = zipfile.ZipInfo.from_file(folder / name, f"{prefix}/{name}")
            info.external_attr = 0o644 << 16
            with (folder / name).open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                for chunk in iter(lambda: src.read(CHUNK), b""):
                    dst.write(chunk)
                    if data := sink.take():
                        yield data
            if data := sink.take():
                yield data
    if data := sink.take():
        yield data
