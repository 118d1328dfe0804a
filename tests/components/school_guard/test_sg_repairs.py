"""Repair issues: raised when a problem lasts, withdrawn as soon as it is gone."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from custom_components.school_guard import SchoolGuardConfigEntry
from custom_components.school_guard.client import (
    CameraState,
    EngineInfo,
    SchoolGuardConnectionError,
)
from custom_components.school_guard.const import DOMAIN
from custom_components.school_guard.issues import RepairIssues
from detectors.config import SourceConfig
from detectors.engine.stream_roles import CameraStreams, pick_streams
from detectors.onvif.probe import probe
from detectors.sim.camera import CameraSim
from tests.sim import MJPEG_SIM

from .conftest import RunningEngine
from .helpers import set_up, wait_until
from .sg_snapshot_camera import (
    SnapshotCamera,
    post_camera,
    snapshot_camera_body,
)


def issue(hass: HomeAssistant, issue_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


def detector_model(entry: SchoolGuardConfigEntry) -> str | None:
    """The detector the hub last read from the engine's ``/info``."""
    return entry.runtime_data.hub.info.models["detector"]


def our_issue_ids(hass: HomeAssistant) -> set[str]:
    return {key[1] for key in ir.async_get(hass).issues if key[0] == DOMAIN}


async def test_engine_unreachable_and_model_missing_come_and_go(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    hub = entry.runtime_data.hub
    engine_id = running_engine.engine_id
    # The test engine runs without a pose model: a warning, from setup on.
    pose = issue(hass, f"{engine_id}_pose_model_missing")
    assert pose is not None
    assert (pose.severity, pose.translation_key, pose.is_fixable) == (
        ir.IssueSeverity.WARNING,
        "pose_model_missing",
        False,
    )
    assert pose.translation_placeholders == {"name": "Lincoln High"}
    assert our_issue_ids(hass) == {f"{engine_id}_pose_model_missing"}

    hub.issues.engine_unreachable_after = 0.2
    await running_engine.runner.cleanup()
    unreachable_id = f"{engine_id}_engine_unreachable"
    await wait_until(hass, lambda: issue(hass, unreachable_id) is not None, "unreachable issue")
    unreachable = issue(hass, unreachable_id)
    assert unreachable is not None
    assert unreachable.severity is ir.IssueSeverity.ERROR
    assert unreachable.translation_key == "engine_unreachable"
    assert unreachable.translation_placeholders == {
        "name": "Lincoln High",
        "address": f"127.0.0.1:{running_engine.port}",
        "minutes": f"{0.2 / 60:g}",
    }

    # The engine comes back after a restart that lost its detector model.
    real_info = running_engine.engine.info

    def info_without_detector() -> dict[str, Any]:
        answer = real_info()
        answer["models"] = {**answer["models"], "detector": None}  # type: ignore[dict-item]
        return answer

    with patch.object(running_engine.engine, "info", info_without_detector):
        await running_engine.restart_api()
        model_id = f"{engine_id}_model_missing"
        await wait_until(hass, lambda: issue(hass, model_id) is not None, "model missing issue")
        assert issue(hass, unreachable_id) is None
        missing = issue(hass, model_id)
        assert missing is not None
        assert (missing.severity, missing.translation_key) == (
            ir.IssueSeverity.ERROR,
            "model_missing",
        )
        assert detector_model(entry) is None

    # Fixed and restarted again: the issue goes by itself.
    await running_engine.restart_api()
    await wait_until(hass, lambda: issue(hass, model_id) is None, "model missing withdrawn")
    assert detector_model(entry) == "nanodet-m-416"
    assert our_issue_ids(hass) == {f"{engine_id}_pose_model_missing"}

    # Unloading withdraws what the entry raised (a reload judges afresh).
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert our_issue_ids(hass) == set()


async def test_camera_offline_issue_after_the_threshold_and_gone_when_back(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    lobby: SnapshotCamera,
) -> None:
    entry = await set_up(hass, config_entry)
    hub = entry.runtime_data.hub
    engine_id = running_engine.engine_id
    hub.issues.camera_offline_after = 0.2
    # A camera someone switched off is offline on purpose: never an issue.
    await running_engine.engine.add_camera(
        {
            "id": "gym",
            "name": "Gym",
            "location": "Building C",
            "source": {"type": "rtsp", "url": "rtsp://127.0.0.1:1/gym"},
            "enabled": False,
        }
    )
    await post_camera(hass, running_engine, snapshot_camera_body("lobby", "Lobby", lobby.url()))
    await wait_until(hass, lambda: hub.camera_available("lobby"), "the lobby camera online")

    offline_id = f"{engine_id}_lobby_camera_offline"
    lobby.serving = False
    await wait_until(hass, lambda: issue(hass, offline_id) is not None, "camera offline issue")
    offline = issue(hass, offline_id)
    assert offline is not None
    assert offline.translation_key == "camera_offline"
    assert offline.translation_placeholders == {
        "camera": "Lobby",
        "location": "Building A, lobby",
        "reason": "http error",
        "minutes": f"{0.2 / 60:g}",
    }
    assert f"{engine_id}_gym_camera_offline" not in our_issue_ids(hass)

    lobby.serving = True
    await wait_until(hass, lambda: issue(hass, offline_id) is None, "issue withdrawn when back")
    assert hub.camera_available("lobby")

    lobby.serving = False
    await wait_until(hass, lambda: issue(hass, offline_id) is not None, "offline again")
    await running_engine.engine.remove_camera("lobby")
    await wait_until(hass, lambda: issue(hass, offline_id) is None, "withdrawn on removal")
    assert our_issue_ids(hass) == {f"{engine_id}_pose_model_missing"}


async def test_camera_clock_skew_issue_until_the_clock_is_set(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    samples_dir: Path,
) -> None:
    entry = await set_up(hass, config_entry)
    hub = entry.runtime_data.hub
    engine_id = running_engine.engine_id
    hub.issues.camera_offline_after = 0.2

    async def strict_resolver(source: SourceConfig) -> CameraStreams:
        """The engine's resolver without clock adjustment, so the skew is reported."""
        assert source.host is not None and source.port is not None
        result = await probe(
            source.host,
            source.port,
            source.username or "",
            source.password or "",
            adjust_time=False,
        )
        return pick_streams(result, source)

    running_engine.engine._resolve_onvif = strict_resolver
    async with CameraSim(
        samples_dir / "vtest.avi", username="admin", password="s3cret", **MJPEG_SIM
    ) as sim:
        sim.faults.clock_skew_seconds = 3600
        await post_camera(
            hass,
            running_engine,
            {
                "id": "hall",
                "name": "Hall",
                "location": "Building A, first floor",
                "source": {
                    "type": "onvif",
                    "host": "127.0.0.1",
                    "port": sim.port,
                    "username": "admin",
                    "password": "s3cret",
                },
                "detect_fps": 2,
            },
        )
        skew_id = f"{engine_id}_hall_camera_clock_skew"
        await wait_until(hass, lambda: issue(hass, skew_id) is not None, "clock skew issue")
        skew = issue(hass, skew_id)
        assert skew is not None
        assert skew.translation_key == "camera_clock_skew"
        placeholders = skew.translation_placeholders or {}
        assert (placeholders["camera"], placeholders["location"]) == (
            "Hall",
            "Building A, first floor",
        )
        assert "its clock is +3600 s off ours" in placeholders["reason"]
        assert hub.cameras["hall"].reason == placeholders["reason"]
        # The clock is the problem, not a generic outage: no second issue for it.
        assert f"{engine_id}_hall_camera_offline" not in our_issue_ids(hass)

        sim.faults.clock_skew_seconds = 0
        await wait_until(hass, lambda: hub.camera_available("hall"), "the hall camera online")
        assert issue(hass, skew_id) is None
        await running_engine.engine.remove_camera("hall")


async def test_a_stopped_tracker_raises_nothing_and_starts_no_timer(hass: HomeAssistant) -> None:
    tracker = RepairIssues(hass, "e1", "Lincoln High", "127.0.0.1:8765")
    tracker.camera_offline_after = 0.05
    offline = CameraState("gym", "Gym", "Building C", False, "connection refused", 0, False)
    tracker.camera_changed(offline)
    tracker.async_stop()
    assert our_issue_ids(hass) == set()
    tracker.engine_link_down()
    tracker.camera_changed(offline)
    tracker.check_models(
        EngineInfo("e1", "Lincoln High", "0.1.0", (), (), models={"detector": None})
    )
    await asyncio.sleep(0.1)
    await hass.async_block_till_done()
    assert our_issue_ids(hass) == set()
    assert tracker.raised == frozenset()


async def test_engine_outage_stops_camera_countdowns_and_a_pose_model_clears(
    hass: HomeAssistant,
) -> None:
    tracker = RepairIssues(hass, "e1", "Lincoln High", "127.0.0.1:8765")
    tracker.camera_offline_after = 0.05
    tracker.engine_unreachable_after = 60.0
    tracker.check_models(EngineInfo("e1", "Lincoln High", "0.1.0", (), (), models={}))
    assert our_issue_ids(hass) == {"e1_model_missing", "e1_pose_model_missing"}
    tracker.check_models(
        EngineInfo("e1", "Lincoln High", "0.1.0", (), (), models={"detector": "d", "pose": "p"})
    )
    assert our_issue_ids(hass) == set()

    offline = CameraState("gym", "Gym", "Building C", False, "connection refused", 0, False)
    tracker.camera_changed(offline)
    # The engine goes away before the camera's countdown ends: its state is unknown now,
    # so the countdown is dropped instead of raising a stale camera issue.
    tracker.engine_link_down()
    await asyncio.sleep(0.1)
    await hass.async_block_till_done()
    assert our_issue_ids(hass) == set()
    tracker.async_stop()


async def test_a_failed_info_refresh_after_reconnect_keeps_what_was_known(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    entry = await set_up(hass, config_entry)
    hub = entry.runtime_data.hub
    known = hub.info
    with patch.object(
        hub.client, "info", side_effect=SchoolGuardConnectionError("GET /info: refused")
    ) as info:
        await running_engine.restart_api()
        await wait_until(hass, lambda: info.call_count == 1 and hub.connected, "the retry")
        await hass.async_block_till_done()
    assert hub.info is known
    assert our_issue_ids(hass) == {f"{running_engine.engine_id}_pose_model_missing"}


async def test_an_open_camera_issue_follows_the_latest_reason(hass: HomeAssistant) -> None:
    tracker = RepairIssues(hass, "e1", "Lincoln High", "127.0.0.1:8765")
    tracker.camera_offline_after = 0.05
    refused = CameraState("gym", "Gym", "Building C", False, "connection refused", 0, False)
    tracker.camera_changed(refused)
    await wait_until(hass, lambda: issue(hass, "e1_gym_camera_offline") is not None, "issue")
    tracker.camera_changed(replace(refused, reason="host not found"))
    raised = issue(hass, "e1_gym_camera_offline")
    assert raised is not None
    assert (raised.translation_placeholders or {})["reason"] == "host not found"
    tracker.camera_changed(replace(refused, online=True, reason=None))
    assert issue(hass, "e1_gym_camera_offline") is None
    tracker.async_stop()
