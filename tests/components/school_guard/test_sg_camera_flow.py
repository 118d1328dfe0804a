"""'Add camera' subentries against the real engine and a real ONVIF camera simulator.

The simulator serves ONVIF (SOAP, digest auth, profiles, MJPEG) on 127.0.0.1 with fault
switches; the engine probes it, stores it and reads it. Discovery runs for real too, but
unicast to the simulator's WS-Discovery port: the flow's request body is pointed there
instead of multicasting, which must never happen outside a private network namespace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import voluptuous as vol
from aiohttp import web
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
    ConfigSubentryData,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from custom_components.school_guard import camera_flow
from custom_components.school_guard import errors as error_table
from custom_components.school_guard.camera_flow import CameraSubentryFlow
from custom_components.school_guard.client import (
    CameraState,
    SchoolGuardApiError,
    SchoolGuardClient,
)
from custom_components.school_guard.const import DOMAIN, SUBENTRY_CAMERA
from custom_components.school_guard.hub import SchoolGuardHub
from custom_components.school_guard.subentries import camera_device_identifier
from detectors.engine.api import create_app
from detectors.sim.camera import CameraSim
from tests.sim import RTSP_SIM

from .conftest import SHUTDOWN_SECONDS, TOKEN, RunningEngine
from .helpers import wait_until

PASSWORD = "s3cret"


@pytest.fixture
async def camera_sim(samples_dir: Path, socket_enabled: None) -> AsyncIterator[CameraSim]:
    """A simulated ONVIF camera on loopback with a unicast WS-Discovery responder.

    Requested before the engine, so it is stopped after the engine (no reconnect noise).
    """
    async with CameraSim(
        samples_dir / "vtest.avi",
        username="admin",
        password=PASSWORD,
        name="Cafeteria",
        location="Building C",
        discovery_port=0,
        **RTSP_SIM,
    ) as sim:
        yield sim


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """The engine's config entry, set up and listening to the engine's push."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    hub = config_entry.runtime_data.hub
    await wait_until(hass, lambda: hub.connected, "the hub to connect")
    return config_entry


@pytest.fixture
def unicast_discovery(camera_sim: CameraSim) -> dict[str, object]:
    """Point the flow's discovery at the simulator's WS-Discovery port (no multicast)."""
    body: dict[str, object] = {
        "multicast": False,
        "targets": [f"127.0.0.1:{camera_sim.discovery_port}"],
        "timeout": 1.0,
    }
    return body


