"""The after-action report in Home Assistant: review sensors and the report in /media."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
)

from custom_components.school_guard.const import DOMAIN

from .conftest import RunningEngine
from .helpers import state_of, wait_until
from .test_sg_services import assert_error, open_alert, set_up

SHARE = "sensor.lincoln_high_false_alarm_share_30_days"
CONFIRM = "sensor.lincoln_high_median_time_to_confirm_30_days"


async def refresh(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": [SHARE, CONFIRM]}, blocking=True
    )


async def test_review_sensors_show_real_numbers_with_drills_beside(
    hass: HomeAssistant, running_engine: RunningEngine, config_entry: MockConfigEntry
) -> None:
    assert await async_setup_component(hass, "homeassistant", {})
    entry = await set_up(hass, config_entry)
    registry = er.async_get(hass)
    for entity_id in (SHARE, CONFIRM):
        entity = registry.async_get(entity_id)
        assert entity is not None, entity_id
        assert entity.entity_category is not None  # diagnostic
    # No real alert yet: nothing to divide.
    assert state_of(hass, SHARE) == STATE_UNKNOWN
    assert hass.states.get(SHARE).attributes["real_alerts"] == 0  # type: ignore[union-attr]

    first = await open_alert(hass, entry, "weapon")
    second = await open_alert(hass, entry, "fight")
    client = entry.runtime_data.client
    await client.acknowledge(first, "SRO")
    await client.dismiss(second, "SRO")
    # The dismissal's push makes the sensors ask again (no 15 min wait).
    await wait_until(
        hass,
        lambda: (
            hass.states.get(SHARE).attributes["drill_alerts"] == 2  # type: ignore[union-attr]
            and hass.states.get(SHARE).attributes["drill_false_alarm_share"] == 50.0
        ),  # type: ignore[union-attr]
        "the review sensors to follow the dismissal",
    )
    share = hass.states.get(SHARE)
    assert share is not None
    assert share.state == STATE_UNKNOWN  # real incidents only; these were drills
    assert share.attributes["drill_alerts"] == 2
    assert share.attributes["drill_false_alarm_share"] == 50.0
    confirm = hass.states.get(CONFIRM)
    assert confirm is not None
    assert confirm.state == STATE_UNKNOWN
    assert confirm.attributes["drill_median_seconds"] > 0

    await running_engine.runner.cleanup()  # the engine stops answering
    await refresh(hass)
    assert state_of(hass, SHARE) == STATE_UNAVAILABLE


async def test_write_report_keeps_the_html_page_in_media(
    hass: HomeAssistant,
    running_engine: RunningEngine,
    config_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    media = tmp_path / "media"
    hass.config.media_dirs = {"local": str(media)}
    entry = await set_up(hass, config_entry)
    event_id = await open_alert(hass, entry, "weapon")
    await entry.runtime_data.client.acknowledge(event_id, "SRO Diaz")
    answer = await hass.services.async_call(
        DOMAIN, "write_report", {"days": 7}, blocking=True, return_response=True
    )
    assert answer is not None
    path = Path(str(answer["path"]))
    assert path.parent == media / "school_guard"
    assert path.name.startswith("after-action-7d-") and path.suffix == ".html"
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "SRO Diaz" in page
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # A folder that cannot be written is a translated error, not a traceback.
    (media / "school_guard").rename(media / "kept")
    (media / "school_guard").write_text("a file where the folder should be")
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(DOMAIN, "write_report", {}, blocking=True)
    assert_error(raised, "report_not_written")
