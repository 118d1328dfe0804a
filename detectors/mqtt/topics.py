"""The MQTT topic names of one engine, checked so an id can never change the tree's shape.

A ``/`` inside a camera id would move its state into another branch, and ``+``/``#`` are
wildcards that a broker refuses in a published topic; both are rejected here instead of
being silently published somewhere unexpected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DEFAULT_TOPIC_ROOT: Final = "school_guard"
_FORBIDDEN_CHARACTERS: Final = frozenset("/+#\0")


def check_segment(value: str, what: str) -> str:
    """Return ``value`` when it can be one topic level, else raise ``ValueError``."""
    if not value:
        raise ValueError(f"{what} must not be empty in an MQTT topic")
    bad = sorted(_FORBIDDEN_CHARACTERS.intersection(value))
    if bad:
        shown = ", ".join(repr(char) for char in bad)
        raise ValueError(f"{what} {value!r} cannot be an MQTT topic level (contains {shown})")
    return value


def check_root(root: str) -> str:
    """Return ``root`` when it is a usable topic prefix (one or more levels)."""
    if root.startswith("$"):
        raise ValueError(f"topic root {root!r} must not start with '$' (reserved by brokers)")
    for level in root.split("/"):
        check_segment(level, "topic root level")
    return root


@dataclass(frozen=True, slots=True)
class EngineTopics:
    """Every topic one engine publishes on, below ``<root>/<engine_id>``."""

    root: str
    engine_id: str

    def __post_init__(self) -> None:
        check_root(self.root)
        check_segment(self.engine_id, "engine id")

    @property
    def base(self) -> str:
        """The engine's own branch; a broker ACL can grant exactly this with ``/#``."""
        return f"{self.root}/{self.engine_id}"

    @property
    def availability(self) -> str:
        """Retained ``online``/``offline``; the broker publishes ``offline`` as last will."""
        return f"{self.base}/availability"

    @property
    def mode(self) -> str:
        """Retained response mode JSON."""
        return f"{self.base}/mode"

    @property
    def events(self) -> str:
        """Alert lifecycle messages (QoS 1, not retained)."""
        return f"{self.base}/events"

    def camera(self, camera_id: str) -> str:
        """The folder of one camera's retained topics (its state and one topic per rule)."""
        return f"{self.base}/cameras/{check_segment(camera_id, 'camera id')}"

    def camera_state(self, camera_id: str) -> str:
        """Retained camera status JSON."""
        return f"{self.camera(camera_id)}/state"

    def rule_state(self, camera_id: str, rule: str) -> str:
        """Retained ``ON``/``OFF`` of one rule on one camera."""
        if rule == "state":
            raise ValueError("rule name 'state' would collide with the camera state topic")
        return f"{self.camera(camera_id)}/{check_segment(rule, 'rule')}"

    def snapshot(self, event_id: str) -> str:
        """The JPEG of one alert (QoS 1, not retained)."""
        return f"{self.events}/{check_segment(event_id, 'event id')}/snapshot"
