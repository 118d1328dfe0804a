"""Typed async client of the school_guard engine API (docs/engine-api.md).

The integration talks to the engine only through this module. It has no Home Assistant
import so that its behaviour is decided by the engine's documented contract alone; the
caller injects the aiohttp session (Home Assistant's shared one).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, cast

import aiohttp

API_PREFIX = "/api/v1"
RECONNECT_DELAYS: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Growing back-off between WebSocket reconnects so a dead engine is not hammered."""

# Each model below names the engine's fields it reads and, in ``UNUSED``, those it leaves
# out on purpose. The contract test (tests/detectors/protocol/test_protocol_contract.py)
# holds both lists to the engine's published shapes: a field the engine adds, or one this
# client reads that the engine no longer sends, fails there rather than in a school.


class SchoolGuardError(Exception):
    """Base of every error this client raises."""


class SchoolGuardConnectionError(SchoolGuardError):
    """The engine could not be reached, or answered with something that is not the API."""


class SchoolGuardAuthError(SchoolGuardError):
    """The engine refused the bearer token (401)."""


class SchoolGuardApiError(SchoolGuardError):
    """The engine answered with a documented error (4xx/5xx with a code)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep the engine's error code so callers can tell ``conflict`` from ``invalid``."""
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """``GET /info``: who the engine is."""

    engine_id: str
    name: str
    version: str
    rules: tuple[str, ...]
    """The rules the engine runs: one binary sensor, event type and trigger each."""
    response_modes: tuple[str, ...]
    models: Mapping[str, str | None] = field(default_factory=dict)
    """Model name per role (``detector``, ``pose``, ``weapon``); None when none is loaded."""
    inference_device: str | None = None
    """The OpenVINO device the engine runs its models on (``CPU``, ``GPU``, ``NPU``...)."""
    available_devices: tuple[str, ...] = ()
    default_rules: tuple[str, ...] = ()
    """The rules the engine suggests for a new camera (those that need no zones)."""

    UNUSED: ClassVar[frozenset[str]] = frozenset({"started_at", "decoders", "models_skipped"})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EngineInfo:
        """Build from the API's JSON."""
        models = cast("Mapping[str, Any]", data.get("models") or {})
        inference = cast("Mapping[str, Any]", data.get("inference") or {})
        device = inference.get("device")
        return cls(
            engine_id=str(data["engine_id"]),
            name=str(data["name"]),
            version=str(data["version"]),
            rules=tuple(str(r) for r in data.get("rules", ())),
            response_modes=tuple(str(m) for m in data.get("response_modes", ())),
            models={
                str(role): str(model["name"]) if isinstance(model, Mapping) else None
                for role, model in models.items()
            },
            inference_device=None if device is None else str(device),
            available_devices=tuple(str(d) for d in inference.get("available_devices") or ()),
            default_rules=tuple(str(r) for r in data.get("default_rules", ())),
        )


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """An alert open on a camera now, as the camera's pushed state carries it.

    It lets Home Assistant know the open alerts after its own restart, when the push feed
    only replays what changes from then on.
    """

    event_id: str
    rule: str
    confidence: float
    drill: bool
    started_at: float

    UNUSED: ClassVar[frozenset[str]] = frozenset({"zone"})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OpenAlert:
        """Build from one item of the camera's ``open_alerts``."""
        return cls(
            event_id=str(data["event_id"]),
            rule=str(data["rule"]),
            confidence=float(data.get("confidence", 0.0)),
            drill=bool(data.get("drill", False)),
            started_at=float(data.get("started_at", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class CameraState:
    """One camera's configuration summary and live state (``GET /cameras``)."""

    camera_id: str
    name: str
    location: str
    online: bool
    reason: str | None
    person_count: int
    motion: bool
    rules_active: Mapping[str, bool] = field(default_factory=dict)
    enabled: bool = True
    """Whether detection is switched on (off: the engine does not read the camera)."""
    inference_ms: float | None = None
    """Mean inference time per analysed frame; None until the camera's worker runs."""
    open_alerts: tuple[OpenAlert, ...] = ()
    reason_code: str | None = None
    """Why the camera is offline, as the engine's code (``reason`` is the same in words)."""

    UNUSED: ClassVar[frozenset[str]] = frozenset(
        {
            # the configuration half: Home Assistant shows the camera, it does not edit it
            *("source", "detect_fps", "timeout_seconds", "decode", "zones", "lines", "masks"),
            "rules",
            "origin",
            "streams",
            *(f"status.{key}" for key in ("fps", "analysed_fps", "last_frame_at")),
            *(f"stats.{key}" for key in ("frames_in", "analysed", "skipped_motion", "dropped")),
            *(f"stats.{key}" for key in ("decode_errors", "reconnects", "slots", "missed_slots")),
            *(f"open_alerts[].{key}" for key in OpenAlert.UNUSED),
        }
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CameraState:
        """Build from the API's JSON."""
        status = cast("Mapping[str, Any]", data.get("status") or {})
        rules = cast("Mapping[str, Any]", data.get("rules_active") or {})
        stats = cast("Mapping[str, Any]", data.get("stats") or {})
        inference_ms = stats.get("inference_ms")
        reason = status.get("reason")
        reason_code = status.get("reason_code")
        return cls(
            camera_id=str(data["id"]),
            name=str(data.get("name") or data["id"]),
            location=str(data.get("location") or ""),
            online=bool(status.get("online", False)),
            reason=None if reason is None else str(reason),
            person_count=int(data.get("person_count", 0)),
            motion=bool(data.get("motion", False)),
            rules_active={str(k): bool(v) for k, v in rules.items()},
            enabled=bool(data.get("enabled", True)),
            inference_ms=None if inference_ms is None else float(inference_ms),
            open_alerts=tuple(
                OpenAlert.from_json(item)
                for item in cast("list[Mapping[str, Any]]", data.get("open_alerts") or [])
            ),
            reason_code=None if reason_code is None else str(reason_code),
        )


@dataclass(frozen=True, slots=True)
class OnvifCamera:
    """A camera that answered the engine's WS-Discovery probe (``POST /onvif/discover``)."""

    endpoint: str
    host: str
    port: int
    name: str | None
    location: str | None
    hardware: str | None

    UNUSED: ClassVar[frozenset[str]] = frozenset({"xaddrs", "scopes"})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OnvifCamera | None:
        """Build from the API's JSON; None for an answer without a usable address."""
        host, port = data.get("host"), data.get("port")
        if not host or port is None:
            return None

        def text(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        return cls(
            endpoint=str(data.get("endpoint") or f"{host}:{port}"),
            host=str(host),
            port=int(port),
            name=text("name"),
            location=text("location"),
            hardware=text("hardware"),
        )


@dataclass(frozen=True, slots=True)
class OnvifProbe:
    """What the engine learned from a camera (``POST /onvif/probe``), credentials excluded."""

    host: str
    port: int
    manufacturer: str
    model: str
    profiles: int
    width: int
    height: int
    clock_offset_s: float | None

    UNUSED: ClassVar[frozenset[str]] = frozenset(
        {
            *(f"device.{key}" for key in ("firmware_version", "serial_number", "hardware_id")),
            "services",
            *(f"profiles[].{key}" for key in ("token", "name", "codec", "fps", "stream_uri")),
            "profiles[].snapshot_uri",
            "time_adjusted",
            "snapshot_uri",
        }
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OnvifProbe:
        """Build from the API's JSON; width/height are those of the largest readable profile."""
        device = cast("Mapping[str, Any]", data.get("device") or {})
        profiles = cast("list[Mapping[str, Any]]", data.get("profiles") or [])
        readable = [p for p in profiles if p.get("stream_kind")]
        best = max(readable, key=lambda p: int(p["width"]) * int(p["height"]), default=None)
        offset = data.get("clock_offset_s")
        return cls(
            host=str(data["host"]),
            port=int(data["port"]),
            manufacturer=str(device.get("manufacturer") or ""),
            model=str(device.get("model") or ""),
            profiles=len(profiles),
            width=0 if best is None else int(best["width"]),
            height=0 if best is None else int(best["height"]),
            clock_offset_s=None if offset is None else float(offset),
        )


@dataclass(frozen=True, slots=True)
class ModeState:
    """The school's response mode (Standard Response Protocol) and its drill flag."""

    mode: str
    drill: bool
    changed_at: float | None

    UNUSED: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModeState:
        """Build from the API's JSON."""
        changed_at = data.get("changed_at")
        return cls(
            mode=str(data["mode"]),
            drill=bool(data.get("drill", False)),
            changed_at=None if changed_at is None else float(changed_at),
        )


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """The part of an incident-log event the integration shows."""

    event_id: str
    camera_id: str
    camera_name: str
    location: str
    rule: str
    state: str
    confidence: float
    drill: bool
    acknowledged: bool
    dismissed: bool
    started_at: float = 0.0
    """When the alert started (engine clock, Unix seconds)."""

    UNUSED: ClassVar[frozenset[str]] = frozenset(
        {
            *("zone", "updated_at", "ended_at", "end_reason", "scores", "boxes", "model"),
            *("thresholds", "acknowledged_by", "acknowledged_at", "acknowledged_note"),
            *("dismissed_by", "dismissed_at", "dismissed_reason", "snapshot", "notified"),
            "detail",
        }
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlertEvent:
        """Build from the API's JSON."""
        return cls(
            event_id=str(data["id"]),
            camera_id=str(data["camera_id"]),
            camera_name=str(data.get("camera_name") or data["camera_id"]),
            location=str(data.get("location") or ""),
            rule=str(data["rule"]),
            state=str(data["state"]),
            confidence=float(data.get("confidence", 0.0)),
            drill=bool(data.get("drill", False)),
            acknowledged=bool(data.get("acknowledged", False)),
            dismissed=bool(data.get("dismissed", False)),
            started_at=float(data.get("started_at") or 0.0),
        )


@dataclass(frozen=True, slots=True)
class EventChange:
    """One step of an alert's lifecycle, with the incident log's cursor."""

    cursor: int
    change: str
    at: float
    event: AlertEvent

    UNUSED: ClassVar[frozenset[str]] = frozenset(
        {"event_id", *(f"event.{key}" for key in AlertEvent.UNUSED)}
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EventChange:
        """Build from the API's JSON (a change, or a WebSocket ``event`` message)."""
        return cls(
            cursor=int(data["cursor"]),
            change=str(data["change"]),
            at=float(data["at"]),
            event=AlertEvent.from_json(cast("Mapping[str, Any]", data["event"])),
        )


@dataclass(frozen=True, slots=True)
class EventPage:
    """``GET /events?since=``: changes after a cursor, and the cursor to ask from next."""

    changes: tuple[EventChange, ...]
    cursor: int

    UNUSED: ClassVar[frozenset[str]] = frozenset(f"changes[].{key}" for key in EventChange.UNUSED)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EventPage:
        """Build from the API's JSON."""
        return cls(
            changes=tuple(EventChange.from_json(c) for c in data["changes"]),
            cursor=int(data["cursor"]),
        )


@dataclass(frozen=True, slots=True)
class Hello:
    """First WebSocket message: the engine's id and newest cursor."""

    engine_id: str
    cursor: int


@dataclass(frozen=True, slots=True)
class CameraRemoved:
    """A camera was deleted from the engine."""

    camera_id: str


type PushMessage = Hello | ModeState | CameraState | EventChange | CameraRemoved


def health_cursor(data: Mapping[str, Any]) -> int:
    """The newest event cursor of a ``GET /health`` answer."""
    return int(data["cursor"])


HEALTH_UNUSED: Final = frozenset({"status", "cameras", "cameras_online"})
STATE_MESSAGE_UNUSED: Final = frozenset({"cursor"})
"""A state message's cursor: state is resent whole on connect, so only event cursors matter."""
DELETED_UNUSED: Final = frozenset({"deleted"})
"""``DELETE /cameras/{id}`` answers the id it deleted; the caller knows it already."""


def parse_push_message(data: Mapping[str, Any]) -> PushMessage | None:
    """Turn one WebSocket message into its typed form; unknown types are ignored (None)."""
    kind = data.get("type")
    if kind == "hello":
        return Hello(engine_id=str(data["engine_id"]), cursor=int(data["cursor"]))
    if kind == "mode":
        return ModeState.from_json(data)
    if kind == "camera":
        return CameraState.from_json(cast("Mapping[str, Any]", data["camera"]))
    if kind == "event":
        return EventChange.from_json(data)
    if kind == "camera_removed":
        return CameraRemoved(camera_id=str(data["camera_id"]))
    return None


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

    async def event(self, event_id: str) -> AlertEvent:
        """``GET /events/{id}`` (404 ``not_found`` when this engine never had it)."""
        return AlertEvent.from_json(await self._json("GET", f"/events/{event_id}"))

    async def event_snapshot(self, event_id: str) -> bytes:
        """The event's best snapshot as JPEG (404 when the alert has none)."""
        return await self._request("GET", f"/events/{event_id}/snapshot.jpg")

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


def error_fields(data: Mapping[str, Any]) -> tuple[str, str]:
    """The code and message of an ``{"error": {"code", "message"}}`` answer."""
    error = data["error"]
    return str(error["code"]), str(error["message"])


def _error_fields(payload: bytes) -> tuple[str, str]:
    """The error answer's code and message, or a generic code if it is not one."""
    try:
        return error_fields(json.loads(payload))
    except (ValueError, KeyError, TypeError):
        return "unknown", payload[:200].decode("utf-8", "replace")


class PushListener:
    """Keeps the WebSocket open, reconnecting with back-off and resuming from a cursor.

    ``cursor`` is the last *event* cursor handed to ``on_message``; after a reconnect the
    engine replays exactly the event changes after it, so no alert is lost or repeated.
    """

    def __init__(
        self,
        client: SchoolGuardClient,
        on_message: Callable[[PushMessage], None],
        on_disconnect: Callable[[], None],
        *,
        cursor: int,
        reconnect_delays: Sequence[float] = RECONNECT_DELAYS,
    ) -> None:
        """Deliver messages to ``on_message``; call ``on_disconnect`` when the link drops."""
        self._client = client
        self._on_message = on_message
        self._on_disconnect = on_disconnect
        self.cursor = cursor
        self._delays = tuple(reconnect_delays)

    async def run(self) -> None:
        """Listen until cancelled; only a refused token ends it (raises SchoolGuardAuthError)."""
        failures = 0
        while True:
            try:
                ws = await self._client.ws_connect(self.cursor)
            except SchoolGuardConnectionError:
                delay = self._delays[min(failures, len(self._delays) - 1)]
                failures += 1
                await asyncio.sleep(delay)
                continue
            failures = 0
            try:
                await self._read(ws)
            finally:
                await ws.close()
                self._on_disconnect()
            # An engine that is shutting down closes the socket cleanly; wait before
            # asking again rather than spinning against it.
            await asyncio.sleep(self._delays[0])

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            try:
                message = parse_push_message(json.loads(frame.data))
            except (ValueError, KeyError, TypeError):
                continue
            if message is None:
                continue
            if isinstance(message, EventChange):
                if message.cursor <= self.cursor:
                    continue
                self.cursor = message.cursor
            self._on_message(message)
