"""Person-down rule: the same person lying down for a while (fall, medical emergency).

Posture comes from the pose when the torso is visible: the line from the hips to the
shoulders more than ``lying_angle`` degrees from vertical, *and* the person box wider
than tall (both, so a person bending to tie a shoe — torso tilted, box still tall — is
not lying). Without a usable torso the box alone decides (``box_ratio`` width/height),
weighted down by ``box_only_weight`` because a wide box is also what a person sitting
sideways on a bench or a detector merging two people looks like.

Defaults, and why:

* ``seconds`` 10: people trip and get up within seconds; someone still down after ten
  needs a look. The timer runs per track and survives a pose flicker shorter than one
  second.
* ``min_score`` 0.3 on the lying score (the person's detection score, times
  ``box_only_weight`` 0.35 without pose): box-only evidence needs a detection score of
  at least 0.86 to count. Upright-trained detectors miss lying people, so a lying person is
  often seen only through the pose model (scores 0.35-0.4 on a person rotated 90 degrees
  in person.jpg, measured); the torso angle, the 10 s hold and K-of-M guard precision.
* ``suppress_zones``: zones (gym mats, nurse's office beds) where lying is normal.
* ``confirm`` 3 of 5 on top of the hold time.

Evidence beyond the upright pass (``Track.evidence``, from the lying-person search in
``detectors/pipeline/lying_search.py``): a person found by the detector in a view turned
90° (``rotated_sweep``) is lying by construction, so their detection score counts in full
when the box is wider than tall; a track that was upright shortly before it lay down, or a
candidate found where an upright track was lost (``fall_transition``), also lets box-only
evidence count in full, because sitting on a bench never starts from a fall. Every
observation names the evidence in ``detail``: ``method`` (what made the posture lying:
``rotated_sweep``, ``pose``, ``box``) and ``methods`` (everything that agreed, e.g.
``fall_model`` as a second opinion), which the incident log keeps with the alert.

``search`` holds the options of the lying-person search itself (its budget), read by the
frame processor, not by this rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import voluptuous as vol

from detectors.rules.base import (
    Line,
    Observation,
    Person,
    Rule,
    TrackMemory,
    Zone,
    names_list,
    number,
    people,
    rule_schema,
    seconds,
    unit_interval,
)
from detectors.types import FrameAnalysis

KEYPOINT_MIN_SCORE = 0.3
LYING_GRACE_SECONDS = 1.0
"""A lying posture missed for up to this long (pose flicker) does not restart the timer."""
TRANSITION_SECONDS = 5.0
"""Upright this recently before lying down: the person fell (or lay down) in view."""
UPRIGHT_RATIO = 1.5
"""A box this much taller than wide, with no torso saying otherwise, is a person upright."""
UPRIGHT_TORSO_DEGREES = 30.0

ROTATED_SWEEP = "rotated_sweep"
FALL_TRANSITION = "fall_transition"
FALL_MODEL = "fall_model"
SEARCH_METHODS = (ROTATED_SWEEP, FALL_TRANSITION, FALL_MODEL)
"""Methods of the lying-person search (``search.methods``); also evidence names."""

SEARCH_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=True): bool,
        vol.Optional("interval_seconds", default=0.5): seconds(0.1),
        vol.Optional("budget", default=0.25): unit_interval(),
        vol.Optional("still_interval_seconds", default=4.0): seconds(0.5),
        vol.Optional("fall_model_seconds", default=2.0): seconds(0.5),
        vol.Optional("methods", default=list(SEARCH_METHODS)): vol.All(
            [vol.In(SEARCH_METHODS)], vol.Length(min=1), names_list
        ),
    }
)
"""Options of the lying-person search (defaults and why: docs/pipeline.md)."""


@dataclass(frozen=True)
class _Lying:
    """A track's lying episode: when it started, last seen lying, and what showed it."""

    since: float
    last: float
    fell: bool = False
    methods: frozenset[str] = frozenset()