async def start_flow(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> dict[str, Any]:
    """Open "Add camera" and choose ``step`` (discover or manual) from its menu."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == ["discover", "manual"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    return dict(result)


def manual_input(sim: CameraSim, **changes: object) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": sim.port, "username": "admin", "password": PASSWORD} | (
        changes
    )


async def configure(
    hass: HomeAssistant, flow_id: str, data: Mapping[str, object]
) -> dict[str, Any]:
    result = await hass.config_entries.subentries.async_configure(flow_id, dict(data))
    return dict(result)


def defaults(result: dict[str, Any]) -> dict[str, object]:
    """The form's default values by field name."""
    schema: vol.Schema = result["data_schema"]
    found: dict[str, object] = {}
    for key in schema.schema:
        default = getattr(key, "default", None)
        if callable(default):  # vol.UNDEFINED (no default) is not callable
            found[str(key.schema)] = default()
    return found


async def api_down(engine: RunningEngine) -> None:
    """Stop serving the engine API (the engine keeps running): the engine looks down."""
    await engine.runner.cleanup()


async def api_up(engine: RunningEngine, token: str = TOKEN) -> None:
    """Serve the engine API again on the same port."""
    engine.runner = web.AppRunner(
        create_app(engine.engine, token), shutdown_timeout=SHUTDOWN_SECONDS
    )
    await engine.runner.setup()
    await web.TCPSite(engine.runner, engine.host, engine.port).start()


def camera_device(hass: HomeAssistant, engine_id: str, camera_id: str) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device(
        identifiers={camera_device_identifier(engine_id, camera_id)}
    )


async def add_cafeteria(
    hass: HomeAssistant, entry: MockConfigEntry, sim: CameraSim
) -> dict[str, Any]:
    """Add the simulator through the manual path with two rules; return the created result."""
    result = await start_flow(hass, entry, "manual")
    result = await configure(hass, result["flow_id"], manual_input(sim))
    assert result["step_id"] == "camera"
    result = await configure(
        hass,
        result["flow_id"],
        {"name": "Cafeteria", "location": "Building C", "rules": ["weapon", "crowd"]},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return result


async def test_manual_camera_is_probed_added_on_the_engine_and_gets_a_device(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
) -> None:
    result = await start_flow(hass, loaded_entry, "manual")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    assert defaults(result) == {"port": 80, "username": "", "password": ""}

    result = await configure(hass, result["flow_id"], manual_input(camera_sim))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "camera"
    assert result["errors"] == {}
    placeholders = result["description_placeholders"]
    assert placeholders["device"] == "School Guard simulator school-guard-sim"
    assert placeholders["address"] == f"127.0.0.1:{camera_sim.port}"
    assert placeholders["resolution"] == "1920x1080"  # the main profile, as a real camera
    assert abs(int(placeholders["clock_offset"])) <= 2
    # No discovery name: the name defaults to the camera's make and model.
    assert defaults(result) == {
        "name": "School Guard simulator school-guard-sim",
        "location": "",
        "rules": ["weapon", "fight", "person_down", "loitering", "crowd", "tamper"],
    }

    result = await configure(
        hass,
        result["flow_id"],
        {"name": "Cafeteria", "location": "Building C", "rules": ["weapon", "crowd"]},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Cafeteria"
    assert result["data"] == {
        "camera_id": "cafeteria",
        "host": "127.0.0.1",
        "port": camera_sim.port,
        "location": "Building C",
    }

    # The engine has the camera, with its credentials, as an API camera.
    runtime = running_engine.engine.cameras["cafeteria"]
    assert runtime.origin == "api"
    assert runtime.config.name == "Cafeteria"
    assert runtime.config.location == "Building C"
    source = runtime.config.source
    assert (source.type, source.host, source.port) == ("onvif", "127.0.0.1", camera_sim.port)
    assert (source.username, source.password) == ("admin", PASSWORD)
    assert set(runtime.config.rules) == {"weapon", "crowd"}

    # Home Assistant keeps a subentry (never the password) and a device under it.
    (subentry,) = loaded_entry.subentries.values()
    assert subentry.unique_id == "cafeteria"
    assert subentry.subentry_type == SUBENTRY_CAMERA
    assert PASSWORD not in str(dict(subentry.data))
    engine_id = running_engine.engine_id
    await wait_until(
        hass, lambda: camera_device(hass, engine_id, "cafeteria") is not None, "camera device"
    )
    device = camera_device(hass, engine_id, "cafeteria")
    assert device is not None
    assert device.name == "Cafeteria"
    assert device.config_entries_subentries == {loaded_entry.entry_id: {subentry.subentry_id}}
    entities = er.async_entries_for_device(er.async_get(hass), device.id)
    assert entities
    assert {e.config_subentry_id for e in entities} == {subentry.subentry_id}
    assert "cafeteria" in loaded_entry.runtime_data.hub.cameras

    # Once the engine has probed the camera, its device names the real hardware.
    def hardware() -> tuple[str | None, str | None, str | None] | None:
        found = camera_device(hass, engine_id, "cafeteria")
        return None if found is None else (found.manufacturer, found.model, found.sw_version)

    await wait_until(
        hass,
        lambda: hardware() == ("School Guard simulator", "school-guard-sim", "1.0.0"),
        "the probed camera hardware on its device",
    )


async def test_camera_pushed_before_its_subentry_exists_still_lands_under_it(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
) -> None:
    """The engine's push of the new camera can beat the flow's end; force that order."""
    hub = loaded_entry.runtime_data.hub
    real_add_camera = SchoolGuardClient.add_camera

    async def add_then_wait_for_push(
        client: SchoolGuardClient, camera: Mapping[str, object]
    ) -> CameraState:
        added = await real_add_camera(client, camera)
        await wait_until(hass, lambda: added.camera_id in hub.cameras, "the engine's push")
        return added

    with patch.object(SchoolGuardClient, "add_camera", add_then_wait_for_push):
        await add_cafeteria(hass, loaded_entry, camera_sim)
    engine_id = running_engine.engine_id
    await wait_until(
        hass, lambda: camera_device(hass, engine_id, "cafeteria") is not None, "camera device"
    )
    device = camera_device(hass, engine_id, "cafeteria")
    assert device is not None
    (subentry_id,) = loaded_entry.subentries
    assert device.config_entries_subentries == {loaded_entry.entry_id: {subentry_id}}
    assert hub.awaiting_subentry == set()


async def test_config_file_camera_has_a_device_but_no_subentry(
    hass: HomeAssistant, running_engine: RunningEngine, loaded_entry: MockConfigEntry
) -> None:
    device = camera_device(hass, running_engine.engine_id, "plaza")
    assert device is not None
    assert device.config_entries_subentries == {loaded_entry.entry_id: {None}}
    assert dict(loaded_entry.subentries) == {}


async def test_discovered_camera_is_picked_and_then_hidden_once_added(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
    unicast_discovery: dict[str, object],
) -> None:
    with patch.object(camera_flow, "DISCOVER_REQUEST", unicast_discovery):
        result = await start_flow(hass, loaded_entry, "discover")
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "discover"
        key = f"127.0.0.1:{camera_sim.port}"
        options = result["data_schema"].schema["camera"].config["options"]
        assert options == [{"value": key, "label": f"Cafeteria · Building C ({key})"}]

        wrong = {"camera": key, "username": "admin", "password": "nope"}
        result = await configure(hass, result["flow_id"], wrong)
        assert result["step_id"] == "discover"
        assert result["errors"] == {"base": "camera_auth"}
        assert "refused the username or password" in result["description_placeholders"]["details"]

        result = await configure(hass, result["flow_id"], wrong | {"password": PASSWORD})
        assert result["step_id"] == "camera"
        # The camera's own discovery scopes suggest its name and place.
        assert defaults(result)["name"] == "Cafeteria"
        assert defaults(result)["location"] == "Building C"
        result = await configure(
            hass, result["flow_id"], {"name": "Cafeteria", "location": "Building C", "rules": []}
        )
        await hass.async_block_till_done()
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert running_engine.engine.cameras["cafeteria"].config.rules == {}

        # The same camera is not offered a second time.
        result = await start_flow(hass, loaded_entry, "discover")
        assert result["step_id"] == "manual"
        assert result["errors"] == {"base": "no_cameras_found"}


async def test_nothing_discovered_goes_to_the_manual_form(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    nowhere = {"multicast": False, "targets": [], "timeout": 0.2}
    with patch.object(camera_flow, "DISCOVER_REQUEST", nowhere):
        result = await start_flow(hass, loaded_entry, "discover")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    assert result["errors"] == {"base": "no_cameras_found"}


async def test_discovery_the_engine_cannot_run_goes_to_the_manual_form(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    # An engine whose host cannot send WS-Discovery answers 422 camera_error. Making a
    # real send fail would need a non-loopback target, so this answer is forced.
    message = "cannot send a WS-Discovery probe: 239.255.255.250:3702: Network is unreachable"
    failure = SchoolGuardApiError(422, "camera_error", message)
    with patch.object(SchoolGuardClient, "onvif_discover", side_effect=failure):
        result = await start_flow(hass, loaded_entry, "discover")
    assert result["step_id"] == "manual"
    assert result["errors"] == {"base": "discovery_failed"}
    assert result["description_placeholders"]["details"] == message


def wrong_password(sim: CameraSim, data: dict[str, object]) -> dict[str, object]:
    return data | {"password": "nope"}


def clock_skew(sim: CameraSim, data: dict[str, object]) -> dict[str, object]:
    # A camera an hour off refuses the digest and the engine names the clock as the cause.
    sim.faults.clock_skew_seconds = 3600
    return data | {"password": "nope"}


def no_profile(sim: CameraSim, data: dict[str, object]) -> dict[str, object]:
    sim.faults.no_profiles = True
    return data


@pytest.mark.parametrize(
    ("fault", "error", "detail"),
    [
        (wrong_password, "camera_auth", "refused the username or password"),
        (clock_skew, "camera_clock_skew", "its clock is +"),
        (no_profile, "camera_no_profile", "no media profile with a stream"),
    ],
)
async def test_probe_errors_are_translated_and_the_flow_recovers(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    loaded_entry: MockConfigEntry,
    fault: Callable[[CameraSim, dict[str, object]], dict[str, object]],
    error: str,
    detail: str,
) -> None:
    result = await start_flow(hass, loaded_entry, "manual")
    result = await configure(hass, result["flow_id"], fault(camera_sim, manual_input(camera_sim)))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    assert result["errors"] == {"base": error}
    assert detail in result["description_placeholders"]["details"]
    # What was typed stays in the form (except the password).
    assert defaults(result) == {
        "host": "127.0.0.1",
        "port": camera_sim.port,
        "username": "admin",
        "password": "",
    }

    camera_sim.faults.no_profiles = False
    result = await configure(hass, result["flow_id"], manual_input(camera_sim))
    assert result["step_id"] == "camera"
    assert result["errors"] == {}
    # The engine adjusts for a skewed clock once the password is right, and says so.
    expected_offset = 3600 if fault is clock_skew else 0
    offset = int(result["description_placeholders"]["clock_offset"])
    assert abs(offset - expected_offset) <= 2


async def test_unreachable_camera(
    hass: HomeAssistant, camera_sim: CameraSim, loaded_entry: MockConfigEntry, closed_port: int
) -> None:
    result = await start_flow(hass, loaded_entry, "manual")
    result = await configure(hass, result["flow_id"], manual_input(camera_sim, port=closed_port))
    assert result["errors"] == {"base": "camera_unreachable"}
    assert f"127.0.0.1:{closed_port}" in result["description_placeholders"]["details"]


async def test_a_host_outside_the_engines_camera_networks_is_refused_with_its_setting(
    hass: HomeAssistant, camera_sim: CameraSim, loaded_entry: MockConfigEntry, closed_port: int
) -> None:
    # 0.0.0.0 is outside the default networks; were it contacted, it would still be this host.
    result = await start_flow(hass, loaded_entry, "manual")
    typed = manual_input(camera_sim, host="0.0.0.0", port=closed_port)
    result = await configure(hass, result["flow_id"], typed)
    assert result["errors"] == {"base": "host_not_allowed"}
    assert "security.camera_networks" in result["description_placeholders"]["details"]
    assert PASSWORD not in result["description_placeholders"]["details"]


async def test_engine_down_during_the_flow(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
) -> None:
    result = await start_flow(hass, loaded_entry, "manual")
    flow_id = result["flow_id"]
    await api_down(running_engine)
    result = await configure(hass, flow_id, manual_input(camera_sim))
    assert result["errors"] == {"base": "cannot_connect"}

    await api_up(running_engine)
    result = await configure(hass, flow_id, manual_input(camera_sim))
    assert result["step_id"] == "camera"

    await api_down(running_engine)
    camera = {"name": "Cafeteria", "location": "", "rules": ["tamper"]}
    result = await configure(hass, flow_id, camera)
    assert result["step_id"] == "camera"
    assert result["errors"] == {"base": "cannot_connect"}
    hub = loaded_entry.runtime_data.hub
    assert hub.awaiting_subentry == set()

    await api_up(running_engine)
    result = await configure(hass, flow_id, camera)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert set(running_engine.engine.cameras) == {"plaza", "cafeteria"}

    # Discovery needs the engine as well.
    await api_down(running_engine)
    result = await start_flow(hass, loaded_entry, "discover")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"
    await api_up(running_engine)


async def test_engine_refusing_the_token_aborts(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
    unicast_discovery: dict[str, object],
) -> None:
    result = await start_flow(hass, loaded_entry, "manual")
    result = await configure(hass, result["flow_id"], manual_input(camera_sim))
    camera_step = result["flow_id"]
    manual = await start_flow(hass, loaded_entry, "manual")
    await running_engine.restart_api(token="another-token")

    result = await configure(hass, manual["flow_id"], manual_input(camera_sim))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_auth"
    result = await configure(hass, camera_step, {"name": "Hall", "rules": []})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_auth"
    with patch.object(camera_flow, "DISCOVER_REQUEST", unicast_discovery):
        result = await start_flow(hass, loaded_entry, "discover")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_auth"
    assert set(running_engine.engine.cameras) == {"plaza"}


async def test_engine_refusing_the_camera_is_shown(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
) -> None:
    result = await start_flow(hass, loaded_entry, "manual")
    result = await configure(hass, result["flow_id"], manual_input(camera_sim))
    flow_id = result["flow_id"]

    # A blank name passes the form but not the engine's validation.
    result = await configure(hass, flow_id, {"name": "   ", "rules": []})
    assert result["errors"] == {"base": "invalid_camera"}
    assert "name" in result["description_placeholders"]["details"]

    # Another client took the id between the two steps: the engine answers 409.
    with patch.object(CameraSubentryFlow, "_new_camera_id", return_value="plaza"):
        result = await configure(hass, flow_id, {"name": "Plaza again", "rules": []})
    assert result["errors"] == {"base": "camera_exists"}
    assert running_engine.engine.cameras["plaza"].origin == "config"
    assert loaded_entry.runtime_data.hub.awaiting_subentry == set()


async def test_camera_ids_never_collide(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
) -> None:
    for _ in range(2):
        result = await start_flow(hass, loaded_entry, "manual")
        result = await configure(hass, result["flow_id"], manual_input(camera_sim))
        result = await configure(hass, result["flow_id"], {"name": "Plaza", "rules": []})
        assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await start_flow(hass, loaded_entry, "manual")
    result = await configure(hass, result["flow_id"], manual_input(camera_sim))
    result = await configure(hass, result["flow_id"], {"name": "!!!", "rules": []})
    await hass.async_block_till_done()
    ids = {s.unique_id for s in loaded_entry.subentries.values()}
    assert ids == {"plaza_2", "plaza_3", "unknown"}
    assert set(running_engine.engine.cameras) == {"plaza", "plaza_2", "plaza_3", "unknown"}


async def test_removing_the_subentry_deletes_the_camera_and_its_device(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
) -> None:
    await add_cafeteria(hass, loaded_entry, camera_sim)
    engine_id = running_engine.engine_id
    await wait_until(
        hass, lambda: camera_device(hass, engine_id, "cafeteria") is not None, "camera device"
    )
    device = camera_device(hass, engine_id, "cafeteria")
    assert device is not None
    (subentry_id,) = loaded_entry.subentries

    assert hass.config_entries.async_remove_subentry(loaded_entry, subentry_id)
    await hass.async_block_till_done()
    await wait_until(
        hass, lambda: "cafeteria" not in running_engine.engine.cameras, "engine deletion"
    )
    assert camera_device(hass, engine_id, "cafeteria") is None
    assert er.async_entries_for_device(er.async_get(hass), device.id) == []
    assert "cafeteria" not in loaded_entry.runtime_data.hub.cameras
    # The config file's camera is untouched.
    assert camera_device(hass, engine_id, "plaza") is not None


async def test_a_camera_deleted_on_the_engine_loses_device_and_subentry(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
) -> None:
    await add_cafeteria(hass, loaded_entry, camera_sim)
    engine_id = running_engine.engine_id
    await wait_until(
        hass, lambda: camera_device(hass, engine_id, "cafeteria") is not None, "camera device"
    )

    await running_engine.engine.remove_camera("cafeteria")
    await wait_until(hass, lambda: not loaded_entry.subentries, "the subentry to go")
    await wait_until(
        hass, lambda: camera_device(hass, engine_id, "cafeteria") is None, "device removal"
    )
    assert "cafeteria" not in loaded_entry.runtime_data.hub.cameras

    # The same name can be added again and gets its entities back.
    await add_cafeteria(hass, loaded_entry, camera_sim)
    await wait_until(
        hass, lambda: camera_device(hass, engine_id, "cafeteria") is not None, "device again"
    )
    device = camera_device(hass, engine_id, "cafeteria")
    assert device is not None
    assert er.async_entries_for_device(er.async_get(hass), device.id)


async def test_subentry_of_a_config_camera_cannot_delete_it(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Lincoln High",
        unique_id=running_engine.engine_id,
        data={"host": running_engine.host, "port": running_engine.port, "token": TOKEN},
        subentries_data=[
            ConfigSubentryData(
                data={"camera_id": "plaza"},
                subentry_type=SUBENTRY_CAMERA,
                title="Plaza",
                unique_id="plaza",
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    (subentry_id,) = entry.subentries

    hass.config_entries.async_remove_subentry(entry, subentry_id)
    await hass.async_block_till_done()
    assert running_engine.engine.cameras["plaza"].origin == "config"
    assert f"Engine {running_engine.engine_id} kept camera plaza: 409 conflict" in caplog.text


async def test_subentry_removed_while_the_engine_is_down(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await add_cafeteria(hass, loaded_entry, camera_sim)
    engine_id = running_engine.engine_id
    await wait_until(
        hass, lambda: camera_device(hass, engine_id, "cafeteria") is not None, "camera device"
    )
    (subentry_id,) = loaded_entry.subentries

    await api_down(running_engine)
    hass.config_entries.async_remove_subentry(loaded_entry, subentry_id)
    await hass.async_block_till_done()
    assert "Could not delete camera cafeteria" in caplog.text
    # Home Assistant drops the device with its subentry; the engine still has the camera.
    assert camera_device(hass, engine_id, "cafeteria") is None
    assert "cafeteria" in running_engine.engine.cameras
    await api_up(running_engine)


async def test_setup_forgets_cameras_that_left_the_engine(
    hass: HomeAssistant, running_engine: RunningEngine
) -> None:
    engine_id = running_engine.engine_id
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Lincoln High",
        unique_id=engine_id,
        data={"host": running_engine.host, "port": running_engine.port, "token": TOKEN},
        subentries_data=[
            ConfigSubentryData(
                data={"camera_id": "gone"},
                subentry_type=SUBENTRY_CAMERA,
                title="Gone",
                unique_id="gone",
            )
        ],
    )
    entry.add_to_hass(hass)
    registry = dr.async_get(hass)
    (subentry_id,) = entry.subentries
    registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        config_subentry_id=subentry_id,
        identifiers={camera_device_identifier(engine_id, "gone")},
    )
    registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={camera_device_identifier(engine_id, "old-config-camera")},
    )

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert dict(entry.subentries) == {}
    assert camera_device(hass, engine_id, "gone") is None
    assert camera_device(hass, engine_id, "old-config-camera") is None
    assert camera_device(hass, engine_id, "plaza") is not None
    assert registry.async_get_device(identifiers={(DOMAIN, engine_id)}) is not None


async def test_add_camera_needs_a_loaded_engine(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.subentries.async_init(
        (config_entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "engine_not_loaded"


async def test_every_flow_message_is_translated(hass: HomeAssistant) -> None:
    translations = await async_get_translations(
        hass, "en", "config_subentries", integrations=[DOMAIN]
    )
    prefix = f"component.{DOMAIN}.config_subentries.{SUBENTRY_CAMERA}"
    errors = {
        "cannot_connect",
        "discovery_failed",
        "no_cameras_found",
        "camera_error",
        "camera_exists",
        "invalid_camera",
        *(error_table.TRANSLATIONS[code].form for code in error_table.CAMERA_CODES),
    }
    for error in errors:
        assert translations[f"{prefix}.error.{error}"]
    aborts = ("engine_not_loaded", "cannot_connect", "invalid_auth", "already_configured")
    for reason in (*aborts, "camera_gone", "reconfigure_successful"):
        assert translations[f"{prefix}.abort.{reason}"]
    assert translations[f"{prefix}.initiate_flow.user"] == "Add camera"
    for step in ("discover", "manual", "camera", "reconfigure"):
        assert "{details}" in translations[f"{prefix}.step.{step}.description"]
    selector = await async_get_translations(hass, "en", "selector", integrations=[DOMAIN])
    for rule in ("weapon", "fight", "person_down", "intrusion", "loitering", "crowd", "tamper"):
        assert selector[f"component.{DOMAIN}.selector.camera_rules.options.{rule}"]


async def cafeteria_in_hub(
    hass: HomeAssistant, entry: MockConfigEntry, sim: CameraSim
) -> SchoolGuardHub:
    """Add the cafeteria and wait until the hub knows it (reconfigure needs it there)."""
    await add_cafeteria(hass, entry, sim)
    hub: SchoolGuardHub = entry.runtime_data.hub
    await wait_until(hass, lambda: "cafeteria" in hub.cameras, "the camera in the hub")
    return hub


async def start_reconfigure(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Open "Reconfigure" on the entry's one camera subentry."""
    (subentry_id,) = entry.subentries
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    return dict(result)


def reconfigure_input(sim: CameraSim, **changes: object) -> dict[str, object]:
    """The reconfigure form as shown for the cafeteria, with ``changes`` typed in."""
    return {
        "name": "Cafeteria",
        "location": "Building C",
        "rules": ["weapon", "crowd"],
        "host": "127.0.0.1",
        "port": sim.port,
        "username": "",
        "password": "",
    } | changes


async def test_reconfigure_changes_name_place_and_rules_and_keeps_the_password(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
) -> None:
    hub = await cafeteria_in_hub(hass, loaded_entry, camera_sim)
    engine_id = running_engine.engine_id
    await wait_until(
        hass, lambda: camera_device(hass, engine_id, "cafeteria") is not None, "camera device"
    )
    # The camera's crowd rule carries options set on the engine (not in the form).
    await running_engine.engine.update_camera(
        "cafeteria", {"rules": {"weapon": {}, "crowd": {"max_people": 3}}}
    )
    await wait_until(
        hass,
        lambda: hub.cameras["cafeteria"].rule_options.get("crowd", {}).get("max_people") == 3,
        "the crowd option in the hub",
    )

    result = await start_reconfigure(hass, loaded_entry)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"]["name"] == "Cafeteria"
    shown = defaults(result)
    assert shown == reconfigure_input(camera_sim, rules=["weapon", "crowd"])
    assert PASSWORD not in str(shown)

    result = await configure(
        hass,
        result["flow_id"],
        reconfigure_input(
            camera_sim, name="Dining hall", location="Building D", rules=["crowd", "fight"]
        ),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    config = running_engine.engine.cameras["cafeteria"].config
    assert (config.name, config.location) == ("Dining hall", "Building D")
    assert set(config.rules) == {"crowd", "fight"}
    assert config.rules["crowd"]["max_people"] == 3, "a kept rule keeps its options"
    assert (config.source.username, config.source.password) == ("admin", PASSWORD)
    (subentry,) = loaded_entry.subentries.values()
    assert subentry.title == "Dining hall"
    assert subentry.data["location"] == "Building D"
    await wait_until(
        hass,
        lambda: getattr(camera_device(hass, engine_id, "cafeteria"), "name", None) == "Dining hall",
        "the device renamed",
    )


async def test_reconfigure_tests_new_credentials_on_the_camera_before_storing_them(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
) -> None:
    await cafeteria_in_hub(hass, loaded_entry, camera_sim)

    result = await start_reconfigure(hass, loaded_entry)
    wrong = reconfigure_input(camera_sim, username="admin", password="not-it")
    result = await configure(hass, result["flow_id"], wrong)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "camera_auth"}
    assert running_engine.engine.cameras["cafeteria"].config.source.password == PASSWORD

    # A new address without the password: the camera must answer it without one.
    moved = reconfigure_input(camera_sim, port=9)
    result = await configure(hass, result["flow_id"], moved)
    assert result["errors"] == {"base": "camera_unreachable"}

    # The engine refuses what the form cannot check (an empty name), and says why.
    result = await configure(hass, result["flow_id"], reconfigure_input(camera_sim, name="  "))
    assert result["errors"] == {"base": "invalid_camera"}
    assert "name" in result["description_placeholders"]["details"]

    # A username alone goes to the engine, which keeps the stored password with it.
    result = await configure(hass, result["flow_id"], reconfigure_input(camera_sim, username="op"))
    assert result["reason"] == "reconfigure_successful"
    source = running_engine.engine.cameras["cafeteria"].config.source
    assert (source.username, source.password) == ("op", PASSWORD)

    result = await start_reconfigure(hass, loaded_entry)
    camera_sim.password = "rotated"
    rotated = reconfigure_input(camera_sim, username="admin", password="rotated")
    result = await configure(hass, result["flow_id"], rotated)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    source = running_engine.engine.cameras["cafeteria"].config.source
    assert (source.username, source.password) == ("admin", "rotated")
    (subentry,) = loaded_entry.subentries.values()
    assert "rotated" not in str(dict(subentry.data)), "Home Assistant never keeps the password"


async def test_reconfigure_of_a_camera_the_engine_lost_aborts(
    hass: HomeAssistant,
    camera_sim: CameraSim,
    running_engine: RunningEngine,
    loaded_entry: MockConfigEntry,
) -> None:
    hub = await cafeteria_in_hub(hass, loaded_entry, camera_sim)
    hub.cameras.pop("cafeteria")  # the engine's removal is on its way
    result = await start_reconfigure(hass, loaded_entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "camera_gone"
