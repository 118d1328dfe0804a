"""Fight rule: two or more people close together, all with fast limb motion.

The cue is limb motion *relative to the body*: each person's wrists and elbows are
compared between consecutive analysed frames after subtracting how far the whole body
moved, and divided by the body's height so the threshold means the same near and far
from the camera. Walking swings the hands at well under one body height per second, and
running moves the body, not the hands relative to it; punches and grappling move fists
at several body heights per second.

Defaults, and why:

* ``min_people`` 2 within ``proximity`` 1.0 body heights (centre to centre): people
  fighting are within arm's reach; a person waving alone is not a fight.
* ``limb_speed`` 2.5 body heights per second on *every* member of the group: one person
  gesturing while talking to a calm friend does not count.
* ``min_score`` 0.3: poses scoring below it (MoveNet's person score) are ignored; the
  observation's score is the mean pose score of the people in the group.
* ``confirm`` 4 of 6: horseplay lasts a moment, a fight goes on; two thirds of a window
  of about a second at 5 analysed frames per second.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import voluptuous as vol

from detectors.geometry import box_center
from detectors.rules.base import (
    Line,
    Observation,
    Person,
    Rule,
    TrackMemory,
    Zone,
    number,
    people,
    rule_schema,
)
from detectors.types import FrameAnalysis, Pose

LIMB_KEYPOINTS = ("left_wrist", "right_wrist", "left_elbow", "right_elbow")
KEYPOINT_MIN_SCORE = 0.3
"""Keypoints scoring below this are unseen; their jumps are the model's noise, not motion."""

MAX_SAMPLE_GAP = 1.0
"""Two pose samples further apart than this (seconds) do not give a speed: too much can
happen in between, and a long gap divides a big jump into a misleadingly calm speed."""


@dataclass(frozen=True)
class _Sample:
    """One person's limb positions at one time (internal)."""

    timestamp: float
    center: tuple[float, float]
    limbs: dict[str, tuple[float, float]]
    speed: float


def _limbs(pose: Pose) -> dict[str, tuple[float, float]]:
    return {
        name: (pose.keypoint(name)[0], pose.keypoint(name)[1])
        for name in LIMB_KEYPOINTS
        if pose.keypoint(name)[2] >= KEYPOINT_MIN_SCORE
    }


class FightRule(Rule):
    """Raise when a group of nearby people all move their limbs fast."""

    name: ClassVar[str] = "fight"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = rule_schema(
        k=4,
        m=6,
        min_score=0.3,
        quiet_seconds=10.0,
        cooldown_seconds=30.0,
        specific={
            vol.Optional("min_people", default=2): vol.All(int, vol.Range(min=2)),
            vol.Optional("proximity", default=1.0): number(minimum=0.05),
            vol.Optional("limb_speed", default=2.5): number(minimum=0.1),
        },
    )

    def __init__(
        self, options: Mapping[str, Any], zones: Mapping[str, Zone], lines: Mapping[str, Line]
    ) -> None:
        """Create the rule with an empty per-track limb history."""
        super().__init__(options, zones, lines)
        self._history: TrackMemory[_Sample] = TrackMemory()

    def reset(self) -> None:
        """Forget every person's limb history."""
        self._history.clear()

    def evaluate(self, frame: FrameAnalysis) -> list[Observation]:
        """Update limb speeds and look for agitated groups in each zone."""
        self._history.prune(frame.timestamp)
        posed = [
            person
            for person in people(frame, 0.0)
            if person.track.pose is not None and person.track.pose.score >= self.min_score
        ]
        speeds = {person.track.track_id: self._update(person, frame.timestamp) for person in posed}
        limit = float(self.options["limb_speed"])
        agitated = [person for person in posed if speeds[person.track.track_id] > limit]
        observations: list[Observation] = []
        for zone in self.watched_zones():
            zone_name = zone.name if zone is not None else None
            here = [person for person in agitated if self.in_zone(zone, person.anchor)]
            group = self._largest_group(here)
            if len(group) < self.options["min_people"]:
                observations.append(Observation(self.name, zone_name, False, 0.0))
                continue
            pose_scores = [p.track.pose.score for p in group if p.track.pose is not None]
            observations.append(
                Observation(
                    rule=self.name,
                    zone=zone_name,
                    active=True,
                    score=round(sum(pose_scores) / len(pose_scores), 4),
                    boxes=tuple(person.track.box for person in group),
                    track_ids=tuple(person.track.track_id for person in group),
                    detail={
                        "people": len(group),
                        "limb_speeds": [
                            round(speeds[person.track.track_id], 2) for person in group
                        ],
                    },
                )
            )
        return observations

    def _update(self, person: Person, timestamp: float) -> float:
        """Store this frame's sample and return the relative limb speed (heights/s)."""
        pose = person.track.pose
        assert pose is not None
        center = box_center(person.track.box)
        limbs = _limbs(pose)
        previous = self._history.get(person.track.track_id)
        speed = 0.0
        if previous is not None:
            elapsed = timestamp - previous.timestamp
            if elapsed <= 0.0:
                return previous.speed
            if elapsed <= MAX_SAMPLE_GAP:
                body_dx = center[0] - previous.center[0]
                body_dy = center[1] - previous.center[1]
                for name, (x, y) in limbs.items():
                    before = previous.limbs.get(name)
                    if before is None:
                        continue
                    moved = math.hypot(x - before[0] - body_dx, y - before[1] - body_dy)
                    speed = max(speed, moved / elapsed / person.height)
        self._history.put(
            person.track.track_id, _Sample(timestamp, center, limbs, speed), timestamp
        )
        return speed

    def _largest_group(self, candidates: list[Person]) -> list[Person]:
        """Return the largest set of people linked by "within proximity" steps."""
        proximity = float(self.options["proximity"])
        best: list[Person] = []
        unvisited = list(candidates)
        while unvisited:
            group = [unvisited.pop(0)]
            index = 0
            while index < len(group):
                member = group[index]
                near = [other for other in unvisited if self._near(member, other, proximity)]
                for other in near:
                    unvisited.remove(other)
                group.extend(near)
                index += 1
            if len(group) > len(best):
                best = group
        return sorted(best, key=lambda person: person.track.track_id)

    @staticmethod
    def _near(a: Person, b: Person, proximity: float) -> bool:
        ca = box_center(a.track.box)
        cb = box_center(b.track.box)
        mean_height = (a.height + b.height) / 2.0
        return math.hypot(ca[0] - cb[0], ca[1] - cb[1]) <= proximity * mean_height
