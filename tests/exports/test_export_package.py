"""An export as one package (issue 16): the streamed zip holds every file of the export byte for byte, unzips into
a folder that verifies, and its page lists the gaps and how to verify."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from camgrid.exports import package
from camgrid.exports.clip import verify, write_manifest


def test_zip_stream_round_trips_and_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(package, "CHUNK", 1000)  # many chunks: the stream must still be one valid zip
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(bytes(range(256)) * 40)
    gaps = [{"start_ns": 5 * 10**18, "end_ns": 5 * 10**18 + 10**10, "reason": "power cut <F-02>"}]
    page = package.readme_html(
        export_id="e1",
        camera={"id": "cam-1", "name": "Gate", "district": "D-01"},
        requested=(5 * 10**18 - 10**11, 5 * 10**18 + 10**11),
        actual=(5 * 10**18 - 10**11, 5 * 10**18 + 10**11),
        gaps=gaps,
        clip_name="clip.mp4",
        clip_sha256="ab" * 32,
        key_text="camgrid.test+01020304+AAAA",
    )
    (folder / package.README).write_text(page)
    write_manifest(
        folder,
        camera={"id": "cam-1"},
        requested=(0, 1),
        actual=(0, 1),
        pictures=1,
        exported_by="op",
        exported_ns=0,
        reason="case 7",
        gaps=gaps,
    )
    names = ["clip.mp4", package.README, "manifest.json"]
    chunks = list(package.zip_stream(folder, names, "e1"))
    assert len(chunks) > 5
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as zf:
        assert zf.testzip() is None
        assert sorted(zf.namelist()) == sorted(f"e1/{n}" for n in names)
        out = tmp_path / "out"
        zf.extractall(out)
    assert verify(out / "e1") == []
    assert (out / "e1" / "clip.mp4").read_bytes() == (folder / "clip.mp4").read_bytes()
    assert "power cut &lt;F-02&gt;" in page and "camgrid export verify" in page and "sha256sum" in page


def test_package_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").write_bytes(b"x" * 100)
    monkeypatch.setattr(package, "MAX_PACKAGE_BYTES", 99)
    with pytest.raises(package.PackageTooLarge):
        package.check_size(tmp_path, ["a"])
