"""The engine API (v1): REST + WebSocket over aiohttp, bearer token on every call.

Bodies are validated with voluptuous; every failure is ``{"error": {"code", "message"}}``
with a 4xx status for anything the client can fix. Responses never carry credentials.
The OpenAPI document at ``/api/v1/openapi.json`` describes every route (and drives the
fuzz tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import voluptuous as vol
from aiohttp import WSMsgType, web

from detectors.engine.onvif_resolver import discover_json, probe_json
from detectors.engine.openapi import openapi_document
from detectors.engine.service import (
    RESPONSE_MODES,
    RULE_NAMES,
    CameraConflictError,
    CameraNotFoundError,
    Engine,
)
from detectors.errors import (
    ConfigError,
    EventNotFoundError,
    EventStateError,
    SchoolGuardError,
)
from detectors.incident_log import MAX_RECIPIENTS
from detectors.onvif.errors import (
    OnvifAuthError,
    OnvifClockSkewError,
    OnvifError,
    OnvifNoProfile,
    OnvifNotOnvif,
    OnvifTimeout,
    OnvifUnreachable,
)

_LOGGER = logging.getLogger(__name__)

_ONVIF_CODES = {
    OnvifUnreachable: "camera_unreachable",
    OnvifTimeout: "camera_timeout",
    OnvifNotOnvif: "camera_not_onvif",
    OnvifAuthError: "camera_auth",
    OnvifClockSkewError: "camera_clock_skew",
    OnvifNoProfile: "camera_no_profile",
}
"""What the integration turns into translated errors (422: the camera, not the request)."""

ENGINE_KEY: web.AppKey[Engine] = web.AppKey("engine", Engine)
TOKEN_KEY: web.AppKey[str] = web.AppKey("token", str)
PREFIX = "/api/v1"

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PERSON = vol.All(str, vol.Length(min=1, max=100))
ACK_SCHEMA = vol.Schema(
    {
        vol.Required("by"): _PERSON,
        vol.Optional("note", default=""): vol.All(str, vol.Length(max=1000)),
    }
)
DISMISS_SCHEMA = vol.Schema(
    {
        vol.Required("by"): _PERSON,
        vol.Optional("reason", default=""): vol.All(str, vol.Length(max=1000)),
    }
)
NOTIFIED_SCHEMA = vol.Schema(
    {
        vol.Required("recipients"): vol.All([_PERSON], vol.Length(min=1, max=MAX_RECIPIENTS)),
        vol.Required("channel"): vol.All(str, vol.Length(min=1, max=100)),
        vol.Required("by"): _PERSON,
    }
)
MODE_SCHEMA = vol.Schema(
    {vol.Required("mode"): vol.In(RESPONSE_MODES), vol.Optional("drill", default=False): bool}
)
TEST_ALERT_SCHEMA = vol.Schema(
    {
        vol.Required("camera_id"): str,
        vol.Required("rule"): vol.In(RULE_NAMES),
        vol.Optional("seconds", default=10.0): vol.All(
            vol.Coerce(float), vol.Range(min=1.0, max=600.0)
        ),
    }
)


def error_response(status: int, code: str, message: str) -> web.Response:
    """The one error shape of the API."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _invalid_message(err: vol.Invalid) -> str:
    path = ".".join(str(p) for p in err.path)
    return f"{path}: {err.msg}" if path else str(err.msg)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map every failure to the API's JSON error shape; never a 5xx for bad input."""
    try:
        return await handler(request)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        code = err.reason.lower().replace(" ", "_")
        return error_response(err.status, code, err.text or err.reason)
    except vol.MultipleInvalid as err:
        return error_response(400, "invalid", "; ".join(_invalid_message(e) for e in err.errors))
    except vol.Invalid as err:
        return error_response(400, "invalid", _invalid_message(err))
    except (CameraNotFoundError, EventNotFoundError) as err:
        return error_response(404, "not_found", str(err).strip("'\""))
    except (CameraConflictError, EventStateError) as err:
        return error_response(409, "conflict", str(err))
    except OnvifError as err:
        return error_response(422, _ONVIF_CODES.get(type(err), "camera_error"), str(err))
    except ConfigError as err:
        return error_response(400, "invalid", str(err))
    except SchoolGuardError as err:
        return error_response(400, "rejected", str(err))
    except Exception:
        _LOGGER.exception("unexpected error serving %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error; see the engine log")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require ``Authorization: Bearer <token>`` on every route."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    token = request.app[TOKEN_KEY]
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        return error_response(401, "unauthorized", "missing or wrong bearer token")
    return await handler(request)


