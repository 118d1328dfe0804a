"""Alert clips and strips in Home Assistant: proxied behind its login, named on the bus event.

A real engine writes a drill's clip and strip; Home Assistant serves them on its own
paths (the engine token never leaves it), passes a browser's byte ranges on, names the
paths on ``school_guard_alert`` once the engine has them, and shows the strip in the
latest-alert image.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from homeassistant.components import media_source
from homeassistant.components.media_player.browse_media import async_process_play_media_url
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.typing import (  # type: ignore[import-untyped]
    ClientSessionGenerator,
)

from custom_components.school_guard import SchoolGuardConfigEntry
from custom_components.school_guard.client import SchoolGuardAuthError, SchoolGuardClient
from custom_components.school_guard.const import DOMAIN, EVENT_ALERT

from .conftest import RunningEngine
from .helpers import state_of, wait_until

IMAGE = "image.plaza_latest_alert"


async def _drill_with_evidence(
    hass: HomeAssistant, entry: MockConfigEntry, running_engine: RunningEngine
) -> tuple[str, list[dict[str, Any]]]:
    """Load the entry, raise a drill once plaza has buffered frames, wait for its evidence."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plaza = running_engine.engine.cameras["plaza"]
    await wait_until(
        hass,
        lambda: (
            state_of(hass, "binary_sensor.plaza_connectivity") == "on"
            and plaza.feeder is not None
            and len(plaza.feeder.ring) > 5
        ),
        "plaza online with frames buffered",
    )
    fired: list[dict[str, Any]] = []

    @callback
    def record(event: Event[Any]) -> None:
        fired.append(dict(event.data))

    unsub = hass.bus.async_listen(EVENT_ALERT, record)
    typed: SchoolGuardConfigEntry = entry
    event = await typed.runtime_data.client.test_alert("plaza", "weapon", seconds=600)
    event_id = event.event.event_id
    await wait_until(
        hass, lambda: any(f["change"] == "evidence" for f in fired), "the evidence change"
    )
    unsub()
    return event_id, fired


