"""The integration's API client and push listener against a real engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from custom_components.school_guard.client import (
    CameraRemoved,
    CameraState,
    EventChange,
    Hello,
    ModeState,
    PushListener,
    PushMessage,
    SchoolGuardApiError,
    SchoolGuardAuthError,
    SchoolGuardClient,
    SchoolGuardConnectionError,
    parse_push_message,
)
from custom_components.school_guard.const import DOMAIN

from .conftest import TOKEN, RunningEngine
from .helpers import wait_until


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(running_engine: RunningEngine, session: aiohttp.ClientSession) -> SchoolGuardClient:
    return SchoolGuardClient(session, "127.0.0.1", running_engine.port, TOKEN)


async def test_info_cameras_and_health(
    client: SchoolGuardClient, running_engine: RunningEngine
) -> None:
    info = await client.info()
    assert (info.engine_id, info.name) == (running_engine.engine_id, "Lincoln High")
    assert info.rules == (
        "weapon",
        "fight",
        "person_down",
        "intrusion",
        "loitering",
        "crowd",
        "tamper",
    )
    assert "lockdown" in info.response_modes
    cameras = await client.cameras()
    assert [(c.camera_id, c.name, c.location) for c in cameras] == [
        ("plaza", "Plaza", "Building B, outside")
    ]
    assert cameras[0].rules_active == dict.fromkeys(info.rules, False)
    assert await client.health_cursor() == 0


async def test_events_since_cursor_and_mode(client: SchoolGuardClient) -> None:
    first = await client.test_alert("plaza", "crowd", seconds=600)
    second = await client.test_alert("plaza", "loitering", seconds=600)
    page = await client.events(since=first.cursor)
    assert [(c.event.rule, c.change) for c in page.changes] == [("loitering", "started")]
    assert page.cursor == second.cursor

    assert (await client.mode()).mode == "normal"
    mode = await client.set_mode("lockdown", drill=True)
    assert (mode.mode, mode.drill) == ("lockdown", True)
    assert await client.mode() == mode


async def test_snapshot_is_jpeg(client: SchoolGuardClient, running_engine: RunningEngine) -> None:
    plaza = running_engine.engine.cameras["plaza"]
    await asyncio.wait_for(_until(lambda: plaza.last_result is not None), 60)
    image = await client.snapshot("plaza", annotated=True)
    assert image[:2] == b"\xff\xd8"
    assert (await client.snapshot("plaza"))[:2] == b"\xff\xd8"


async def _until(condition: object) -> None:
    while not condition():  # type: ignore[operator]
        await asyncio.sleep(0.05)


async def test_errors_are_mapped(
    client: SchoolGuardClient, running_engine: RunningEngine, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(SchoolGuardApiError) as err:
        await client.snapshot("no-such-camera")
    assert (err.value.status, err.value.code) == (404, "not_found")
    with pytest.raises(SchoolGuardApiError) as err:
        await client.set_mode("panic")
    assert (err.value.status, err.value.code) == (400, "invalid")

    wrong = SchoolGuardClient(session, "127.0.0.1", running_engine.port, "wrong")
    with pytest.raises(SchoolGuardAuthError):
        await wrong.info()
    with pytest.raises(SchoolGuardAuthError):
        await wrong.ws_connect(0)


async def test_unreachable_engine(session: aiohttp.ClientSession, closed_port: int) -> None:
    client = SchoolGuardClient(session, "127.0.0.1", closed_port, TOKEN)
    with pytest.raises(SchoolGuardConnectionError):
        await client.info()
    with pytest.raises(SchoolGuardConnectionError):
        await client.ws_connect(0)


async def test_a_server_that_is_not_an_engine(session: aiohttp.ClientSession) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>router login</html>")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=502, text="bad gateway")

    app = web.Application()
    app.add_routes([web.get("/api/v1/info", page), web.get("/api/v1/mode", broken)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        client = SchoolGuardClient(session, "127.0.0.1", port, TOKEN)
        with pytest.raises(SchoolGuardConnectionError, match="not JSON"):
            await client.info()
        with pytest.raises(SchoolGuardApiError) as err:
            await client.mode()
        assert (err.value.status, err.value.code, err.value.message) == (
            502,
            "unknown",
            "bad gateway",
        )
        with pytest.raises(SchoolGuardConnectionError, match="404"):
            await client.ws_connect(0)
    finally:
        await runner.cleanup()


def test_urls_and_message_parsing(session: aiohttp.ClientSession) -> None:
    client = SchoolGuardClient(session, "fd00::5", 8765, TOKEN)
    assert client.base_url == "http://[fd00::5]:8765/api/v1"
    assert client.event_snapshot_url("e1") == "http://[fd00::5]:8765/api/v1/events/e1/snapshot.jpg"
    assert parse_push_message({"type": "stats"}) is None
    assert parse_push_message({"type": "camera_removed", "camera_id": "gym"}) == CameraRemoved(
        "gym"
    )
    assert parse_push_message({"type": "mode", "mode": "hold"}) == ModeState("hold", False, None)


async def test_listener_resumes_after_reconnect_from_last_event_cursor(
    client: SchoolGuardClient, running_engine: RunningEngine
) -> None:
    before = await client.test_alert("plaza", "tamper", seconds=600)
    received: list[PushMessage] = []
    disconnects: list[int] = []
    listener = PushListener(
        client,
        received.append,
        lambda: disconnects.append(len(received)),
        cursor=before.cursor,
        reconnect_delays=(0.05,),
    )
    task = asyncio.get_running_loop().create_task(listener.run())
    try:
        await asyncio.wait_for(_until(lambda: any(isinstance(m, Hello) for m in received)), 30)
        await running_engine.restart_api()
        await asyncio.wait_for(_until(lambda: disconnects != []), 30)
        missed = await running_engine.engine.test_alert("plaza", "crowd", seconds=600)
        await asyncio.wait_for(_until(lambda: listener.cursor == missed.cursor), 30)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    events = [m for m in received if isinstance(m, EventChange)]
    assert [(e.cursor, e.event.rule) for e in events] == [(missed.cursor, "crowd")]
    assert sum(isinstance(m, Hello) for m in received) == 2
    assert any(isinstance(m, CameraState) and m.camera_id == "plaza" for m in received)


async def test_refused_token_on_reconnect_starts_reauth(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    hub = config_entry.runtime_data.hub
    await wait_until(hass, lambda: hub.connected, "the push connection")
    await running_engine.restart_api(token="rotated-token")

    def reauth_started() -> bool:
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        return [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]

    await wait_until(hass, reauth_started, "a reauth flow")
    assert hub.connected is False
