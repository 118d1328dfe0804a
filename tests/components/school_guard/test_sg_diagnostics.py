"""Diagnostics: useful to a maintainer, and never the token, a password or an image."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.components.diagnostics import (  # type: ignore[import-untyped]
    _get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (  # type: ignore[import-untyped]
    ClientSessionGenerator,
)

from custom_components.school_guard.diagnostics import REDACTED, redact

from .conftest import TOKEN, RunningEngine
from .helpers import set_up, wait_until
from .sg_snapshot_camera import (
    SnapshotCamera,
    post_camera,
    snapshot_camera_body,
)

CAMERA_PASSWORD = "Lobby-Cam-Pa55w0rd"


async def test_diagnostics_hold_state_but_no_secret(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    lobby: SnapshotCamera,
) -> None:
    entry = await set_up(hass, config_entry)
    hub = entry.runtime_data.hub
    url = lobby.url(f"admin:{CAMERA_PASSWORD}")
    await post_camera(hass, running_engine, snapshot_camera_body("lobby", "Lobby", url))
    await wait_until(hass, lambda: hub.camera_available("lobby"), "the lobby camera online")
    started = await entry.runtime_data.client.test_alert("plaza", "fight", seconds=600)
    event_id = started.event.event_id
    await wait_until(hass, lambda: event_id in hub.open_alerts, "the open alert")

    answer = await _get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(answer)
    assert TOKEN not in text
    assert CAMERA_PASSWORD not in text
    assert "/9j/" not in text, "no base64 JPEG"
    assert "\\u00ff\\u00d8" not in text, "no raw JPEG bytes"

    data = answer["data"]
    assert data["entry"]["data"] == {
        "host": "127.0.0.1",
        "port": running_engine.port,
        "token": REDACTED,
    }
    assert data["entry"]["unique_id"] == running_engine.engine_id
    assert data["hub"]["connected"] is True
    assert data["hub"]["info"]["models"] == {
        "detector": "nanodet-m-416",
        "pose": None,
        "weapon": None,
        "fight": None,
        "fall": None,
    }
    assert sorted(data["hub"]["cameras"]) == ["lobby", "plaza"]
    assert data["hub"]["mode"]["mode"] == "normal"
    assert [alert["event_id"] for alert in data["hub"]["open_alerts"]] == [event_id]
    assert data["hub"]["open_alerts"][0]["rule"] == "fight"
    assert data["hub"]["repair_issues"] == [f"{running_engine.engine_id}_pose_model_missing"]
    engine = data["engine"]
    assert engine["info"]["engine_id"] == running_engine.engine_id
    assert engine["mode"]["mode"] == "normal"
    cameras = {camera["id"]: camera for camera in engine["cameras"]}
    assert cameras["lobby"]["source"]["url"] == (
        f"http://{REDACTED}@127.0.0.1:{lobby.port}/snap.jpg"
    )
    assert cameras["plaza"]["source"]["type"] == "file"


async def test_diagnostics_while_the_engine_is_unreachable(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
) -> None:
    entry = await set_up(hass, config_entry)
    await running_engine.runner.cleanup()
    await wait_until(hass, lambda: not entry.runtime_data.hub.connected, "the link down")
    answer = await _get_diagnostics_for_config_entry(hass, hass_client, entry)
    data = answer["data"]
    assert data["hub"]["connected"] is False
    assert list(data["engine"]) == ["error"]
    assert data["engine"]["error"].startswith("GET /info: ")
    assert TOKEN not in json.dumps(answer)


def test_redaction_covers_keys_url_credentials_queries_and_the_token() -> None:
    document = {
        "url": "rtsp://admin:hunter2@10.0.0.5:554/live?profile=1&pwd=qwerty",
        "onvif": {"host": "10.0.0.6", "Password": "hunter3", "username": "admin"},
        "none": {"password": None},
        "list": ["http://u:p@cam/snap.jpg?token=abc#x", 7, None, True],
        "error": f"refused bearer {TOKEN} at mjpeg://op:secret@host/x",
    }
    assert redact(document, frozenset({TOKEN})) == {
        "url": f"rtsp://{REDACTED}@10.0.0.5:554/live?profile=1&pwd={REDACTED}",
        "onvif": {"host": "10.0.0.6", "Password": REDACTED, "username": REDACTED},
        "none": {"password": None},
        "list": [f"http://{REDACTED}@cam/snap.jpg?token={REDACTED}#x", 7, None, True],
        "error": f"refused bearer {REDACTED} at mjpeg://{REDACTED}@host/x",
    }