async def test_clip_and_strip_are_served_by_home_assistant(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    event_id, fired = await _drill_with_evidence(hass, config_entry, running_engine)
    started = next(f for f in fired if f["change"] == "started")
    assert (started["clip_url"], started["strip_url"]) == (None, None), "not written yet"
    ready = next(f for f in fired if f["change"] == "evidence")
    engine_id = running_engine.engine_id
    base = f"/api/school_guard/{engine_id}/events/{event_id}"
    assert (ready["clip_url"], ready["strip_url"]) == (f"{base}/clip.mp4", f"{base}/strip.jpg")
    assert running_engine.token not in str(ready)

    clip = running_engine.engine.log.evidence(event_id, "clip")
    strip = running_engine.engine.log.evidence(event_id, "strip")
    assert clip is not None and strip is not None
    client = await hass_client()
    whole = await client.get(ready["clip_url"])
    assert (whole.status, whole.content_type) == (200, "video/mp4")
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert await whole.read() == clip
    part = await client.get(ready["clip_url"], headers={"Range": "bytes=100-199"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(clip)}"
    assert await part.read() == clip[100:200]
    beyond = await client.get(ready["clip_url"], headers={"Range": f"bytes={len(clip)}-"})
    assert beyond.status == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(clip)}"
    image = await client.get(ready["strip_url"])
    assert (image.status, image.content_type) == (200, "image/jpeg")
    assert await image.read() == strip

    # The latest-alert image switched to the strip.
    await wait_until(hass, lambda: _attributes(hass).get("strip") is True, "the strip shown")
    assert _attributes(hass)["event_id"] == event_id
    shown = await client.get(f"/api/image_proxy/{IMAGE}")
    assert await shown.read() == strip

    # Only a logged-in user gets them.
    anonymous = await hass_client_no_auth()
    assert (await anonymous.get(ready["clip_url"])).status == 401
    assert (await anonymous.get(ready["strip_url"])).status == 401


async def test_what_is_not_there_is_a_404_and_a_gone_engine_a_502(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    client = await hass_client()
    engine_id = running_engine.engine_id
    for path, why in (
        (f"/api/school_guard/{engine_id}/events/nope/clip.mp4", "nope"),
        (f"/api/school_guard/{engine_id}/events/nope/strip.jpg", "nope"),
        (f"/api/school_guard/{engine_id}/events/nope/snapshot.jpg", "no such evidence"),
        (f"/api/school_guard/{engine_id}/events/a.b/clip.mp4", "no such evidence"),
        ("/api/school_guard/other-engine/events/nope/clip.mp4", "no loaded school_guard"),
    ):
        response = await client.get(path)
        assert response.status == 404, path
        assert why in (await response.json())["message"], path
    await running_engine.stop()
    gone = await client.get(f"/api/school_guard/{engine_id}/events/nope/clip.mp4")
    assert gone.status == 502
    assert "did not answer" in (await gone.json())["message"]
    assert hass.config_entries.async_entries(DOMAIN)[0].unique_id == engine_id


def _attributes(hass: HomeAssistant) -> dict[str, Any]:
    state = hass.states.get(IMAGE)
    return {} if state is None else dict(state.attributes)


async def test_the_media_browser_lists_incidents_with_clip_and_strip(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    event_id, _ = await _drill_with_evidence(hass, config_entry, running_engine)
    engine_id = running_engine.engine_id

    root = await media_source.async_browse_media(hass, f"{media_source.URI_SCHEME}{DOMAIN}")
    assert root.title == "School safety"
    assert [child.title for child in root.children] == ["Lincoln High"]
    engine = await media_source.async_browse_media(hass, root.children[0].media_content_id)
    plaza = next(child for child in engine.children if child.title == "Plaza")
    camera = await media_source.async_browse_media(hass, plaza.media_content_id)
    started = running_engine.engine.log.get(event_id).started_at
    day = dt_util.as_local(dt_util.utc_from_timestamp(started)).date().isoformat()
    assert [child.title for child in camera.children] == [f"{day} (1)"]
    listed = await media_source.async_browse_media(hass, camera.children[0].media_content_id)
    (incident,) = listed.children
    assert incident.title.endswith("weapon DRILL 100% (open)")
    base = f"/api/school_guard/{engine_id}/events/{event_id}"
    assert incident.thumbnail == f"{base}/strip.jpg"
    files = await media_source.async_browse_media(hass, incident.media_content_id)
    assert [(c.title, c.media_class) for c in files.children] == [
        ("Clip", "video"),
        ("Keyframe strip", "image"),
    ]
    clip = await media_source.async_resolve_media(hass, files.children[0].media_content_id, None)
    assert (clip.url, clip.mime_type) == (f"{base}/clip.mp4", "video/mp4")
    strip = await media_source.async_resolve_media(hass, files.children[1].media_content_id, None)
    assert (strip.url, strip.mime_type) == (f"{base}/strip.jpg", "image/jpeg")
    # What the browser plays: the path signed by Home Assistant, no login header needed.
    signed = async_process_play_media_url(hass, clip.url, allow_relative_url=True)
    assert "authSig=" in signed
    anonymous = await hass_client_no_auth()
    played = await anonymous.get(signed, headers={"Range": "bytes=0-1023"})
    assert played.status == 206
    assert len(await played.read()) == 1024

    # People's decisions show as the outcome.
    typed: SchoolGuardConfigEntry = config_entry
    await typed.runtime_data.client.dismiss(event_id, by="SRO", reason="drill")
    listed = await media_source.async_browse_media(hass, camera.children[0].media_content_id)
    assert listed.children[0].title.endswith("(dismissed as false alarm)")


async def test_the_media_browser_refuses_what_it_does_not_hold(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    engine_id = running_engine.engine_id
    uri = f"{media_source.URI_SCHEME}{DOMAIN}"
    for identifier in ("other", f"{engine_id}/plaza/2020-01-01/nope", f"{engine_id}/a/b/c/d/e"):
        with pytest.raises(BrowseError):
            await media_source.async_browse_media(hass, f"{uri}/{identifier}")
    for identifier in (f"{engine_id}/plaza/day/ev", "other/plaza/day/ev/clip.mp4"):
        with pytest.raises(media_source.Unresolvable):
            await media_source.async_resolve_media(hass, f"{uri}/{identifier}", None)
    await running_engine.stop()
    with pytest.raises(BrowseError, match="did not list"):
        await media_source.async_browse_media(hass, f"{uri}/{engine_id}/plaza")


async def test_the_client_streams_evidence_only_with_the_token(
    hass: HomeAssistant, running_engine: RunningEngine
) -> None:
    async with aiohttp.ClientSession() as session:
        wrong = SchoolGuardClient(session, running_engine.host, running_engine.port, "wrong")
        with pytest.raises(SchoolGuardAuthError):
            async with wrong.evidence("nope", "clip.mp4"):
                pass
