"""Constants shared by the school_guard integration's modules."""

import logging
from typing import Final

DOMAIN: Final = "school_guard"
MANUFACTURER: Final = "School Guard"
"""The name people read on device pages (the domain is for code)."""
LOGGER = logging.getLogger(__package__)

DEFAULT_PORT: Final = 8765

EVENT_ALERT: Final = "school_guard_alert"
"""Bus event fired for every alert change, so automations react without polling."""

EVENT_INCIDENT: Final = "school_guard_incident"
"""Bus event fired for the alert changes a person reads in the logbook (``LOGGED_CHANGES``),
with the camera's ``device_id``: the logbook describes this one, so an alert's updates
(confidence every few seconds) and notification records never flood it."""
LOGGED_CHANGES: Final = frozenset({"started", "ended", "acknowledged", "dismissed"})

SUBENTRY_CAMERA: Final = "camera"
"""Config subentry type of a camera added from Home Assistant; its unique id is the
engine's camera id."""


def camera_unique_id(engine_id: str, camera_id: str, key: str) -> str:
    """The unique id of a camera's entity ``key`` (a rule, ``snapshot``, ``connectivity``).

    Entities are registered under it, and the logbook and triggers look them up by it:
    one place writes the format.
    """
    return f"{engine_id}_{camera_id}_{key}"