class PersonDownRule(Rule):
    """Raise when a tracked person keeps a lying posture for ``seconds``."""

    name: ClassVar[str] = "person_down"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = rule_schema(
        k=3,
        m=5,
        min_score=0.3,
        quiet_seconds=10.0,
        cooldown_seconds=60.0,
        specific={
            vol.Optional("seconds", default=10.0): seconds(),
            vol.Optional("suppress_zones", default=None): vol.Any(None, names_list),
            vol.Optional("lying_angle", default=60.0): vol.All(
                vol.Coerce(float), vol.Range(min=0.0, max=90.0)
            ),
            vol.Optional("box_ratio", default=1.3): number(minimum=1.0),
            vol.Optional("box_only_weight", default=0.35): unit_interval(),
            vol.Optional("search", default={}): SEARCH_SCHEMA,
        },
    )

    def __init__(
        self, options: Mapping[str, Any], zones: Mapping[str, Zone], lines: Mapping[str, Line]
    ) -> None:
        """Resolve the suppressing zones and start with no lying timers."""
        super().__init__(options, zones, lines)
        self.suppress_zones = tuple(
            self.zone(name, "suppress_zones") for name in self.options["suppress_zones"] or ()
        )
        self._lying: TrackMemory[_Lying] = TrackMemory()
        self._upright: TrackMemory[float] = TrackMemory()

    @property
    def search_options(self) -> dict[str, Any]:
        """The validated ``search`` options (for the frame processor's lying search)."""
        return dict(self.options["search"])

    def reset(self) -> None:
        """Forget every lying timer."""
        self._lying.clear()
        self._upright.clear()

    def lying_score(self, person: Person, fell: bool = False) -> float:
        """Return how strongly this frame shows ``person`` lying (0 = not lying)."""
        return self.lying_evidence(person, fell)[0]

    def lying_evidence(self, person: Person, fell: bool = False) -> tuple[float, str]:
        """Return the lying score of ``person`` and the method that gave it.

        ``fell`` says the track was upright just before, which lets box-only evidence
        count in full.
        """
        if any(zone.contains(person.anchor) for zone in self.suppress_zones):
            return 0.0, ""
        x1, y1, x2, y2 = person.track.box
        width, height = x2 - x1, max(1e-6, y2 - y1)
        if ROTATED_SWEEP in person.track.evidence:
            return (person.track.score, ROTATED_SWEEP) if width > height else (0.0, "")
        angle = self._torso_angle(person)
        if angle is not None:
            lying = angle > self.options["lying_angle"] and width > height
            return (person.track.score, "pose") if lying else (0.0, "")
        if width / height > self.options["box_ratio"]:
            weight = 1.0 if fell else float(self.options["box_only_weight"])
            return person.track.score * weight, "box"
        return 0.0, ""

    def _is_upright(self, person: Person) -> bool:
        """Standing or walking in this frame (the start of a possible fall)."""
        if person.track.evidence:
            return False
        x1, y1, x2, y2 = person.track.box
        angle = self._torso_angle(person)
        if angle is not None:
            return angle < UPRIGHT_TORSO_DEGREES
        return y2 - y1 >= UPRIGHT_RATIO * (x2 - x1)

    @staticmethod
    def _torso_angle(person: Person) -> float | None:
        """Return the hips-to-shoulders angle from vertical in degrees, if visible."""
        pose = person.track.pose
        if pose is None:
            return None
        shoulders = [
            pose.keypoint(n)
            for n in ("left_shoulder", "right_shoulder")
            if pose.keypoint(n)[2] >= KEYPOINT_MIN_SCORE
        ]
        hips = [
            pose.keypoint(n)
            for n in ("left_hip", "right_hip")
            if pose.keypoint(n)[2] >= KEYPOINT_MIN_SCORE
        ]
        if not shoulders or not hips:
            return None
        sx = sum(k[0] for k in shoulders) / len(shoulders)
        sy = sum(k[1] for k in shoulders) / len(shoulders)
        hx = sum(k[0] for k in hips) / len(hips)
        hy = sum(k[1] for k in hips) / len(hips)
        if sx == hx and sy == hy:
            return None
        return math.degrees(math.atan2(abs(sx - hx), abs(sy - hy)))

    def evaluate(self, frame: FrameAnalysis) -> list[Observation]:
        """Advance each track's lying timer and report tracks held long enough."""
        now = frame.timestamp
        self._lying.prune(now)
        self._upright.prune(now)
        down: list[tuple[Person, float, float, _Lying, str]] = []
        for person in people(frame, 0.0):
            track_id = person.track.track_id
            state = self._lying.get(track_id)
            ongoing = state is not None and now - state.last <= LYING_GRACE_SECONDS
            if state is not None and ongoing:
                fell = state.fell
            else:
                upright_at = self._upright.get(track_id)
                fell = upright_at is not None and now - upright_at <= TRANSITION_SECONDS
            fell = fell or FALL_TRANSITION in person.track.evidence
            score, method = self.lying_evidence(person, fell)
            if score <= 0.0:
                if state is not None:
                    self._lying.put(track_id, state, now)
                if self._is_upright(person):
                    self._upright.put(track_id, now, now)
                continue
            agreed = {method, *person.track.evidence} | ({FALL_TRANSITION} if fell else set())
            if state is not None and ongoing:
                state = _Lying(state.since, now, fell, state.methods | agreed)
            else:
                state = _Lying(now, now, fell, frozenset(agreed))
            self._lying.put(track_id, state, now)
            held = now - state.since
            if held >= self.options["seconds"]:
                down.append((person, score, held, state, method))
        observations: list[Observation] = []
        for zone in self.watched_zones():
            zone_name = zone.name if zone is not None else None
            here = [item for item in down if self.in_zone(zone, item[0].anchor)]
            if not here:
                observations.append(Observation(self.name, zone_name, False, 0.0))
                continue
            counted = [item for item in here if item[1] >= self.min_score]
            best = max(here, key=lambda item: item[1])
            observations.append(
                Observation(
                    rule=self.name,
                    zone=zone_name,
                    active=bool(counted),
                    score=round(best[1], 4),
                    boxes=tuple(item[0].track.box for item in counted),
                    track_ids=tuple(item[0].track.track_id for item in counted),
                    detail={
                        "held_seconds": round(best[2], 1),
                        "method": best[4],
                        "methods": sorted(best[3].methods),
                    },
                )
            )
        return observations
