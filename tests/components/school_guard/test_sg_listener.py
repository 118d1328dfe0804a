"""The push listener's handling of an unreliable peer: retries, junk frames, repeats.

The real engine never sends junk, so a small scripted WebSocket server on loopback plays
the misbehaving peer (a proxy or a half-upgraded engine could).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.school_guard.client import (
    EventChange,
    Hello,
    PushListener,
    PushMessage,
    SchoolGuardClient,
)
from custom_components.school_guard.const import DOMAIN

from .conftest import TOKEN


def event_message(cursor: int) -> dict[str, object]:
    return {
        "type": "event",
        "cursor": cursor,
        "event_id": "e1",
        "change": "updated",
        "at": 1.0,
        "event": {
            "id": "e1",
            "camera_id": "plaza",
            "camera_name": "Plaza",
            "location": "",
            "rule": "crowd",
            "state": "updated",
            "confidence": 0.5,
            "drill": False,
        },
    }


async def scripted_ws(request: web.Request) -> web.WebSocketResponse:
    """Hello, junk, an old event, a new event, an unknown type, then a binary frame."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    request.app["since"].append(request.query["since"])
    await ws.send_json({"type": "hello", "engine_id": "fake", "cursor": 9})
    await ws.send_str("{not json")
    await ws.send_json({"type": "event", "cursor": 3})
    await ws.send_json(event_message(5))
    await ws.send_json(event_message(7))
    await ws.send_json({"type": "stats", "cursor": 7})
    await ws.send_bytes(b"\x00")
    await ws.close()
    return ws


async def server_error(request: web.Request) -> web.Response:
    body = {"error": {"code": "internal", "message": "engine bug"}}
    return web.json_response(body, status=500)


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_listener_retries_until_peer_appears_and_skips_junk(
    session: aiohttp.ClientSession, closed_port: int
) -> None:
    app = web.Application()
    app["since"] = []
    app.add_routes([web.get("/api/v1/ws", scripted_ws)])
    received: list[PushMessage] = []
    disconnected = asyncio.Event()
    listener = PushListener(
        SchoolGuardClient(session, "127.0.0.1", closed_port, TOKEN),
        received.append,
        disconnected.set,
        cursor=5,
        reconnect_delays=(0.05, 0.1),
    )
    task = asyncio.get_running_loop().create_task(listener.run())
    runner = web.AppRunner(app)
    try:
        await asyncio.sleep(0.3)  # several refused connects happen meanwhile
        assert received == []
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", closed_port).start()
        await asyncio.wait_for(disconnected.wait(), 30)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await runner.cleanup()
    assert app["since"][0] == "5"
    assert received[0] == Hello("fake", 9)
    assert [m.cursor for m in received[1:] if isinstance(m, EventChange)] == [7]
    assert len(received) == 2
    assert listener.cursor == 7


async def test_config_flow_unknown_error_from_engine(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    app = web.Application()
    app.add_routes([web.get("/api/v1/info", server_error)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port, CONF_TOKEN: TOKEN}
        )
    finally:
        await runner.cleanup()
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
