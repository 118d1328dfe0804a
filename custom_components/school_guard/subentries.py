"""Camera subentries and camera devices: which camera belongs to which subentry, and cleanup.

A camera added from Home Assistant is a config subentry whose unique id is the engine's
camera id; its entities are added under that subentry so Home Assistant shows the camera
(and removes its device) with the subentry. Cameras from the engine's own configuration
have no subentry and hang off the config entry alone. This module has no hub import so
that both the hub and the entities can use it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypedDict

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .client import CameraState
from .const import DOMAIN, LOGGER, MANUFACTURER, SUBENTRY_CAMERA


class CameraHardware(TypedDict):
    """The device-registry fields of a camera device that say what hardware it is."""

    manufacturer: str
    model: str
    sw_version: str | None


def camera_device_identifier(engine_id: str, camera_id: str) -> tuple[str, str]:
    """The device-registry identifier of a camera (camera ids are unique per engine only)."""
    return (DOMAIN, f"{engine_id}_{camera_id}")


def camera_hardware(camera: CameraState) -> CameraHardware:
    """The camera device's make, model and firmware: what ONVIF says, else ours.

    A camera added by URL (or not probed yet) is a "School Guard" "Camera"; once the
    engine has probed an ONVIF camera, its device page names the real hardware.
    """
    device = camera.device
    if device is None or not (device.manufacturer or device.model):
        return {"manufacturer": MANUFACTURER, "model": "Camera", "sw_version": None}
    return {
        "manufacturer": device.manufacturer or MANUFACTURER,
        "model": device.model or "Camera",
        "sw_version": device.firmware_version or None,
    }


@callback
def async_update_camera_device(hass: HomeAssistant, engine_id: str, camera: CameraState) -> None:
    """Show a camera's new name, or the hardware the engine's probe found, on its device.

    Entities set the device's details only when they are first registered, while the
    engine probes an ONVIF camera after it was added and a reconfigure renames it, so
    the hub updates the device (a name the user gave the device stays theirs).
    """
    registry = dr.async_get(hass)
    device = registry.async_get_device(
        identifiers={camera_device_identifier(engine_id, camera.camera_id)}
    )
    if device is not None:
        registry.async_update_device(device.id, name=camera.name, **camera_hardware(camera))


def subentry_cameras(entry: ConfigEntry) -> dict[str, str]:
    """Camera id of every camera subentry, keyed by subentry id."""
    return {
        subentry_id: subentry.unique_id
        for subentry_id, subentry in entry.subentries.items()
        if subentry.subentry_type == SUBENTRY_CAMERA and subentry.unique_id is not None
    }


def camera_subentry_id(entry: ConfigEntry, camera_id: str) -> str | None:
    """The subentry that added ``camera_id``, None for a camera from the engine's config."""
    return next(
        (sub for sub, camera in subentry_cameras(entry).items() if camera == camera_id), None
    )


@callback
def async_remove_camera_device(
    hass: HomeAssistant, entry: ConfigEntry, engine_id: str, camera_id: str
) -> None:
    """Detach the camera's device from the entry; the registry deletes it (and its entities).

    Detaching rather than deleting outright leaves a device that another integration also
    uses in place.
    """
    registry = dr.async_get(hass)
    device = registry.async_get_device(identifiers={camera_device_identifier(engine_id, camera_id)})
    if device is not None and entry.entry_id in device.config_entries:
        registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)


@callback
def async_remove_stale(
    hass: HomeAssistant, entry: ConfigEntry, engine_id: str, camera_ids: Collection[str]
) -> None:
    """Forget cameras that left the engine while Home Assistant was not listening.

    Their subentries go (the engine no longer has the camera to show) and so do camera
    devices of this entry that match no camera, so nothing unavailable lingers forever.
    """
    for subentry_id, camera_id in subentry_cameras(entry).items():
        if camera_id not in camera_ids:
            LOGGER.info("Camera %s is gone from engine %s; removing it", camera_id, engine_id)
            hass.config_entries.async_remove_subentry(entry, subentry_id)
    registry = dr.async_get(hass)
    keep = {(DOMAIN, engine_id)} | {camera_device_identifier(engine_id, c) for c in camera_ids}
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not device.identifiers & keep:
            registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)
