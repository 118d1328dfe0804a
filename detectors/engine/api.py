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
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import voluptuous as vol
from aiohttp import WSMsgType, web

from detectors.engine.interface import EngineService
from detectors.engine.onvif_resolver import discover_cameras, probe_camera
from detectors.protocol import requests
from detectors.protocol.cameras import camera_json
from detectors.protocol.codes import ApiErrorCode, ErrorCode
from detectors.protocol.engine import DELETED, ERROR, HEALTH, MODE, ApiError, Health
from detectors.protocol.errors import classify, http_code
from detectors.protocol.events import EVENT, EVENT_PAGE, EventPage, change_json
from detectors.protocol.messages import camera_message, event_message, hello_message, mode_message
from detectors.protocol.onvif import DISCOVERED, PROBE
from detectors.protocol.openapi import OPERATIONS, PREFIX, openapi_document
from detectors.protocol.report import SUMMARY

_LOGGER = logging.getLogger(__name__)

ENGINE_KEY: web.AppKey[EngineService] = web.AppKey("engine")
TOKEN_KEY: web.AppKey[str] = web.AppKey("token", str)

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(status: int, code: ApiErrorCode, message: str) -> web.Response:
    """The one error shape of the API."""
    return web.json_response(ERROR.build(ApiError(code, message)), status=status)


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
        answer = error_response(err.status, http_code(err.status), err.text or err.reason)
        if "Content-Range" in err.headers:  # a 416 says how long the body is
            answer.headers["Content-Range"] = err.headers["Content-Range"]
        return answer
    except Exception as err:  # every failure answers in the API's error shape
        known = classify(err)
        if known is None:
            _LOGGER.exception("unexpected error serving %s %s", request.method, request.path)
            return error_response(500, ErrorCode.INTERNAL, "internal error; see the engine log")
        status, code = known
        message = _message(err)
        # A missing id is a KeyError underneath, whose text comes quoted.
        return error_response(status, code, message.strip("'\"") if status == 404 else message)


def _message(err: Exception) -> str:
    """The failure in words; validation problems name their key."""
    if isinstance(err, vol.MultipleInvalid):
        return "; ".join(_invalid_message(e) for e in err.errors)
    if isinstance(err, vol.Invalid):
        return _invalid_message(err)
    return str(err)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require ``Authorization: Bearer <token>`` on every route."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    token = request.app[TOKEN_KEY]
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        return error_response(401, ErrorCode.UNAUTHORIZED, "missing or wrong bearer token")
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


def _number_query(request: web.Request, name: str) -> float | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name}: expected a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise web.HTTPBadRequest(text=f"{name}: expected a finite number, got {raw!r}")
    return value


def _jpeg(data: bytes | None, what: str) -> web.Response:
    if data is None:
        raise web.HTTPNotFound(text=f"no image for {what} yet")
    return web.Response(body=data, content_type="image/jpeg")


def _evidence(data: bytes | None, what: str, event_id: str) -> bytes:
    if data is None:
        raise web.HTTPNotFound(
            text=f"no {what} for event {event_id} yet: evidence is written when the "
            "post-roll has passed (see evidence_at)"
        )
    return data


def _byte_range(request: web.Request, size: int) -> tuple[int, int] | None:
    """The ``[start, stop)`` a ``Range`` header asks for; None for the whole body.

    One range only (what browsers send to seek a video); raises 416 for a range outside
    the body or one that cannot be parsed, as aiohttp's ``FileResponse`` does.
    """
    if "Range" not in request.headers:
        return None
    try:
        asked = request.http_range
    except ValueError:
        asked = None
    if asked is None:
        raise _unsatisfiable(size)
    start, stop = asked.start, asked.stop
    if start is None and stop is None:
        return None
    if start is not None and start < 0:  # "bytes=-N": the last N bytes
        start, stop = max(size + start, 0), size
    start = start or 0
    stop = size if stop is None else min(stop, size)
    if start >= size or start >= stop:
        raise _unsatisfiable(size)
    return start, stop


