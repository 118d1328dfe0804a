"""Detection can be switched off and on for every camera, and the switch survives a restart."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from detectors.config import parse_config
from detectors.engine.service import Engine
from detectors.errors import CameraConflictError, ConfigError
from detectors.protocol.cameras import camera_json
from detectors.zoo.store import ModelStore
from tests.real_engine import engine_config


def _engine(data_dir: Path, samples_dir: Path, store: ModelStore) -> Engine:
    config = parse_config(engine_config(data_dir, samples_dir))
    return Engine(config, data_dir=data_dir, store=store)


async def test_a_config_camera_can_be_switched_off_but_not_otherwise_edited(
    tmp_path: Path, samples_dir: Path, model_store: ModelStore
) -> None:
    data_dir = tmp_path / "data"
    engine = _engine(data_dir, samples_dir, model_store)
    pushed: list[Mapping[str, object]] = []
    engine.add_listener(pushed.append)
    await engine.start()
    try:
        off = await engine.update_camera("plaza", {"enabled": False})
        body = camera_json(off)
        assert (body["enabled"], body["origin"], body["name"]) == (False, "config", "Plaza")
        assert body["status"] == {
            "online": False,
            "reason": "detection disabled",
            "fps": 0.0,
            "analysed_fps": 0.0,
            "last_frame_at": None,
            "reason_code": "disabled",
        }
        # A restart for a changed setting is not a removal: clients keep the device.
        assert [m["type"] for m in pushed if m["type"] == "camera_removed"] == []
        assert any(m["type"] == "camera" and m["camera"]["enabled"] is False for m in pushed)
        with pytest.raises(CameraConflictError, match="only 'enabled'"):
            await engine.update_camera("plaza", {"name": "Other"})
    finally:
        await engine.stop()
    stored = data_dir / "camera_switches.json"
    assert json.loads(stored.read_text()) == {"plaza": False}

    restarted = _engine(data_dir, samples_dir, model_store)
    await restarted.start()
    try:
        assert restarted.camera("plaza").config.enabled is False
        back_on = await restarted.update_camera("plaza", {"enabled": True})
        assert (back_on.config.enabled, back_on.config.name) == (True, "Plaza")
        assert json.loads(stored.read_text()) == {"plaza": True}
    finally:
        await restarted.stop()


async def test_a_corrupt_switch_file_is_refused_by_name(
    tmp_path: Path, samples_dir: Path, model_store: ModelStore
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "camera_switches.json").write_text('["plaza"]')
    engine = _engine(data_dir, samples_dir, model_store)
    with pytest.raises(ConfigError, match=r"camera_switches\.json: expected"):
        await engine.start()
    await engine.stop()
