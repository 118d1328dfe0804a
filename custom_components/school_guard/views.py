"""Alert clips and keyframe strips through Home Assistant, so the engine token stays here.

A browser, the media browser and the companion apps reach Home Assistant with their own
login (a signed path for ``<video src>``, the app's session for a notification image);
the engine wants its bearer token, which must never leave Home Assistant. These views
take the first and answer with the second, streaming the engine's answer through: a
clip is never held whole in memory, and a browser's ``Range`` request (seeking) is passed
on, so the engine's 206 and 416 answers reach the browser as they are.
"""

from __future__ import annotations

import re
from typing import Final

from aiohttp import hdrs, web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from .client import (
    EVIDENCE_FILES,
    EvidenceFile,
    SchoolGuardApiError,
    SchoolGuardClient,
    SchoolGuardError,
)
from .const import DOMAIN, LOGGER

EVIDENCE_URL: Final = "/api/school_guard/{engine_id}/events/{event_id}/{name}"
_EVENT_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""The engine's event ids; anything else never reaches the engine's URL."""
_PASSED_ON: Final = (
    hdrs.CONTENT_TYPE,
    hdrs.CONTENT_LENGTH,
    hdrs.CONTENT_RANGE,
    hdrs.ACCEPT_RANGES,
)
CHUNK_BYTES: Final = 64 * 1024


def evidence_path(engine_id: str, event_id: str, name: EvidenceFile) -> str:
    """Home Assistant's path of an alert's ``clip.mp4`` or ``strip.jpg``."""
    return EVIDENCE_URL.format(engine_id=engine_id, event_id=event_id, name=name)


class SchoolGuardEvidenceView(HomeAssistantView):
    """``GET`` an alert's clip or strip from its engine, for a logged-in user only."""

    url = EVIDENCE_URL
    name = "api:school_guard:evidence"
    requires_auth = True

    async def get(
        self, request: web.Request, engine_id: str, event_id: str, name: str
    ) -> web.StreamResponse:
        """Stream the engine's answer (200, 206 or 416), or a JSON message why not."""
        hass = request.app[KEY_HASS]
        if name not in EVIDENCE_FILES or not _EVENT_ID.fullmatch(event_id):
            return self.json_message("no such evidence file", 404)
        client = _engine_client(hass, engine_id)
        if client is None:
            return self.json_message(f"no loaded school_guard engine {engine_id}", 404)
        file: EvidenceFile = "clip.mp4" if name == "clip.mp4" else "strip.jpg"
        response: web.StreamResponse | None = None
        try:
            async with client.evidence(
                event_id, file, byte_range=request.headers.get(hdrs.RANGE)
            ) as answer:
                headers = {k: answer.headers[k] for k in _PASSED_ON if k in answer.headers}
                headers[hdrs.CACHE_CONTROL] = "private, no-store"
                response = web.StreamResponse(status=answer.status, headers=headers)
                await response.prepare(request)
                async for chunk in answer.content.iter_chunked(CHUNK_BYTES):
                    await response.write(chunk)
                await response.write_eof()
                return response
        except SchoolGuardApiError as err:
            status = 404 if err.status == 404 else 502
            return self.json_message(err.message, status)
        except (SchoolGuardError, ConnectionResetError) as err:
            if response is not None:  # the browser or the engine left mid-stream
                LOGGER.debug("Evidence %s of %s stopped: %s", name, event_id, err)
                return response
            return self.json_message(f"the engine did not answer: {err}", 502)


def _engine_client(hass: HomeAssistant, engine_id: str) -> SchoolGuardClient | None:
    """The client of the loaded entry of ``engine_id`` (None when there is none)."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.unique_id == engine_id and entry.state is ConfigEntryState.LOADED:
            client: SchoolGuardClient = entry.runtime_data.client
            return client
    return None
