"""Weapon rule: a weapon-model detection, or a COCO weak cue held in a hand.

Defaults, and why:

* ``weapon_labels`` are the firearm classes weapon models report (``pistol``,
  ``handgun``, ``rifle``, ``shotgun``, ``gun``, ``firearm``), counted at full score.
  ``knife`` is deliberately not among them, because the default COCO detector also says
  ``knife`` for cutlery; a weapon model whose knife class should count fully can be
  listed here once ``knife`` is removed from ``weak_cue_labels`` (a label cannot be both).
* ``min_score`` 0.6: a frame counts only when its best weapon score reaches it.
* ``weak_cue_labels`` ``knife`` and ``baseball bat`` (COCO) at ``weak_cue_min_score`` 0.5
  count only half (``weak_cue_factor``) unless the object is in someone's hand — near a
  wrist keypoint, or in the upper part of a person box when there is no usable pose. At
  half weight no weak cue can reach 0.6, so a COCO detection lying on a table never
  raises an alert, and one in a hand needs a confident 0.6.
* ``confirm`` 3 of 5: a weapon glimpsed in three of five frames, not one. A false weapon
  alert sends armed officers to a child; three agreeing frames cost well under a second
  at normal detection rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import voluptuous as vol

from detectors.geometry import anchor_point, box_iou, distance_point_to_box
from detectors.rules.base import (
    PERSON_LABEL,
    Observation,
    Rule,
    names_list,
    rule_schema,
    unit_interval,
)
from detectors.types import BoxXYXY, Detection, FrameAnalysis, Pose

DEFAULT_WEAPON_LABELS = ["pistol", "handgun", "rifle", "shotgun", "gun", "firearm"]
DEFAULT_WEAK_CUE_LABELS = ["knife", "baseball bat"]

WRIST_KEYPOINTS = ("left_wrist", "right_wrist")
KEYPOINT_MIN_SCORE = 0.3
"""Wrists below this keypoint score are treated as unseen."""

HAND_REACH = 0.25
"""An object within this fraction of the person's height from a wrist is in hand."""

UPPER_BODY_FRACTION = 0.65
"""Without a pose, the top 65 % of a person box (head to just below the hips) is where a
held object appears; the legs and the floor around the feet are not."""

SIDE_MARGIN = 0.25
"""Without a pose, an object may stick out sideways by a quarter of the box width."""


def _no_overlap(options: dict[str, Any]) -> dict[str, Any]:
    both = set(options["weapon_labels"]) & set(options["weak_cue_labels"])
    if both:
        raise vol.Invalid(
            f"labels {sorted(both)} are in both weapon_labels and weak_cue_labels; "
            "a label must be one or the other"
        )
    return options


@dataclass(frozen=True)
class _Holder:
    """A person who could hold an object: their box and pose (either may be missing)."""

    box: BoxXYXY
    pose: Pose | None


class WeaponRule(Rule):
    """Raise on weapon-model classes, or COCO weak cues held near a hand."""

    name: ClassVar[str] = "weapon"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        vol.All(
            rule_schema(
                k=3,
                m=5,
                min_score=0.6,
                quiet_seconds=10.0,
                cooldown_seconds=30.0,
                specific={
                    vol.Optional("weapon_labels", default=DEFAULT_WEAPON_LABELS): names_list,
                    vol.Optional("weak_cue_labels", default=DEFAULT_WEAK_CUE_LABELS): [str],
                    vol.Optional("weak_cue_min_score", default=0.5): unit_interval(),
                    vol.Optional("weak_cue_factor", default=0.5): unit_interval(),
                },
            ),
            _no_overlap,
        )
    )

    def evaluate(self, frame: FrameAnalysis) -> list[Observation]:
        """Score every weapon or weak-cue detection and keep the best per zone."""
        holders = self._holders(frame)
        scored: list[tuple[float, Detection, bool, tuple[float, float]]] = []
        weapon_labels = set(self.options["weapon_labels"])
        weak_labels = set(self.options["weak_cue_labels"])
        for detection in frame.detections:
            if detection.label in weapon_labels:
                holder = self._holder_of(detection.box, holders)
                where = holder.box if holder is not None else detection.box
                scored.append(
                    (detection.score, detection, False, anchor_point(where, frame.frame_size))
                )
            elif (
                detection.label in weak_labels
                and detection.score >= self.options["weak_cue_min_score"]
            ):
                holder = self._holder_of(detection.box, holders)
                factor = 1.0 if holder is not None else self.options["weak_cue_factor"]
                where = holder.box if holder is not None else detection.box
                scored.append(
                    (
                        detection.score * factor,
                        detection,
                        True,
                        anchor_point(where, frame.frame_size),
                    )
                )
        observations: list[Observation] = []
        for zone in self.watched_zones():
            inside = [item for item in scored if self.in_zone(zone, item[3])]
            zone_name = zone.name if zone is not None else None
            if not inside:
                observations.append(Observation(self.name, zone_name, False, 0.0))
                continue
            counted = [item for item in inside if item[0] >= self.min_score]
            best = max(inside, key=lambda item: item[0])
            observations.append(
                Observation(
                    rule=self.name,
                    zone=zone_name,
                    active=bool(counted),
                    score=round(best[0], 4),
                    boxes=tuple(item[1].box for item in counted),
                    detail={
                        "label": best[1].label,
                        "detector_score": round(best[1].score, 4),
                        "weak_cue": best[2],
                    },
                )
            )
        return observations

    @staticmethod
    def _holders(frame: FrameAnalysis) -> list[_Holder]:
        """Collect people from tracks, person detections and bare poses (no duplicates)."""
        holders: list[_Holder] = [
            _Holder(track.box, track.pose) for track in frame.tracks if track.label == PERSON_LABEL
        ]
        attached = [holder.pose for holder in holders if holder.pose is not None]
        holders.extend(_Holder(pose.box, pose) for pose in frame.poses if pose not in attached)
        for detection in frame.detections:
            if detection.label == PERSON_LABEL and all(
                box_iou(detection.box, holder.box) < 0.5 for holder in holders
            ):
                holders.append(_Holder(detection.box, None))
        return holders

    @staticmethod
    def _holder_of(box: BoxXYXY, holders: Sequence[_Holder]) -> _Holder | None:
        """Return the first person holding ``box``, or ``None``."""
        for holder in holders:
            if _in_hand(box, holder):
                return holder
        return None


def _in_hand(box: BoxXYXY, holder: _Holder) -> bool:
    """Tell whether an object box is where this person's hands are."""
    height = max(1.0, holder.box[3] - holder.box[1])
    if holder.pose is not None:
        wrists = [
            holder.pose.keypoint(name)
            for name in WRIST_KEYPOINTS
            if holder.pose.keypoint(name)[2] >= KEYPOINT_MIN_SCORE
        ]
        if wrists:
            return any(
                distance_point_to_box(x, y, box) <= HAND_REACH * height for x, y, _s in wrists
            )
    width = holder.box[2] - holder.box[0]
    cx = (box[0] + box[2]) / 2.0
    cy = (box[1] + box[3]) / 2.0
    return (
        holder.box[0] - SIDE_MARGIN * width <= cx <= holder.box[2] + SIDE_MARGIN * width
        and holder.box[1] <= cy <= holder.box[1] + UPPER_BODY_FRACTION * height
    )
