"""Fight rule: two or more people close together, all with fast limb motion, and a model.

Two stages. The **pose gate** (below) decides *when* to look: a group of nearby people
whose limbs all move fast. While it is open, the pipeline cuts a clip around that group and
a learned video model (``fight-mc3-18``, docs/models.md) judges it
(:mod:`detectors.pipeline.fight_stage`); its latest verdict reaches this rule through
``FrameAnalysis.extra[FIGHT_CLIP_KEY]``. ``method`` says who decides a frame is "fight":

* ``both`` (default): the pose gate is open on this frame *and* the model's fresh verdict
  on a clip around the same people is at least ``model_score``. Dancing and rough play
  pass the gate; the model has to agree. K-of-M confirmation counts these frames.
* ``model``: the model alone, on frames while the gate is open or was open in the last
  :data:`GATE_HOLD_SECONDS` (fight poses flicker; the model does not need every frame).
* ``pose``: the gate alone (the heuristic as it was before the model existed).

When no fight model is installed ``FIGHT_CLIP_KEY`` is absent and ``both``/``model`` fall
back to ``pose``; the observation's detail says so. The detail carries both scores.

The pose cue is limb motion *relative to the body*: each person's wrists and elbows are
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
* ``model_score`` 0.95: P(fight) the model must reach. On footage without fights, with
  the gate held open on every pair of people, the model's highest score was 0.935 (brisk
  walking at three times normal speed) and 0.61 on vtest.avi (docs/models.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

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
    unit_interval,
)
from detectors.types import BoxXYXY, FrameAnalysis, Pose

type Method = Literal["pose", "model", "both"]

METHODS: tuple[Method, ...] = ("pose", "model", "both")
FIGHT_CLIP_KEY = "fight_clip"
"""``FrameAnalysis.extra`` key of the fight model's latest verdict (a :class:`FightClipScore`
or ``None`` before the first clip); absent when no fight model is installed."""

GATE_HOLD_SECONDS = 3.0
"""The gate stays open this long after the last frame the pose cue fired on: one clip at
the model's 8 fps takes 2 s, and frames come with jitter, so a clip started on a flicker of
motion is still finished and judged."""

LIMB_KEYPOINTS = ("left_wrist", "right_wrist", "left_elbow", "right_elbow")
KEYPOINT_MIN_SCORE = 0.3
"""Keypoints scoring below this are unseen; their jumps are the model's noise, not motion."""

MAX_SAMPLE_GAP = 1.0
"""Two pose samples further apart than this (seconds) do not give a speed: too much can
happen in between, and a long gap divides a big jump into a misleadingly calm speed."""


@dataclass(frozen=True, slots=True)
class FightClipScore:
    """The fight model's verdict on one clip: P(fight), where and when the clip was cut.

    ``valid_until`` is the last frame time the verdict may be used for: a verdict is about
    the two seconds it saw, not about what happens a minute later.
    """

    fight: float
    window: BoxXYXY
    started_at: float
    ended_at: float
    valid_until: float

    def about(self, boxes: tuple[BoxXYXY, ...]) -> bool:
        """Whether the clip was cut around these people (their centre is in the window)."""
        cx = sum((b[0] + b[2]) / 2 for b in boxes) / len(boxes)
        cy = sum((b[1] + b[3]) / 2 for b in boxes) / len(boxes)
        x1, y1, x2, y2 = self.window
        return x1 <= cx <= x2 and y1 <= cy <= y2


