"""Shared pieces of the alert rules: zones, lines, observations and the Rule base class.

A rule turns one :class:`~detectors.types.FrameAnalysis` into one
:class:`Observation` per zone it watches, active or not, on every analysed frame. Rules
never decide alone that an alert exists: :mod:`detectors.rules.confirmation` does, after
K of the last M frames agree, because a single frame is exactly how a chip bag becomes a
gun.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import voluptuous as vol

from detectors.errors import ConfigError
from detectors.geometry import anchor_point, point_in_polygon
from detectors.schedule import ALWAYS
from detectors.types import BoxXYXY, FrameAnalysis, Track

PERSON_LABEL = "person"

TRACK_FORGET_SECONDS = 5.0
"""Per-track rule state is dropped this long after the track was last seen. Longer than
the tracker's default max age (2 s), after which a lost id never comes back."""


@dataclass(frozen=True)
class Zone:
    """A named polygon in normalised frame coordinates (0-1)."""

    name: str
    polygon: tuple[tuple[float, float], ...]

    def contains(self, point: tuple[float, float]) -> bool:
        """Tell whether a normalised point is inside (edges included)."""
        return point_in_polygon(point[0], point[1], self.polygon)


@dataclass(frozen=True)
class Line:
    """A named tripwire from ``a`` to ``b`` in normalised coordinates.

    ``direction`` ``a_to_b`` counts crossings from the left-hand side of the directed line
    a → b to its right-hand side, as seen on screen (the direction of a→b turned 90°
    clockwise on screen); ``b_to_a`` the opposite; ``any`` both. For a line drawn from
    ``(0, 0.5)`` to ``(1, 0.5)``, ``a_to_b`` means moving down the image.
    """

    name: str
    a: tuple[float, float]
    b: tuple[float, float]
    direction: Literal["any", "a_to_b", "b_to_a"] = "any"


@dataclass(frozen=True)
class Observation:
    """What one rule saw in one frame for one zone (``None`` = whole frame).

    ``score`` is carried even when inactive so the incident log can show how close a
    frame came; ``boxes`` are in frame pixels.
    """

    rule: str
    zone: str | None
    active: bool
    score: float
    boxes: tuple[BoxXYXY, ...] = ()
    track_ids: tuple[int, ...] = ()
    detail: Mapping[str, object] = field(default_factory=dict)


def _k_not_above_m(value: dict[str, int]) -> dict[str, int]:
    if value["k"] > value["m"]:
        raise vol.Invalid(f"confirm.k ({value['k']}) cannot exceed confirm.m ({value['m']})")
    return value


def _positive_int(value: Any) -> int:
    """Accept a real int (``True`` is refused although Python calls it an int)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid(f"expected a whole number, got {value!r}")
    if value < 1:
        raise vol.Invalid(f"expected a number >= 1, got {value}")
    return value


def _whole_view_only(value: Any) -> None:
    if value is not None:
        raise vol.Invalid("this rule watches the whole view; zones must be null")


def _unique_names(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise vol.Invalid("expected a non-empty list of names")
    if len(set(value)) != len(value):
        raise vol.Invalid(f"names listed twice in {value}")
    return list(value)


def seconds(minimum: float = 0.0) -> vol.All:
    """Return a validator for a duration in seconds (YAML ints accepted)."""
    return vol.All(vol.Coerce(float), vol.Range(min=minimum))


def number(minimum: float = 0.0) -> vol.All:
    """Return a validator for a real number of at least ``minimum`` (YAML ints accepted)."""
    return vol.All(vol.Coerce(float), vol.Range(min=minimum))


def unit_interval() -> vol.All:
    """Return a validator for a score between 0 and 1."""
    return vol.All(vol.Coerce(float), vol.Range(min=0.0, max=1.0))


names_list = _unique_names
"""Validator for a list of zone/line/label names (non-empty, no duplicates)."""


def rule_schema(
    *,
    k: int,
    m: int,
    min_score: float,
    quiet_seconds: float,
    cooldown_seconds: float,
    specific: Mapping[vol.Marker, Any],
    zones_allowed: bool = True,
) -> vol.Schema:
    """Build a rule's option schema: the common options with its defaults, plus its own.

    The schema fills every default and its output validates to itself, so options can be
    validated by the config loader and again by the rule without changing.
    """
    zones_validator: Any = vol.Any(None, _unique_names) if zones_allowed else _whole_view_only
    confirm = vol.All(
        {vol.Required("k"): _positive_int, vol.Required("m"): _positive_int},
        _k_not_above_m,
    )
    base: dict[vol.Marker, Any] = {
        vol.Optional("enabled", default=True): bool,
        vol.Optional("zones", default=None): zones_validator,
        vol.Optional("schedule", default=ALWAYS): str,
        vol.Optional("confirm", default={"k": k, "m": m}): confirm,
        vol.Optional("quiet_seconds", default=quiet_seconds): seconds(),
        vol.Optional("cooldown_seconds", default=cooldown_seconds): seconds(),
        vol.Optional("min_score", default=min_score): unit_interval(),
    }
    base.update(specific)
    return vol.Schema(base)


@dataclass(frozen=True)
class Person:
    """A person as the rules see them: a confirmed person track and its normalised feet."""

    track: Track
    anchor: tuple[float, float]

    @property
    def height(self) -> float:
        """Box height in pixels (the body-size yardstick for distances and speeds)."""
        return max(1.0, self.track.box[3] - self.track.box[1])


def people(frame: FrameAnalysis, min_score: float) -> list[Person]:
    """Return the frame's person tracks scoring at least ``min_score``, with anchors."""
    return [
        Person(track, anchor_point(track.box, frame.frame_size))
        for track in frame.tracks
        if track.label == PERSON_LABEL and track.score >= min_score
    ]


