"""Unauthorized-access rule: a person in a restricted zone, or crossing a tripwire.

The restriction in time comes from the rule's ``schedule`` (evaluated by the engine;
usually something like ``after_hours``); this rule only answers "is someone there".
A person counts where their feet are (the anchor), so someone walking past the edge of a
zone drawn on the floor does not enter it with their head.

Observations: one per zone in ``zones``, and one per line in ``lines`` (its ``zone`` is
the line's name). With no ``zones`` and no ``lines`` the whole frame is the zone; with
only ``lines``, only the lines are watched.

A crossing is an instant, but confirmation wants several agreeing frames, so a line's
observation stays active for ``crossing_hold_seconds`` (2) after a crossing. A crossing
itself already needs a confirmed track seen on both sides of the line.

Defaults, and why: ``min_score`` 0.5 on the person track's score; ``confirm`` 2 of 3
(someone slipping through a door is visible only briefly); ``quiet_seconds`` 30 so a
person ducking behind furniture keeps one alert; ``cooldown_seconds`` 60.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import voluptuous as vol

from detectors.errors import ConfigError
from detectors.geometry import crossing_side, segments_cross
from detectors.rules.base import (
    Line,
    Observation,
    Person,
    Rule,
    TrackMemory,
    Zone,
    names_list,
    people,
    rule_schema,
    seconds,
)
from detectors.types import BoxXYXY, FrameAnalysis


@dataclass(frozen=True)
class _Side:
    """Last side of a line a track was seen on, and where (internal)."""

    side: int
    anchor: tuple[float, float]


@dataclass(frozen=True)
class _Crossing:
    """A crossing event kept active for a while (internal)."""

    timestamp: float
    track_id: int
    score: float
    box: BoxXYXY


class IntrusionRule(Rule):
    """Raise on people inside restricted zones or crossing lines in a set direction."""

    name: ClassVar[str] = "intrusion"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = rule_schema(
        k=2,
        m=3,
        min_score=0.5,
        quiet_seconds=30.0,
        cooldown_seconds=60.0,
        specific={
            vol.Optional("lines", default=None): vol.Any(None, names_list),
            vol.Optional("crossing_hold_seconds", default=2.0): seconds(),
        },
    )

    def __init__(
        self, options: Mapping[str, Any], zones: Mapping[str, Zone], lines: Mapping[str, Line]
    ) -> None:
        """Resolve the lines to watch and start with no crossing history."""
        super().__init__(options, zones, lines)
        watched: list[Line] = []
        for line_name in self.options["lines"] or ():
            if line_name not in self.all_lines:
                known = ", ".join(sorted(self.all_lines)) or "none defined"
                raise ConfigError(
                    f"rules.{self.name}.lines: unknown line '{line_name}' (lines: {known})"
                )
            watched.append(self.all_lines[line_name])
        self.lines = tuple(watched)
        clash = {line.name for line in watched} & {zone.name for zone in self.zones or ()}
        if clash:
            raise ConfigError(
                f"rules.{self.name}: {sorted(clash)} name both a zone and a line; "
                "alerts are keyed by that name, so rename one"
            )
        self._sides: dict[str, TrackMemory[_Side]] = {line.name: TrackMemory() for line in watched}
        self._crossings: dict[str, list[_Crossing]] = {line.name: [] for line in watched}

    def reset(self) -> None:
        """Forget which side every track was on and any recent crossing."""
        for memory in self._sides.values():
            memory.clear()
        for crossings in self._crossings.values():
            crossings.clear()

    def watched_zones(self) -> list[Zone | None]:
        """Return the zones observed; none at all when only lines are configured."""
        if self.zones is None:
            return [] if self.lines else [None]
        return list(self.zones)

    def evaluate(self, frame: FrameAnalysis) -> list[Observation]:
        """Report people in each zone, and recent crossings of each line."""
        present = people(frame, self.min_score)
        observations: list[Observation] = []
        for zone in self.watched_zones():
            zone_name = zone.name if zone is not None else None
            inside = [person for person in present if self.in_zone(zone, person.anchor)]
            observations.append(
                Observation(
                    rule=self.name,
                    zone=zone_name,
                    active=bool(inside),
                    score=round(max((p.track.score for p in inside), default=0.0), 4),
                    boxes=tuple(person.track.box for person in inside),
                    track_ids=tuple(person.track.track_id for person in inside),
                    detail={"kind": "zone", "people": len(inside)},
                )
            )
        for line in self.lines:
            observations.append(self._observe_line(line, present, frame.timestamp))
        return observations

    def _observe_line(self, line: Line, present: list[Person], now: float) -> Observation:
        sides = self._sides[line.name]
        sides.prune(now)
        hold = float(self.options["crossing_hold_seconds"])
        crossings = [c for c in self._crossings[line.name] if 0.0 <= now - c.timestamp <= hold]
        for person in present:
            track_id = person.track.track_id
            side = crossing_side(person.anchor, line.a, line.b)
            previous = sides.get(track_id)
            if side == 0:
                if previous is not None:
                    sides.put(track_id, previous, now)
                continue
            if (
                previous is not None
                and previous.side != side
                and self._direction_matches(line, previous.side, side)
                and segments_cross(previous.anchor, person.anchor, line.a, line.b)
            ):
                crossings.append(_Crossing(now, track_id, person.track.score, person.track.box))
            sides.put(track_id, _Side(side, person.anchor), now)
        self._crossings[line.name] = crossings
        return Observation(
            rule=self.name,
            zone=line.name,
            active=bool(crossings),
            score=round(max((c.score for c in crossings), default=0.0), 4),
            boxes=tuple(c.box for c in crossings),
            track_ids=tuple(dict.fromkeys(c.track_id for c in crossings)),
            detail={"kind": "line", "direction": line.direction, "crossings": len(crossings)},
        )

    @staticmethod
    def _direction_matches(line: Line, before: int, after: int) -> bool:
        if line.direction == "any":
            return True
        if line.direction == "a_to_b":
            return before < 0 < after
        return before > 0 > after