def _unsatisfiable(size: int) -> web.HTTPRequestRangeNotSatisfiable:
    return web.HTTPRequestRangeNotSatisfiable(
        headers={"Content-Range": f"bytes */{size}"},
        text=f"the range asked for is outside the clip's {size} bytes",
    )


def _ranged(request: web.Request, data: bytes, content_type: str) -> web.Response:
    """``data`` whole (200) or the one byte range asked for (206), seekable by browsers."""
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store"}
    span = _byte_range(request, len(data))
    if span is None:
        return web.Response(body=data, content_type=content_type, headers=headers)
    start, stop = span
    headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(data)}"
    return web.Response(
        body=data[start:stop], status=206, content_type=content_type, headers=headers
    )


class EngineApi:
    """Route handlers bound to one engine."""

    def __init__(self, engine: EngineService) -> None:
        """Serve ``engine``."""
        self.engine = engine

    async def info(self, request: web.Request) -> web.Response:
        return web.json_response(self.engine.info())

    async def health(self, request: web.Request) -> web.Response:
        cameras = list(self.engine.cameras.values())
        online = sum(c.current_status().online for c in cameras)
        health = Health(len(cameras), online, self.engine.cursor())
        return web.json_response(HEALTH.build(health))

    async def cameras(self, request: web.Request) -> web.Response:
        return web.json_response([camera_json(c) for c in self.engine.cameras.values()])

    async def add_camera(self, request: web.Request) -> web.Response:
        runtime = await self.engine.add_camera(_object(await _json_body(request)))
        return web.json_response(camera_json(runtime), status=201)

    async def camera(self, request: web.Request) -> web.Response:
        return web.json_response(camera_json(self.engine.camera(request.match_info["camera_id"])))

    async def patch_camera(self, request: web.Request) -> web.Response:
        patch = _object(await _json_body(request))
        runtime = await self.engine.update_camera(request.match_info["camera_id"], patch)
        return web.json_response(camera_json(runtime))

    async def delete_camera(self, request: web.Request) -> web.Response:
        camera_id = request.match_info["camera_id"]
        await self.engine.remove_camera(camera_id)
        return web.json_response(DELETED.build(camera_id))

    async def camera_snapshot(self, request: web.Request) -> web.Response:
        camera_id = request.match_info["camera_id"]
        annotated = request.query.get("annotated", "0") in ("1", "true", "yes")
        return _jpeg(await self.engine.snapshot(camera_id, annotated=annotated), camera_id)

    async def events(self, request: web.Request) -> web.Response:
        since = _int_query(request, "since", 0, 0, 2**62)
        limit = _int_query(request, "limit", 500, 1, 5000)
        changes = await self.engine.changes_since(since, limit)
        page = EventPage(changes, changes[-1].cursor if changes else max(since, 0))
        return web.json_response(EVENT_PAGE.build(page))

    async def incidents(self, request: web.Request) -> web.Response:
        limit = _int_query(request, "limit", 100, 1, 1000)
        found = await self.engine.incidents_between(
            start=_number_query(request, "start"),
            end=_number_query(request, "end"),
            camera_id=request.query.get("camera_id"),
            rule=request.query.get("rule"),
            limit=limit,
        )
        return web.json_response([EVENT.build(event) for event in found])

    async def event(self, request: web.Request) -> web.Response:
        event = await self.engine.event(request.match_info["event_id"])
        return web.json_response(EVENT.build(event))

    async def event_snapshot(self, request: web.Request) -> web.Response:
        event_id = request.match_info["event_id"]
        return _jpeg(await self.engine.event_snapshot(event_id), event_id)

    async def event_clip(self, request: web.Request) -> web.Response:
        event_id = request.match_info["event_id"]
        clip = _evidence(await self.engine.event_evidence(event_id, "clip"), "clip", event_id)
        return _ranged(request, clip, "video/mp4")

    async def event_strip(self, request: web.Request) -> web.Response:
        event_id = request.match_info["event_id"]
        strip = await self.engine.event_evidence(event_id, "strip")
        return web.Response(
            body=_evidence(strip, "keyframe strip", event_id),
            content_type="image/jpeg",
            headers={"Cache-Control": "private, no-store"},
        )

    async def acknowledge(self, request: web.Request) -> web.Response:
        body = requests.ACKNOWLEDGE(_object(await _json_body(request)))
        change = await self.engine.acknowledge(
            request.match_info["event_id"], body["by"], body["note"]
        )
        return web.json_response(change_json(change))

    async def dismiss(self, request: web.Request) -> web.Response:
        body = requests.DISMISS(_object(await _json_body(request)))
        change = await self.engine.dismiss(
            request.match_info["event_id"], body["by"], body["reason"]
        )
        return web.json_response(change_json(change))

    async def notified(self, request: web.Request) -> web.Response:
        body = requests.NOTIFIED(_object(await _json_body(request)))
        change = await self.engine.record_notified(
            request.match_info["event_id"], body["recipients"], body["channel"], body["by"]
        )
        return web.json_response(change_json(change))

    async def actions(self, request: web.Request) -> web.Response:
        body = requests.ACTION(_object(await _json_body(request)))
        change = await self.engine.record_action(request.match_info["event_id"], body)
        return web.json_response(change_json(change))

    async def report_summary(self, request: web.Request) -> web.Response:
        days = _int_query(request, "days", 30, 1, 366)
        return web.json_response(SUMMARY.build(await self.engine.report_summary(days)))

    async def report_html(self, request: web.Request) -> web.Response:
        days = _int_query(request, "days", 30, 1, 366)
        page = await self.engine.report_html(days)
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def get_mode(self, request: web.Request) -> web.Response:
        return web.json_response(MODE.build(self.engine.mode))

    async def put_mode(self, request: web.Request) -> web.Response:
        body = requests.MODE(_object(await _json_body(request)))
        return web.json_response(MODE.build(self.engine.set_mode(body["mode"], body["drill"])))

    async def test_alert(self, request: web.Request) -> web.Response:
        body = requests.TEST_ALERT(_object(await _json_body(request)))
        change = await self.engine.test_alert(
            body["camera_id"], body["rule"], seconds=body["seconds"]
        )
        return web.json_response(change_json(change), status=201)

    async def onvif_discover(self, request: web.Request) -> web.Response:
        body = _object(await _json_body(request))
        found = await discover_cameras(body, self.engine.limits.networks)
        return web.json_response([DISCOVERED.build(camera) for camera in found])

    async def onvif_probe(self, request: web.Request) -> web.Response:
        body = _object(await _json_body(request))
        return web.json_response(PROBE.build(await probe_camera(body, self.engine.limits.networks)))

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
            # The first missed changes are read before anything is sent, so the states
            # and the changes that led to them reach the client back to back.
            missed = await engine.changes_since(since, 500)
            await ws.send_json(hello_message(engine.id, engine.cursor()))
            await ws.send_json(mode_message(engine.mode, engine.cursor()))
            for runtime in list(engine.cameras.values()):
                await ws.send_json(camera_message(runtime, engine.cursor()))
            sent = since
            while True:
                for change in missed:
                    await ws.send_json(event_message(change))
                    sent = change.cursor
                if len(missed) < 500:
                    break
                missed = await engine.changes_since(sent, 500)
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


def create_app(engine: EngineService, token: str) -> web.Application:
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
    routes = [web.route(op.method, PREFIX + op.path, getattr(api, op.name)) for op in OPERATIONS]
    routes.append(web.get(f"{PREFIX}/ws", api.websocket))
    app.add_routes(routes)
    return app
