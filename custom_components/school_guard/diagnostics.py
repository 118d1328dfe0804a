"""Config entry diagnostics: what a maintainer needs to help, and no secret.

Users attach this file to public issues, so it is redacted three ways: secret-looking
keys (token, password, username...), credentials inside URLs (``rtsp://user:pw@host``,
``?password=``) wherever they appear in a string, and the entry's token wherever it
appears at all. No image is ever fetched for it (snapshots show pupils).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant

from . import SchoolGuardConfigEntry
from .client import SchoolGuardError

REDACTED = "**REDACTED**"

SECRET_KEYS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "authorization",
        "pass",
        "passwd",
        "password",
        "pwd",
        "secret",
        "token",
        "user",
        "username",
    }
)
"""Keys whose values are withheld whatever they hold (compared case-insensitively)."""

_URL_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")
_SECRET_QUERY = re.compile(
    r"(?P<head>[?&;](?:" + "|".join(sorted(SECRET_KEYS)) + r")=)[^&;#\s]*",
    re.IGNORECASE,
)


def redact_text(text: str, secrets: frozenset[str] = frozenset()) -> str:
    """``text`` with URL credentials, secret query values and each of ``secrets`` removed."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _URL_USERINFO.sub(lambda m: f"{m['head']}{REDACTED}@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m['head']}{REDACTED}", text)


def redact(value: Any, secrets: frozenset[str] = frozenset()) -> Any:
    """A copy of ``value`` (JSON-like) with every secret withheld; see the module doc."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if str(key).lower() in SECRET_KEYS and item is not None
            else redact(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item, secrets) for item in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SchoolGuardConfigEntry
) -> dict[str, Any]:
    """The entry, the hub's live view and the engine's own answers, all redacted."""
    data = entry.runtime_data
    hub = data.hub
    engine: dict[str, Any]
    try:
        engine = {
            "info": await data.client.raw("/info"),
            "cameras": await data.client.raw("/cameras"),
            "mode": await data.client.raw("/mode"),
        }
    except SchoolGuardError as err:
        engine = {"error": str(err)}
    diagnostics = {
        "entry": {
            "title": entry.title,
            "unique_id": entry.unique_id,
            "data": dict(entry.data),
            "options": dict(entry.options),
        },
        "hub": {
            "connected": hub.connected,
            "cursor": hub.cursor,
            "info": dataclasses.asdict(hub.info),
            "mode": None if hub.mode is None else dataclasses.asdict(hub.mode),
            "cameras": {
                camera_id: dataclasses.asdict(camera) for camera_id, camera in hub.cameras.items()
            },
            "open_alerts": [dataclasses.asdict(alert) for alert in hub.open_alerts.values()],
            "repair_issues": sorted(hub.issues.raised),
        },
        "engine": engine,
    }
    secrets = frozenset({str(entry.data.get(CONF_TOKEN) or "")})
    redacted: dict[str, Any] = redact(diagnostics, secrets)
    return redacted
