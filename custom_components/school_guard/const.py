"""Constants shared by the school_guard integration's modules."""

import logging
from typing import Final

DOMAIN: Final = "school_guard"
LOGGER = logging.getLogger(__package__)

DEFAULT_PORT: Final = 8765

EVENT_ALERT: Final = "school_guard_alert"
"""Bus event fired for every alert change, so automations react without polling."""

SUBENTRY_CAMERA: Final = "camera"
"""Config subentry type of a camera added from Home Assistant; its unique id is the
engine's camera id."""
