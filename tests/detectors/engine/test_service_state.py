"""The engine's state files: every write atomic and owner-only, a bad file never silent."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from detectors.config import camera_from_json
from detectors.engine.state import ModeState, StateFiles
from detectors.errors import ConfigError

GATE = {
    "id": "gate",
    "name": "Gate",
    "source": {"type": "rtsp", "url": "rtsp://192.0.2.9/s", "username": "u", "password": "pw"},
}


def _files(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir())


def test_cameras_switches_and_mode_round_trip_owner_only(tmp_path: Path) -> None:
    state = StateFiles(tmp_path)
    assert (state.load_cameras(set()), state.load_switches(), state.load_mode()) == ([], {}, None)
    state.save_cameras([camera_from_json(GATE)])
    state.save_switch("plaza", False)
    mode: ModeState = {"mode": "lockdown", "drill": True, "changed_at": 5.0}
    state.save_mode(mode)

    assert [c.source.password for c in state.load_cameras(set())] == ["pw"]
    assert state.load_switches() == {"plaza": False}
    assert state.load_mode() == mode
    assert _files(tmp_path) == ["camera_switches.json", "cameras.json", "mode.json"]
    for path in tmp_path.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path.name


def test_a_write_replaces_the_file_whole(tmp_path: Path) -> None:
    state = StateFiles(tmp_path)
    state.save_mode({"mode": "hold", "drill": False, "changed_at": 1.0})
    before = state.mode_path.stat().st_ino
    state.save_mode({"mode": "normal", "drill": False, "changed_at": 2.0})
    assert state.mode_path.stat().st_ino != before, "renamed over, not rewritten in place"
    assert json.loads(state.mode_path.read_text())["mode"] == "normal"
    assert _files(tmp_path) == ["mode.json"]


@pytest.mark.parametrize(
    "text", ["{not json", '{"mode": "panic", "drill": false, "changed_at": 1}']
)
def test_an_unreadable_mode_starts_normal_and_says_so(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    state = StateFiles(tmp_path)
    state.mode_path.write_text(text)
    with caplog.at_level(logging.WARNING):
        assert state.load_mode() is None
    assert "mode.json" in caplog.text


def test_a_bad_switch_file_is_refused_by_name(tmp_path: Path) -> None:
    state = StateFiles(tmp_path)
    state.switches_path.write_text('{"plaza": "off"}')
    with pytest.raises(ConfigError, match=r"camera_switches\.json: expected"):
        state.load_switches()
