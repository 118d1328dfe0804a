"""Typed async client of the engine's REST API and WebSocket (docs/engine-api.md).

It has no Home Assistant import, so its behaviour is decided by the engine's documented
contract alone; the caller injects the aiohttp session (Home Assistant's shared one).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final, Literal

import aiohttp

from .exceptions import (
    SchoolGuardApiError,
    SchoolGuardAuthError,
    SchoolGuardConnectionError,
)
from .models import (
    AlertEvent,
    CameraState,
    EngineInfo,
    EventChange,
    EventPage,
    ModeState,
    OnvifCamera,
    OnvifProbe,
    ReportSummary,
    error_fields,
    health_cursor,
)

API_PREFIX = "/api/v1"

type EvidenceFile = Literal["clip.mp4", "strip.jpg"]
"""An alert's clip (MP4, byte ranges) or keyframe strip (JPEG)."""
EVIDENCE_FILES: Final[tuple[EvidenceFile, ...]] = ("clip.mp4", "strip.jpg")


class SchoolGuardClient:
    """REST calls and the WebSocket of one engine, on a session owned by the caller."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        token: str,
        *,
        request_timeout: float = 10.0,
    ) -> None:
        """Address one engine; the token goes into every request's Authorization header."""
        self._session = session
        self.host = host
        self.port = port
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)

    @property
    def base_url(self) -> str:
        """The API's root URL, e.g. ``http://127.0.0.1:8765/api/v1``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{API_PREFIX}"

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def event_snapshot_url(self, event_id: str) -> str:
        """Where an event's best snapshot is served (needs the bearer token)."""
        return f"{self.base_url}/events/{event_id}/snapshot.jpg"

    @asynccontextmanager
    async def evidence(
        self, event_id: str, name: EvidenceFile, *, byte_range: str | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The engine's answer for an event's clip or strip, to stream on (not read whole).

        ``byte_range`` is passed on as the ``Range`` header, so a browser seeking a clip
        gets the engine's 206 (or 416, handed back as it is); any other error answer
        raises like every call.
        """
        headers = self._headers | ({"Range": byte_range} if byte_range else {})
        path = f"/events/{event_id}/{name}"
        try:
            async with self._session.get(
                self.base_url + path,
                headers=headers,
                timeout=aiohttp.ClientTimeout(sock_connect=10.0, sock_read=30.0),
            ) as response:
                if response.status == 401:
                    raise SchoolGuardAuthError("the engine refused the token")
                if response.status >= 400 and response.status != 416:
                    code, message = _error_fields(await response.read())
                    raise SchoolGuardApiError(response.status, code, message)
                yield response
        except (TimeoutError, aiohttp.ClientError) as err:
            reason = str(err) or type(err).__name__
            raise SchoolGuardConnectionError(f"GET {path}: {reason}") from err

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        params: Mapping[str, str] | None = None,
    ) -> bytes:
        """Send one request; map transport failures and error answers to our exceptions."""
        try:
            async with self._session.request(
                method,
                self.base_url + path,
                headers=self._headers,
                json=body,
                params=params,
                timeout=self._timeout,
            ) as response:
                payload = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as err:
            reason = str(err) or type(err).__name__
            raise SchoolGuardConnectionError(f"{method} {path}: {reason}") from err
        if status == 401:
            raise SchoolGuardAuthError("the engine refused the token")
        if status >= 400:
            code, message = _error_fields(payload)
            raise SchoolGuardApiError(status, code, message)
        return payload

    async def _json(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """The engine's JSON answer; the public methods turn it into typed values."""
        payload = await self._request(method, path, body=body, params=params)
        try:
            return json.loads(payload)
        except ValueError as err:
            raise SchoolGuardConnectionError(f"{method} {path}: the answer is not JSON") from err

    async def info(self) -> EngineInfo:
        """``GET /info``."""
        return EngineInfo.from_json(await self._json("GET", "/info"))

    async def raw(self, path: str) -> Any:
        """``GET`` an API path's JSON exactly as the engine sent it (for diagnostics)."""
        return await self._json("GET", path)

    async def health_cursor(self) -> int:
        """The newest event cursor (``GET /health``): where a new listener starts."""
        return health_cursor(await self._json("GET", "/health"))

    async def cameras(self) -> list[CameraState]:
        """``GET /cameras``."""
        return [CameraState.from_json(c) for c in await self._json("GET", "/cameras")]

    async def events(self, since: int = 0) -> EventPage:
        """``GET /events?since=``: what changed after ``since``."""
        return EventPage.from_json(await self._json("GET", "/events", params={"since": str(since)}))

    async def acknowledge(self, event_id: str, by: str, note: str = "") -> EventChange:
        """A person saw the alert and is handling it."""
        body = {"by": by, "note": note}
        return EventChange.from_json(
            await self._json("POST", f"/events/{event_id}/acknowledge", body=body)
        )

    async def dismiss(self, event_id: str, by: str, reason: str = "") -> EventChange:
        """A person judged the alert false; the engine tells every client."""
        body = {"by": by, "reason": reason}
        return EventChange.from_json(
            await self._json("POST", f"/events/{event_id}/dismiss", body=body)
        )

    async def notified(
        self, event_id: str, recipients: list[str], channel: str, by: str
    ) -> EventChange:
        """Record in the engine's incident log who was told about the alert."""
        body = {"recipients": recipients, "channel": channel, "by": by}
        return EventChange.from_json(
            await self._json("POST", f"/events/{event_id}/notified", body=body)
        )

    async def record_step(self, event_id: str, step: Mapping[str, object]) -> EventChange:
        """Put a response step on the alert's timeline (``step_id`` makes a retry harmless)."""
        return EventChange.from_json(
            await self._json("POST", f"/events/{event_id}/actions", body=dict(step))
        )

    async def report_summary(self, days: int = 30) -> ReportSummary:
        """The after-action numbers of the last ``days`` days (real and drill apart)."""
        data = await self._json("GET", "/report/summary", params={"days": str(days)})
        return ReportSummary.from_json(data)

    async def report_html(self, days: int = 30) -> bytes:
        """The after-action report of the last ``days`` days, a self-contained HTML page."""
        return await self._request("GET", "/report.html", params={"days": str(days)})

    async def event(self, event_id: str) -> AlertEvent:
        """``GET /events/{id}`` (404 ``not_found`` when this engine never had it)."""
        return AlertEvent.from_json(await self._json("GET", f"/events/{event_id}"))

    async def event_snapshot(self, event_id: str) -> bytes:
        """The event's best snapshot as JPEG (404 when the alert has none)."""
        return await self._request("GET", f"/events/{event_id}/snapshot.jpg")

    async def incidents(
        self,
        *,
        camera_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        limit: int = 1000,
    ) -> list[AlertEvent]:
        """``GET /incidents``: events that started in ``[start, end)``, newest first."""
        params = {"limit": str(limit)}
        for key, value in (("camera_id", camera_id), ("start", start), ("end", end)):
            if value is not None:
                params[key] = str(value)
        answer = await self._json("GET", "/incidents", params=params)
        return [AlertEvent.from_json(event) for event in answer]

    async def event_strip(self, event_id: str) -> bytes:
        """The event's keyframe strip as JPEG (404 until the engine has written it)."""
        return await self._request("GET", f"/events/{event_id}/strip.jpg")

    async def patch_camera(self, camera_id: str, patch: Mapping[str, object]) -> CameraState:
        """``PATCH /cameras/{id}``; config-file cameras accept only ``{"enabled": bool}``."""
        return CameraState.from_json(
            await self._json("PATCH", f"/cameras/{camera_id}", body=dict(patch))
        )

    async def mode(self) -> ModeState:
        """``GET /mode``."""
        return ModeState.from_json(await self._json("GET", "/mode"))

    async def set_mode(self, mode: str, *, drill: bool = False) -> ModeState:
        """``PUT /mode``."""
        body = {"mode": mode, "drill": drill}
        return ModeState.from_json(await self._json("PUT", "/mode", body=body))

    async def test_alert(self, camera_id: str, rule: str, *, seconds: float = 10.0) -> EventChange:
        """Start a drill alert (always marked as a drill) that ends after ``seconds``."""
        body = {"camera_id": camera_id, "rule": rule, "seconds": seconds}
        return EventChange.from_json(await self._json("POST", "/test_alert", body=body))

    async def snapshot(self, camera_id: str, *, annotated: bool = False) -> bytes:
        """The camera's latest frame as JPEG."""
        params = {"annotated": "1"} if annotated else None
        return await self._request("GET", f"/cameras/{camera_id}/snapshot.jpg", params=params)

    async def onvif_discover(self, body: Mapping[str, object]) -> list[OnvifCamera]:
        """``POST /onvif/discover``: cameras that answered WS-Discovery near the engine."""
        found = await self._json("POST", "/onvif/discover", body=dict(body))
        cameras = (OnvifCamera.from_json(c) for c in found)
        return [camera for camera in cameras if camera is not None]

    async def onvif_probe(self, host: str, port: int, username: str, password: str) -> OnvifProbe:
        """``POST /onvif/probe``; a camera failure is a 422 whose code names the cause."""
        body = {"host": host, "port": port, "username": username, "password": password}
        return OnvifProbe.from_json(await self._json("POST", "/onvif/probe", body=body))

    async def add_camera(self, camera: Mapping[str, object]) -> CameraState:
        """``POST /cameras``: the engine stores the camera (with its credentials) and starts it."""
        return CameraState.from_json(await self._json("POST", "/cameras", body=dict(camera)))

    async def delete_camera(self, camera_id: str) -> None:
        """``DELETE /cameras/{id}`` (only cameras added through the API can be deleted)."""
        await self._request("DELETE", f"/cameras/{camera_id}")

    async def ws_connect(self, since: int) -> aiohttp.ClientWebSocketResponse:
        """Open the push WebSocket, replaying event changes after ``since``."""
        try:
            return await self._session.ws_connect(
                f"{self.base_url}/ws",
                params={"since": str(since)},
                headers=self._headers,
                heartbeat=30,
                timeout=aiohttp.ClientWSTimeout(ws_close=10),
            )
        except aiohttp.WSServerHandshakeError as err:
            if err.status == 401:
                raise SchoolGuardAuthError("the engine refused the token") from err
            raise SchoolGuardConnectionError(f"WebSocket refused: {err.status}") from err
        except (TimeoutError, aiohttp.ClientError) as err:
            reason = str(err) or type(err).__name__
            raise SchoolGuardConnectionError(f"WebSocket: {reason}") from err


def _error_fields(payload: bytes) -> tuple[str, str]:
    """The error answer's code and message, or a generic code if it is not one."""
    try:
        return error_fields(json.loads(payload))
    except (ValueError, KeyError, TypeError):
        return "unknown", payload[:200].decode("utf-8", "replace")
