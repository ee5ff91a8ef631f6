"""Config: one TOML file plus CAMGRID_* overrides; every error names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from camgrid.config import ConfigError, load_settings


def test_defaults_and_env_override(tmp_path: Path) -> None:
    s = load_settings(tmp_path, {"CAMGRID_RECORDER__STALL_TIMEOUT_S": "2.5"})
    assert s.recorder.stall_timeout_s == 2.5
    assert s.recorder.segment_seconds == 10.0
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("camgrid.db")


def test_file_values_and_env_wins(tmp_path: Path) -> None:
    (tmp_path / "camgrid.toml").write_text('[recorder]\nnode_id = "north-1"\nsegment_seconds = 6\n')
    s = load_settings(tmp_path, {"CAMGRID_RECORDER__SEGMENT_SECONDS": "8"})
    assert (s.recorder.node_id, s.recorder.segment_seconds) == ("north-1", 8.0)


@pytest.mark.parametrize(
    ("toml", "env", "key"),
    [
        ("[recorder]\nsegment_seconds = 0.5\n", {}, "recorder.segment_seconds"),
        ("[recorder]\nsegmnt_seconds = 5\n", {}, "recorder.segmnt_seconds"),
        ("", {"CAMGRID_SIM__PORT": "99999"}, "sim.port"),
        ("[retention]\ndefault_days = -1\n", {}, "retention.default_days"),
        ("log_level = 'LOUD'\n", {}, "log_level"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, toml: str, env: dict[str, str], key: str) -> None:
    (tmp_path / "camgrid.toml").write_text(toml)
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, env)
    assert f": {key}: " in str(exc.value)


def test_broken_toml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "camgrid.toml").write_text("[recorder\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path, {})


def test_a_retired_recorder_key_loads_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``recorder.queue_fragments`` was never read; removing it must not stop an old config file from loading."""
    (tmp_path / "camgrid.toml").write_text("[recorder]\nqueue_fragments = 8\nsegment_seconds = 6\n")
    with caplog.at_level("WARNING", logger="camgrid.config"):
        s = load_settings(tmp_path, {})
    assert s.recorder.segment_seconds == 6
    assert not hasattr(s.recorder, "queue_fragments")
    assert "queue_fragments is retired" in caplog.text
