"""The engine API's operations and its OpenAPI 3.1 document, generated from the shapes.

:data:`OPERATIONS` is the one list of routes: the API serves exactly these (each by the
handler of the same name) and the document describes exactly these, with the request
schemas the API validates with and the response schemas of the JSON it sends. The fuzz
tests drive every operation listed here and check every answer against its schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from detectors import __version__
from detectors.config_schema import CAMERA_FIELDS, schema_of
from detectors.protocol import requests
from detectors.protocol.cameras import CAMERA_SCHEMA
from detectors.protocol.engine import DELETED, ERROR, HEALTH, INFO, MODE
from detectors.protocol.events import CHANGE, EVENT, EVENT_PAGE
from detectors.protocol.messages import MESSAGE_SCHEMA
from detectors.protocol.onvif import DISCOVERED, PROBE
from detectors.protocol.report import SUMMARY
from detectors.protocol.schema import ANY_OBJECT, JsonSchema, array

PREFIX: Final = "/api/v1"
JPEG: Final[JsonSchema] = {"x-jpeg": True}
"""Marks an answer that is a JPEG image, not JSON."""
MP4: Final[JsonSchema] = {"x-mp4": True}
"""Marks an answer that is an MP4 video served with byte ranges (206, 416), not JSON."""
HTML: Final[JsonSchema] = {"x-html": True}
"""Marks an answer that is an HTML page, not JSON."""

_CAMERA_ID = {"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"}
_EVENT_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}


@dataclass(frozen=True, slots=True)
class Operation:
    """One route: method, path (under :data:`PREFIX`), what it takes and answers.

    ``name`` is the API handler's name and the OpenAPI ``operationId``.
    """

    name: str
    method: str
    path: str
    summary: str
    answer: JsonSchema
    status: int = 200
    body: JsonSchema | None = None
    query: dict[str, JsonSchema] = field(default_factory=dict)
    errors: tuple[int, ...] = (400, 401, 404, 409)


LIMITED: Final = (400, 401, 403, 404, 409)
"""The answers of an operation that names something for the engine to open (a camera's
source): 403 for a host outside the camera networks or a file outside the media folder."""
ONVIF_ERRORS: Final = (*LIMITED, 422)
"""An operation that contacts a camera: also 422, the camera cannot be used."""


def _ref(name: str) -> JsonSchema:
    return {"$ref": f"#/components/schemas/{name}"}


def _write_only_password() -> dict[str, JsonSchema]:
    properties: dict[str, JsonSchema] = dict(schema_of(requests.ONVIF_PROBE)["properties"])
    properties["password"] = properties["password"] | {"writeOnly": True}
    return properties


OPERATIONS: Final = (
    Operation(
        "info", "GET", "/info", "Engine id, name, version, devices, models, codes", _ref("Info")
    ),
    Operation("health", "GET", "/health", "Liveness, camera counts, newest cursor", _ref("Health")),
    Operation("cameras", "GET", "/cameras", "Every camera with its status", array(_ref("Camera"))),
    Operation(
        "add_camera",
        "POST",
        "/cameras",
        "Add a camera (the configuration file's camera shape)",
        _ref("Camera"),
        status=201,
        body=CAMERA_FIELDS.json_schema(),
        errors=LIMITED,
    ),
    Operation("camera", "GET", "/cameras/{camera_id}", "One camera", _ref("Camera")),
    Operation(
        "patch_camera",
        "PATCH",
        "/cameras/{camera_id}",
        "Change a camera (cameras from the configuration file: only enabled)",
        _ref("Camera"),
        body=CAMERA_FIELDS.json_schema(partial=True),
        errors=LIMITED,
    ),
    Operation(
        "delete_camera",
        "DELETE",
        "/cameras/{camera_id}",
        "Remove a camera added through the API",
        _ref("Deleted"),
    ),
    Operation(
        "camera_snapshot",
        "GET",
        "/cameras/{camera_id}/snapshot.jpg",
        "Newest frame (annotated=1 draws the last detections)",
        JPEG,
        query={"annotated": {"enum": ["0", "1"]}},
    ),
    Operation(
        "events",
        "GET",
        "/events",
        "Event changes after a cursor, oldest first",
        _ref("EventPage"),
        query={
            "since": {"type": "integer", "minimum": 0, "maximum": 2**62},
            "limit": {"type": "integer", "minimum": 1, "maximum": 5000},
        },
    ),
    Operation(
        "incidents",
        "GET",
        "/incidents",
        "Events that started in [start, end), newest first, by camera and rule (a review)",
        array(_ref("Event")),
        query={
            "camera_id": _CAMERA_ID,
            "rule": {"type": "string", "maxLength": 64},
            "start": {"type": "number"},
            "end": {"type": "number"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        },
    ),
    Operation("event", "GET", "/events/{event_id}", "One event", _ref("Event")),
    Operation(
        "event_snapshot",
        "GET",
        "/events/{event_id}/snapshot.jpg",
        "The event's best snapshot",
        JPEG,
    ),
    Operation(
        "event_clip",
        "GET",
        "/events/{event_id}/clip.mp4",
        "The alert's clip (H.264 MP4, pre-roll to post-roll; Range requests answer 206)",
        MP4,
        errors=(400, 401, 404, 416),
    ),
    Operation(
        "event_strip",
        "GET",
        "/events/{event_id}/strip.jpg",
        "The alert's keyframe strip: the frames that confirmed it, with score and time",
        JPEG,
    ),
    Operation(
        "acknowledge",
        "POST",
        "/events/{event_id}/acknowledge",
        "Acknowledge an alert",
        _ref("EventChange"),
        body=schema_of(requests.ACKNOWLEDGE),
    ),
    Operation(
        "dismiss",
        "POST",
        "/events/{event_id}/dismiss",
        "Dismiss an alert as false",
        _ref("EventChange"),
        body=schema_of(requests.DISMISS),
    ),
    Operation(
        "notified",
        "POST",
        "/events/{event_id}/notified",
        "Record who was told about an alert",
        _ref("EventChange"),
        body=schema_of(requests.NOTIFIED),
    ),
    Operation(
        "actions",
        "POST",
        "/events/{event_id}/actions",
        "Record a response step (doors locked, PA played...); the same step_id records once",
        _ref("EventChange"),
        body=schema_of(requests.ACTION),
    ),
    Operation(
        "report_summary",
        "GET",
        "/report/summary",
        "After-action numbers of the last days (real and drill apart)",
        _ref("ReportSummary"),
        query={"days": {"type": "integer", "minimum": 1, "maximum": 366}},
        errors=(400, 401),
    ),
    Operation(
        "report_html",
        "GET",
        "/report.html",
        "The after-action report of the last days as a self-contained HTML page",
        HTML,
        query={"days": {"type": "integer", "minimum": 1, "maximum": 366}},
        errors=(400, 401),
    ),
    Operation("get_mode", "GET", "/mode", "Response mode", _ref("Mode")),
    Operation(
        "put_mode",
        "PUT",
        "/mode",
        "Set the response mode",
        _ref("Mode"),
        body=schema_of(requests.MODE),
    ),
    Operation(
        "test_alert",
        "POST",
        "/test_alert",
        "Raise a drill alert",
        _ref("EventChange"),
        status=201,
        body=schema_of(requests.TEST_ALERT),
    ),
    Operation(
        "onvif_discover",
        "POST",
        "/onvif/discover",
        "WS-Discovery probe (multicast and unicast targets)",
        array(_ref("DiscoveredCamera")),
        body=schema_of(requests.ONVIF_DISCOVER),
        errors=ONVIF_ERRORS,
    ),
    Operation(
        "onvif_probe",
        "POST",
        "/onvif/probe",
        "Probe one ONVIF camera",
        _ref("OnvifProbe"),
        body=schema_of(requests.ONVIF_PROBE) | {"properties": _write_only_password()},
        errors=ONVIF_ERRORS,
    ),
    Operation("openapi", "GET", "/openapi.json", "This document", ANY_OBJECT),
)

COMPONENTS: Final[dict[str, JsonSchema]] = {
    "Info": INFO.schema,
    "Health": HEALTH.schema,
    "Camera": CAMERA_SCHEMA,
    "Deleted": DELETED.schema,
    "Event": EVENT.schema,
    "EventChange": CHANGE.schema,
    "EventPage": EVENT_PAGE.schema,
    "Mode": MODE.schema,
    "ReportSummary": SUMMARY.schema,
    "DiscoveredCamera": DISCOVERED.schema,
    "OnvifProbe": PROBE.schema,
    "Error": ERROR.schema,
    "WebSocketMessage": MESSAGE_SCHEMA,
}

_ERROR_TEXT: Final = {
    400: "Invalid input",
    401: "Missing or wrong token",
    404: "Not found",
    403: "Not allowed: a host outside security.camera_networks (host_not_allowed) or a file"
    " outside security.media_folder (source_not_allowed)",
    409: "Conflict",
    416: "The Range asks for bytes the clip does not have",
    422: "The camera cannot be used (the code says why)",
}


def _json(schema: JsonSchema) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _operation(op: Operation) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "OK"}
    if op.answer is JPEG:
        ok["content"] = {"image/jpeg": {}}
    elif op.answer is MP4:
        ok["content"] = {"video/mp4": {}}
        ok["headers"] = {"Accept-Ranges": {"schema": {"type": "string", "enum": ["bytes"]}}}
    elif op.answer is HTML:
        ok["content"] = {"text/html": {"schema": {"type": "string"}}}
    else:
        ok |= _json(op.answer)
    responses: dict[str, Any] = {str(op.status): ok}
    if op.answer is MP4:
        responses["206"] = {"description": "The byte range asked for", "content": {"video/mp4": {}}}
    for status in op.errors:
        responses[str(status)] = {"description": _ERROR_TEXT[status], **_json(_ref("Error"))}
    document: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "responses": responses,
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in (("camera_id", _CAMERA_ID), ("event_id", _EVENT_ID))
        if f"{{{name}}}" in op.path
    ]
    parameters += [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in op.query.items()
    ]
    if parameters:
        document["parameters"] = parameters
    if op.body is not None:
        document["requestBody"] = {"required": True, **_json(op.body)}
    return document


def openapi_document(server: str) -> dict[str, Any]:
    """The document, with ``server`` (the URL it was fetched from) as its server."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(PREFIX + op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "school_guard engine API", "version": __version__},
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": COMPONENTS,
        },
        "paths": paths,
    }
