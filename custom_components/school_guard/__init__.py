"""The school_guard integration: a thin, push-driven client of a school_guard engine.

It imports nothing from the engine package (``detectors``); everything it knows about an
engine comes through the documented engine API (docs/engine-api.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .client import RECONNECT_DELAYS, SchoolGuardClient, SchoolGuardError
from .const import DOMAIN, MANUFACTURER
from .errors import setup_error
from .hub import SchoolGuardHub
from .services import async_setup_services
from .subentries import async_remove_stale
from .views import SchoolGuardEvidenceView

__all__ = ["DOMAIN", "SchoolGuardConfigEntry", "SchoolGuardData"]

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions and the evidence view once for all engines."""
    async_setup_services(hass)
    hass.http.register_view(SchoolGuardEvidenceView())
    return True


@dataclass(slots=True)
class SchoolGuardData:
    """What a loaded config entry holds: the API client and the push hub."""

    client: SchoolGuardClient
    hub: SchoolGuardHub


type SchoolGuardConfigEntry = ConfigEntry[SchoolGuardData]


async def async_setup_entry(hass: HomeAssistant, entry: SchoolGuardConfigEntry) -> bool:
    """Connect to the engine, register its device, create entities, start listening."""
    host: str = entry.data[CONF_HOST]
    port: int = entry.data[CONF_PORT]
    client = SchoolGuardClient(async_get_clientsession(hass), host, port, entry.data[CONF_TOKEN])
    try:
        info = await client.info()
        cursor = await client.health_cursor()
        cameras = await client.cameras()
    except SchoolGuardError as err:
        raise setup_error(err, host) from err
    if info.engine_id != entry.unique_id:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="wrong_engine",
            translation_placeholders={"host": host, "engine_id": info.engine_id},
        )

    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, info.engine_id)},
        # Software, not a box on the wall: Home Assistant shows it as a service.
        entry_type=dr.DeviceEntryType.SERVICE,
        manufacturer=MANUFACTURER,
        model="Engine",
        name=info.name,
        sw_version=info.version,
    )
    async_remove_stale(hass, entry, info.engine_id, [camera.camera_id for camera in cameras])
    hub = SchoolGuardHub(
        hass=hass,
        entry=entry,
        client=client,
        info=info,
        cameras={camera.camera_id: camera for camera in cameras},
        cursor=cursor,
        reconnect_delays=RECONNECT_DELAYS,
    )
    entry.runtime_data = SchoolGuardData(client=client, hub=hub)
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    hub.async_start()
    return True


async def _async_entry_updated(hass: HomeAssistant, entry: SchoolGuardConfigEntry) -> None:
    """Camera subentries were added or removed (or the entry changed): follow them."""
    await entry.runtime_data.hub.async_subentries_changed()


async def async_unload_entry(hass: HomeAssistant, entry: SchoolGuardConfigEntry) -> bool:
    """Unload the platforms; the listener task ends with the entry's background tasks."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
