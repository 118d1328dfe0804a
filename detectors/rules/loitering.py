"""Loitering rule: the same person staying in a zone (or the frame) too long.

Dwell time is measured per (zone, track) from the first frame the track's feet were in
the zone. Stepping out for less than ``EXIT_GRACE_SECONDS`` (someone standing right on
the zone's border jitters in and out) does not restart the clock. The observation stays
active for as long as such a person stays.

Defaults, and why: ``seconds`` 120 (waiting for a friend at the door is normal for a
minute, not for several); ``min_score`` 0.5 on the person track's score; ``confirm`` 2
of 3 (the dwell time already proves persistence); ``quiet_seconds`` 15 and
``cooldown_seconds`` 120 so one lingering person does not page staff again and again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import voluptuous as vol

from detectors.rules.base import (
    Line,
    Observation,
    Rule,
    TrackMemory,
    Zone,
    people,
    rule_schema,
    seconds,
)
from detectors.types import FrameAnalysis

EXIT_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class _Dwell:
    """When a track entered a zone and was last inside it (internal)."""

    entered: float
    last_inside: float


class LoiteringRule(Rule):
    """Raise while a tracked person has been inside a zone longer than ``seconds``."""

    name: ClassVar[str] = "loitering"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = rule_schema(
        k=2,
        m=3,
        min_score=0.5,
        quiet_seconds=15.0,
        cooldown_seconds=120.0,
        specific={vol.Optional("seconds", default=120.0): seconds()},
    )

    def __init__(
        self, options: Mapping[str, Any], zones: Mapping[str, Zone], lines: Mapping[str, Line]
    ) -> None:
        """Start with no dwell timers."""
        super().__init__(options, zones, lines)
        self._dwell: dict[str | None, TrackMemory[_Dwell]] = {
            (zone.name if zone is not None else None): TrackMemory()
            for zone in self.watched_zones()
        }

    def reset(self) -> None:
        """Forget every dwell timer."""
        for memory in self._dwell.values():
            memory.clear()

    def evaluate(self, frame: FrameAnalysis) -> list[Observation]:
        """Advance dwell timers and report people who stayed longer than ``seconds``."""
        now = frame.timestamp
        present = people(frame, self.min_score)
        limit = float(self.options["seconds"])
        observations: list[Observation] = []
        for zone in self.watched_zones():
            zone_name = zone.name if zone is not None else None
            memory = self._dwell[zone_name]
            memory.prune(now)
            loitering: list[tuple[float, int, float, tuple[float, float, float, float]]] = []
            for person in present:
                track_id = person.track.track_id
                state = memory.get(track_id)
                if not self.in_zone(zone, person.anchor):
                    if state is not None:
                        memory.put(track_id, state, now)
                    continue
                recent = state is not None and now - state.last_inside <= EXIT_GRACE_SECONDS
                entered = state.entered if state is not None and recent else now
                memory.put(track_id, _Dwell(entered, now), now)
                if now - entered > limit:
                    loitering.append(
                        (now - entered, track_id, person.track.score, person.track.box)
                    )
            observations.append(
                Observation(
                    rule=self.name,
                    zone=zone_name,
                    active=bool(loitering),
                    score=round(max((item[2] for item in loitering), default=0.0), 4),
                    boxes=tuple(item[3] for item in loitering),
                    track_ids=tuple(item[1] for item in loitering),
                    detail={"dwell_seconds": round(max((i[0] for i in loitering), default=0.0), 1)},
                )
            )
        return observations
