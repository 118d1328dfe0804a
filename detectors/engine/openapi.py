"""The OpenAPI 3.1 document of the engine API, written by hand to match api.py.

Kept beside the routes so a change to one shows in review next to the other; the fuzz
tests drive every operation listed here, so a route missing from the document is a route
the fuzzer never checks.
"""

from __future__ import annotations

from typing import Any

from detectors import __version__
from detectors.incident_log import MAX_RECIPIENTS

_ERROR = {"$ref": "#/components/schemas/Error"}
_ID = {"type": "string", "pattern": "^[a-z0-9_-]+$"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    *,
    body: dict[str, Any] | None = None,
    params: list[Any] | None = None,
    ok: int = 200,
    jpeg: bool = False,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(ok): {"description": "OK", "content": {"image/jpeg": {}}}
        if jpeg
        else {"description": "OK", **_json({"type": ["object", "array"]})},
        "400": {"description": "Invalid input", **_json(_ERROR)},
        "401": {"description": "Missing or wrong token", **_json(_ERROR)},
        "404": {"description": "Not found", **_json(_ERROR)},
        "409": {"description": "Conflict", **_json(_ERROR)},
    }
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, pattern: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": pattern},
    }


def _query_int(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 0},
    }


_CAMERA_BODY = {
    "type": "object",
    "required": ["id", "name", "source"],
    "properties": {
        "id": _ID,
        "name": {"type": "string"},
        "location": {"type": "string"},
        "source": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"enum": ["onvif", "rtsp", "mjpeg", "snapshot", "file"]},
                "url": {"type": "string"},
                "host": {"type": "string"},
                "port": {"type": "integer"},
                "username": {"type": "string"},
                "password": {"type": "string", "writeOnly": True},
            },
        },
        "detect_fps": {"type": "number"},
        "enabled": {"type": "boolean"},
        "rules": {"type": "object"},
    },
}
_PERSON = {"type": "string", "minLength": 1, "maxLength": 100}


def openapi_document(server: str) -> dict[str, Any]:
    """The document, with ``server`` (the URL it was fetched from) as its server."""
    camera = [_path_param("camera_id", "^[a-z0-9_-]{1,64}$")]
    event = [_path_param("event_id", "^[A-Za-z0-9_-]{1,64}$")]
    return {
        "openapi": "3.1.0",
        "info": {"title": "school_guard engine API", "version": __version__},
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                }
            },
        },
        "paths": {
            "/api/v1/info": {"get": _op("Engine id, name, version, devices, models")},
            "/api/v1/health": {"get": _op("Liveness and camera counts")},
            "/api/v1/cameras": {
                "get": _op("Every camera with its status"),
                "post": _op("Add a camera", body=_CAMERA_BODY, ok=201),
            },
            "/api/v1/cameras/{camera_id}": {
                "get": _op("One camera", params=camera),
                "patch": _op(
                    "Change a camera (config-file cameras: only enabled)",
                    body={"type": "object"},
                    params=camera,
                ),
                "delete": _op("Remove a camera added through the API", params=camera),
            },
            "/api/v1/cameras/{camera_id}/snapshot.jpg": {
                "get": _op(
                    "Newest frame",
                    jpeg=True,
                    params=[
                        *camera,
                        {
                            "name": "annotated",
                            "in": "query",
                            "required": False,
                            "schema": {"enum": ["0", "1"]},
                        },
                    ],
                ),
            },
            "/api/v1/events": {
                "get": _op(
                    "Event changes after a cursor",
                    params=[_query_int("since"), _query_int("limit")],
                ),
            },
            "/api/v1/events/{event_id}": {"get": _op("One event", params=event)},
            "/api/v1/events/{event_id}/snapshot.jpg": {
                "get": _op("The event's best snapshot", jpeg=True, params=event)
            },
            "/api/v1/events/{event_id}/acknowledge": {
                "post": _op(
                    "Acknowledge an alert",
                    params=event,
                    body={
                        "type": "object",
                        "required": ["by"],
                        "properties": {"by": _PERSON, "note": {"type": "string"}},
                    },
                ),
            },
            "/api/v1/events/{event_id}/dismiss": {
                "post": _op(
                    "Dismiss an alert as false",
                    params=event,
                    body={
                        "type": "object",
                        "required": ["by"],
                        "properties": {"by": _PERSON, "reason": {"type": "string"}},
                    },
                ),
            },
            "/api/v1/events/{event_id}/notified": {
                "post": _op(
                    "Record who was told about an alert",
                    params=event,
                    body={
                        "type": "object",
                        "required": ["recipients", "channel", "by"],
                        "properties": {
                            "recipients": {
                                "type": "array",
                                "items": _PERSON,
                                "minItems": 1,
                                "maxItems": MAX_RECIPIENTS,
                            },
                            "channel": {"type": "string", "minLength": 1, "maxLength": 100},
                            "by": _PERSON,
                        },
                    },
                ),
            },
            "/api/v1/mode": {
                "get": _op("Response mode"),
                "put": _op(
                    "Set the response mode",
                    body={
                        "type": "object",
                        "required": ["mode"],
                        "properties": {
                            "mode": {
                                "enum": [
                                    "normal",
                                    "hold",
                                    "secure",
                                    "lockdown",
                                    "evacuate",
                                    "shelter",
                                ]
                            },
                            "drill": {"type": "boolean"},
                        },
                    },
                ),
            },
            "/api/v1/test_alert": {
                "post": _op(
                    "Raise a drill alert",
                    ok=201,
                    body={
                        "type": "object",
                        "required": ["camera_id", "rule"],
                        "properties": {
                            "camera_id": {"type": "string"},
                            "rule": {"type": "string"},
                            "seconds": {"type": "number", "minimum": 1, "maximum": 600},
                        },
                    },
                ),
            },
            "/api/v1/onvif/discover": {
                "post": _op(
                    "WS-Discovery probe (multicast and unicast targets)",
                    body={
                        "type": "object",
                        "properties": {
                            "targets": {"type": "array", "items": {"type": "string"}},
                            "timeout": {"type": "number", "minimum": 0.2, "maximum": 30},
                            "multicast": {"type": "boolean"},
                        },
                    },
                ),
            },
            "/api/v1/onvif/probe": {
                "post": _op(
                    "Probe one ONVIF camera",
                    body={
                        "type": "object",
                        "required": ["host"],
                        "properties": {
                            "host": {"type": "string"},
                            "port": {"type": "integer"},
                            "username": {"type": "string"},
                            "password": {"type": "string", "writeOnly": True},
                        },
                    },
                ),
            },
            "/api/v1/openapi.json": {"get": _op("This document")},
        },
    }