class TrackMemory[S]:
    """Per-track rule state that forgets tracks not seen for :data:`TRACK_FORGET_SECONDS`."""

    def __init__(self) -> None:
        """Start empty."""
        self._items: dict[int, tuple[float, S]] = {}

    def get(self, track_id: int) -> S | None:
        """Return the state of ``track_id`` or ``None``."""
        item = self._items.get(track_id)
        return item[1] if item is not None else None

    def put(self, track_id: int, state: S, timestamp: float) -> None:
        """Store the state of ``track_id`` as seen at ``timestamp``."""
        self._items[track_id] = (timestamp, state)

    def prune(self, timestamp: float) -> None:
        """Forget tracks last seen more than :data:`TRACK_FORGET_SECONDS` ago."""
        stale = [
            track_id
            for track_id, (seen, _state) in self._items.items()
            if timestamp - seen > TRACK_FORGET_SECONDS or seen > timestamp
        ]
        for track_id in stale:
            del self._items[track_id]

    def clear(self) -> None:
        """Forget everything."""
        self._items.clear()

    def __len__(self) -> int:
        """Return how many tracks are remembered."""
        return len(self._items)

    def __iter__(self) -> Iterator[int]:
        """Iterate over the remembered track ids."""
        return iter(list(self._items))


class Rule(ABC):
    """One alert rule of one camera, configured by validated options.

    Subclasses set ``name`` and ``CONFIG_SCHEMA`` and implement :meth:`evaluate`. Any
    state a rule keeps across frames is keyed by track id and pruned when tracks vanish.
    """

    name: ClassVar[str]
    CONFIG_SCHEMA: ClassVar[vol.Schema]

    def __init__(
        self,
        options: Mapping[str, Any],
        zones: Mapping[str, Zone],
        lines: Mapping[str, Line],
    ) -> None:
        """Validate ``options`` and resolve the zone names they mention."""
        try:
            self.options: dict[str, Any] = self.CONFIG_SCHEMA(dict(options))
        except vol.Invalid as err:
            raise ConfigError(f"rules.{self.name}: {err}") from err
        self.all_zones = dict(zones)
        self.all_lines = dict(lines)
        self.zones: tuple[Zone, ...] | None = (
            None
            if self.options["zones"] is None
            else tuple(self.zone(name, "zones") for name in self.options["zones"])
        )
        self.min_score: float = self.options["min_score"]

    def zone(self, name: str, option: str) -> Zone:
        """Return the zone called ``name`` or raise :class:`ConfigError` naming ``option``."""
        try:
            return self.all_zones[name]
        except KeyError:
            known = ", ".join(sorted(self.all_zones)) or "none defined"
            raise ConfigError(
                f"rules.{self.name}.{option}: unknown zone '{name}' (zones: {known})"
            ) from None

    @property
    def schedule(self) -> str:
        """Name of the schedule during which the rule is evaluated."""
        return str(self.options["schedule"])

    @property
    def enabled(self) -> bool:
        """Whether the rule runs at all."""
        return bool(self.options["enabled"])

    @property
    def confirm_k(self) -> int:
        """Active frames needed among the last :attr:`confirm_m` to start an alert."""
        return int(self.options["confirm"]["k"])

    @property
    def confirm_m(self) -> int:
        """Length of the confirmation window in analysed frames."""
        return int(self.options["confirm"]["m"])

    @property
    def quiet_seconds(self) -> float:
        """Seconds without an active frame after which an alert ends."""
        return float(self.options["quiet_seconds"])

    @property
    def cooldown_seconds(self) -> float:
        """Seconds after an alert ends during which the same alert cannot start again."""
        return float(self.options["cooldown_seconds"])

    def watched_zones(self) -> Sequence[Zone | None]:
        """Return the zones observed each frame; ``[None]`` means the whole frame."""
        return [None] if self.zones is None else list(self.zones)

    @staticmethod
    def in_zone(zone: Zone | None, point: tuple[float, float]) -> bool:
        """Tell whether a normalised point counts for ``zone`` (``None`` = everywhere)."""
        return zone is None or zone.contains(point)

    @abstractmethod
    def evaluate(self, frame: FrameAnalysis) -> list[Observation]:
        """Return one observation per watched zone for ``frame``."""

    def reset(self) -> None:  # noqa: B027  (not abstract: stateless rules keep nothing)
        """Forget state kept across frames (called when the rule's schedule turns off).

        The base rule keeps none; stateful rules extend this.
        """

    def thresholds(self) -> dict[str, float | int | str]:
        """Return the options in force, flattened, for the incident log.

        Nested option groups become ``group_key`` entries (``confirm_k``,
        ``search_budget``), so every value stays a plain number or string.
        """
        return _flatten(self.options, "")


def _flatten(options: Mapping[str, Any], prefix: str) -> dict[str, float | int | str]:
    flat: dict[str, float | int | str] = {}
    for name, value in options.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat |= _flatten(value, f"{key}_")
        elif isinstance(value, bool):
            flat[key] = str(value).lower()
        elif isinstance(value, int | float | str):
            flat[key] = value
        elif value is None:
            flat[key] = "whole frame" if key == "zones" else "none"
        else:
            flat[key] = ",".join(str(item) for item in value)
    return flat
