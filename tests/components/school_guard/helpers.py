"""Waiting for pushed state without timing assertions: poll a condition, bounded."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from homeassistant.components.device_automation import (
    DeviceAutomationType,
    async_get_device_automations,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from custom_components.school_guard.const import DOMAIN
from detectors.engine.service import Engine
from detectors.rules.confirmation import AlertTransition

if TYPE_CHECKING:
    from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
        MockConfigEntry,
    )

    from custom_components.school_guard import SchoolGuardConfigEntry

WAIT_SECONDS = 60.0


async def wait_until(hass: HomeAssistant, condition: Callable[[], bool], what: str) -> None:
    """Let the loop run until ``condition`` holds; fail with ``what`` after a generous bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
        await hass.async_block_till_done()


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """The entity's state string, or None if it does not exist."""
    state = hass.states.get(entity_id)
    return None if state is None else state.state


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> SchoolGuardConfigEntry:
    """Load the entry and wait until the test engine's plaza camera is online in Home Assistant."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(
        hass,
        lambda: state_of(hass, "binary_sensor.plaza_connectivity") == "on",
        "the plaza camera online",
    )
    return cast("SchoolGuardConfigEntry", entry)


async def real_alert(
    engine: Engine,
    rule: str,
    *,
    state: str = "started",
    alert_id: str | None = None,
    zone: str | None = None,
    confidence: float = 0.8,
) -> str:
    """Raise (or move on) a real, non-drill alert on plaza through the engine's own recorder.

    ``test_alert`` always makes drills; this is what a rule's confirmation would hand the
    recorder, so Home Assistant sees exactly what a real detection sends.
    """
    now = time.time()
    transition = AlertTransition(
        alert_id=alert_id or uuid.uuid4().hex,
        camera_id="plaza",
        rule=rule,
        zone=zone,
        state=state,  # type: ignore[arg-type]
        timestamp=now,
        started_at=now,
        confidence=confidence,
        scores=(confidence,),
    )
    change = await engine.alerts.record(engine.cameras["plaza"], transition, None)
    assert change is not None
    return transition.alert_id


def device_id_of(hass: HomeAssistant, identifier: tuple[str, str]) -> str:
    """The device-registry id of the device with ``identifier`` (it must exist)."""
    device = dr.async_get(hass).async_get_device(identifiers={identifier})
    assert device is not None, identifier
    return device.id


async def camera_and_engine_automations(
    hass: HomeAssistant, kind: DeviceAutomationType, engine_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """School Guard's device automations of ``kind`` on plaza's device and the engine's."""
    plaza = device_id_of(hass, (DOMAIN, f"{engine_id}_plaza"))
    engine = device_id_of(hass, (DOMAIN, engine_id))
    found = await async_get_device_automations(hass, kind, [plaza, engine])
    ours = {device: [a for a in found[device] if a["domain"] == DOMAIN] for device in found}
    return ours[plaza], ours[engine]