@dataclass(frozen=True, slots=True)
class FightGate:
    """The group the pose cue fired on in one frame: where the clip should be cut."""

    timestamp: float
    boxes: tuple[BoxXYXY, ...]
    track_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Group:
    """What the pose cue saw of one zone's group at one time (internal)."""

    timestamp: float
    boxes: tuple[BoxXYXY, ...]
    track_ids: tuple[int, ...]
    limb_speeds: tuple[float, ...]
    pose_score: float


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
            vol.Optional("method", default="both"): vol.In(
                METHODS, msg=f"expected one of {', '.join(METHODS)}"
            ),
            vol.Optional("model_score", default=0.95): unit_interval(),
        },
    )

    def __init__(
        self, options: Mapping[str, Any], zones: Mapping[str, Zone], lines: Mapping[str, Line]
    ) -> None:
        """Create the rule with an empty per-track limb history."""
        super().__init__(options, zones, lines)
        self._history: TrackMemory[_Sample] = TrackMemory()
        self._groups: dict[str | None, _Group] = {}
        self.gate: FightGate | None = None
        """The largest group the pose cue fired on in the last frame evaluated, if any."""

    @property
    def method(self) -> Method:
        """Who decides that a frame is "fight" (``both`` unless configured)."""
        method: Method = self.options["method"]
        return method

    def reset(self) -> None:
        """Forget every person's limb history, the groups seen and the gate."""
        self._history.clear()
        self._groups.clear()
        self.gate = None

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
        installed = FIGHT_CLIP_KEY in frame.extra
        clip = frame.extra.get(FIGHT_CLIP_KEY)
        if not isinstance(clip, FightClipScore) or frame.timestamp > clip.valid_until:
            clip = None
        method: Method = self.method if installed else "pose"
        self.gate = None
        observations: list[Observation] = []
        for zone in self.watched_zones():
            zone_name = zone.name if zone is not None else None
            here = [person for person in agitated if self.in_zone(zone, person.anchor)]
            members = self._largest_group(here)
            pose_active = len(members) >= self.options["min_people"]
            if pose_active:
                group = self._remember(zone_name, members, speeds, frame.timestamp)
                if self.gate is None or len(group.boxes) > len(self.gate.boxes):
                    self.gate = FightGate(frame.timestamp, group.boxes, group.track_ids)
            observations.append(
                self._observe(
                    zone_name,
                    timestamp=frame.timestamp,
                    pose_active=pose_active,
                    method=method,
                    installed=installed,
                    clip=clip,
                )
            )
        return observations

    def _remember(
        self,
        zone: str | None,
        members: list[Person],
        speeds: Mapping[int, float],
        timestamp: float,
    ) -> _Group:
        pose_scores = [p.track.pose.score for p in members if p.track.pose is not None]
        group = _Group(
            timestamp=timestamp,
            boxes=tuple(person.track.box for person in members),
            track_ids=tuple(person.track.track_id for person in members),
            limb_speeds=tuple(round(speeds[person.track.track_id], 2) for person in members),
            pose_score=round(sum(pose_scores) / len(pose_scores), 4),
        )
        self._groups[zone] = group
        return group

    def _observe(
        self,
        zone: str | None,
        *,
        timestamp: float,
        pose_active: bool,
        method: Method,
        installed: bool,
        clip: FightClipScore | None,
    ) -> Observation:
        """One zone's observation: who agreed, and both scores in the detail."""
        group = self._groups.get(zone)
        held = group is not None and 0.0 <= timestamp - group.timestamp <= GATE_HOLD_SECONDS
        if group is None or not (pose_active or (method == "model" and held)):
            return Observation(self.name, zone, False, 0.0)
        model_score = round(clip.fight, 4) if clip is not None and clip.about(group.boxes) else None
        model_agrees = model_score is not None and model_score >= self.options["model_score"]
        if method == "pose":
            active, score = pose_active, group.pose_score
        elif method == "both":
            active, score = pose_active and model_agrees, model_score or 0.0
        else:
            active, score = model_agrees, model_score or 0.0
        detail: dict[str, object] = {
            "method": method,
            "people": len(group.boxes),
            "limb_speeds": list(group.limb_speeds),
            "pose_score": group.pose_score,
            "model_score": model_score,
        }
        if not installed and self.method != "pose":
            detail["model_skipped"] = "fight model not installed"
        return Observation(
            rule=self.name,
            zone=zone,
            active=active,
            score=score,
            boxes=group.boxes,
            track_ids=group.track_ids,
            detail=detail,
        )

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