async def _json_body(request: web.Request) -> Any:
    if not request.can_read_body:
        raise web.HTTPBadRequest(text="a JSON body is required")
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError) as err:
        raise web.HTTPBadRequest(text=f"body is not valid JSON: {err}") from None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


def _int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name}: expected an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise web.HTTPBadRequest(text=f"{name}: must be between {low} and {high}")
    return value


def _jpeg(data: bytes | None, what: str) -> web.Response:
    if data is None:
        raise web.HTTPNotFound(text=f"no image for {what} yet")
    return web.Response(body=data, content_type="image/jpeg")


class EngineApi:
    """Route handlers bound to one engine."""

    def __init__(self, engine: Engine) -> None:
        """Serve ``engine``."""
        self.engine = engine

    async def info(self, request: web.Request) -> web.Response:
        return web.json_response(self.engine.info())

    async def health(self, request: web.Request) -> web.Response:
        cameras = list(self.engine.cameras.values())
        online = sum(bool(c.status and c.status.online) for c in cameras)
        return web.json_response(
            {
                "status": "ok",
                "cameras": len(cameras),
                "cameras_online": online,
                "cursor": self.engine.cursor(),
            }
        )

    async def cameras(self, request: web.Request) -> web.Response:
        return web.json_response([c.to_json() for c in self.engine.cameras.values()])

    async def add_camera(self, request: web.Request) -> web.Response:
        runtime = await self.engine.add_camera(_object(await _json_body(request)))
        return web.json_response(runtime.to_json(), status=201)

    async def camera(self, request: web.Request) -> web.Response:
        return web.json_response(self.engine.camera(request.match_info["camera_id"]).to_json())

    async def patch_camera(self, request: web.Request) -> web.Response:
        patch = _object(await _json_body(request))
        runtime = await self.engine.update_camera(request.match_info["camera_id"], patch)
        return web.json_response(runtime.to_json())

    async def delete_camera(self, request: web.Request) -> web.Response:
        await self.engine.remove_camera(request.match_info["camera_id"])
        return web.json_response({"deleted": request.match_info["camera_id"]})

    async def camera_snapshot(self, request: web.Request) -> web.Response:
        camera_id = request.match_info["camera_id"]
        annotated = request.query.get("annotated", "0") in ("1", "true", "yes")
        return _jpeg(await self.engine.snapshot(camera_id, annotated=annotated), camera_id)

    async def events(self, request: web.Request) -> web.Response:
        since = _int_query(request, "since", 0, 0, 2**62)
        limit = _int_query(request, "limit", 500, 1, 5000)
        changes = self.engine.log.changes_since(since, limit)
        return web.json_response(
            {
                "changes": [c.to_json() for c in changes],
                "cursor": changes[-1].cursor if changes else max(since, 0),
            }
        )

    async def event(self, request: web.Request) -> web.Response:
        return web.json_response(self.engine.log.get(request.match_info["event_id"]).to_json())

    async def event_snapshot(self, request: web.Request) -> web.Response:
        event_id = request.match_info["event_id"]
        self.engine.log.get(event_id)
        return _jpeg(self.engine.log.snapshot(event_id), event_id)

    async def acknowledge(self, request: web.Request) -> web.Response:
        body = ACK_SCHEMA(_object(await _json_body(request)))
        change = await self.engine.acknowledge(
            request.match_info["event_id"], body["by"], body["note"]
        )
        return web.json_response(change.to_json())

    async def dismiss(self, request: web.Request) -> web.Response:
        body = DISMISS_SCHEMA(_object(await _json_body(request)))
        change = await self.engine.dismiss(
            request.match_info["event_id"], body["by"], body["reason"]
        )
        return web.json_response(change.to_json())

    async def notified(self, request: web.Request) -> web.Response:
        body = NOTIFIED_SCHEMA(_object(await _json_body(request)))
        change = await self.engine.record_notified(
            request.match_info["event_id"], body["recipients"], body["channel"], body["by"]
        )
        return web.json_response(change.to_json())

    async def get_mode(self, request: web.Request) -> web.Response:
        return web.json_response(self.engine.mode)

    async def put_mode(self, request: web.Request) -> web.Response:
        body = MODE_SCHEMA(_object(await _json_body(request)))
        return web.json_response(self.engine.set_mode(body["mode"], body["drill"]))

    async def test_alert(self, request: web.Request) -> web.Response:
        body = TEST_ALERT_SCHEMA(_object(await _json_body(request)))
        change = await self.engine.test_alert(
            body["camera_id"], body["rule"], seconds=body["seconds"]
        )
        return web.json_response(change.to_json(), status=201)

    async def onvif_discover(self, request: web.Request) -> web.Response:
        return web.json_response(await discover_json(_object(await _json_body(request))))

    async def onvif_probe(self, request: web.Request) -> web.Response:
        return web.json_response(await probe_json(_object(await _json_body(request))))

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(openapi_document(str(request.url.origin())))

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Push messages; replay event changes after ``?since=<cursor>`` first."""
        since = _int_query(request, "since", 0, 0, 2**62)
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        engine = self.engine
        queue = engine.feed.subscribe()
        try:
            await ws.send_json({"type": "hello", "engine_id": engine.id, "cursor": engine.cursor()})
            await ws.send_json({"type": "mode", "cursor": engine.cursor(), **engine.mode})
            for runtime in list(engine.cameras.values()):
                await ws.send_json(
                    {"type": "camera", "cursor": engine.cursor(), "camera": runtime.to_json()}
                )
            sent = since
            while True:
                missed = engine.log.changes_since(sent, 500)
                for change in missed:
                    await ws.send_json({"type": "event", **change.to_json()})
                    sent = change.cursor
                if len(missed) < 500:
                    break
            reader = asyncio.get_running_loop().create_task(_until_closed(ws, queue))
            try:
                while not ws.closed:
                    message = await queue.get()
                    if message is None:
                        break
                    if message.get("type") == "event" and int(str(message["cursor"])) <= sent:
                        continue
                    await ws.send_str(json.dumps(message))
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        except ConnectionResetError:
            _LOGGER.debug("WebSocket client went away")
        finally:
            engine.feed.unsubscribe(queue)
            await ws.close()
        return ws


async def _until_closed(
    ws: web.WebSocketResponse, queue: asyncio.Queue[Mapping[str, object] | None]
) -> None:
    """Read (and ignore) client frames so a close is noticed at once, then wake the sender."""
    async for message in ws:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break
    with contextlib.suppress(asyncio.QueueFull):
        queue.put_nowait(None)


def create_app(engine: Engine, token: str) -> web.Application:
    """The aiohttp application serving ``engine`` behind ``token``."""
    app = web.Application(middlewares=[errors_middleware, auth_middleware], client_max_size=1 << 20)
    app[ENGINE_KEY] = engine
    app[TOKEN_KEY] = token

    async def close_websockets(_: web.Application) -> None:
        # WebSocket handlers wait on the feed; ending it lets aiohttp shut down at once
        # instead of waiting its 60 s shutdown timeout for every connected client.
        engine.feed.close()

    app.on_shutdown.append(close_websockets)  # type: ignore[arg-type]  # aiohttp 3.11 stub quirk
    api = EngineApi(engine)
    routes = [
        web.get(f"{PREFIX}/info", api.info),
        web.get(f"{PREFIX}/health", api.health),
        web.get(f"{PREFIX}/cameras", api.cameras),
        web.post(f"{PREFIX}/cameras", api.add_camera),
        web.get(f"{PREFIX}/cameras/{{camera_id}}", api.camera),
        web.patch(f"{PREFIX}/cameras/{{camera_id}}", api.patch_camera),
        web.delete(f"{PREFIX}/cameras/{{camera_id}}", api.delete_camera),
        web.get(f"{PREFIX}/cameras/{{camera_id}}/snapshot.jpg", api.camera_snapshot),
        web.get(f"{PREFIX}/events", api.events),
        web.get(f"{PREFIX}/events/{{event_id}}", api.event),
        web.get(f"{PREFIX}/events/{{event_id}}/snapshot.jpg", api.event_snapshot),
        web.post(f"{PREFIX}/events/{{event_id}}/acknowledge", api.acknowledge),
        web.post(f"{PREFIX}/events/{{event_id}}/dismiss", api.dismiss),
        web.post(f"{PREFIX}/events/{{event_id}}/notified", api.notified),
        web.get(f"{PREFIX}/mode", api.get_mode),
        web.put(f"{PREFIX}/mode", api.put_mode),
        web.post(f"{PREFIX}/test_alert", api.test_alert),
        web.post(f"{PREFIX}/onvif/discover", api.onvif_discover),
        web.post(f"{PREFIX}/onvif/probe", api.onvif_probe),
        web.get(f"{PREFIX}/openapi.json", api.openapi),
        web.get(f"{PREFIX}/ws", api.websocket),
    ]
    app.add_routes(routes)
    return app
