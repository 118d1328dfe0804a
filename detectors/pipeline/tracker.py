"""Multi-object tracker: gives detections stable ids across frames.

Rules need identity over time (the same person lying for 10 s, the same track dwelling in
a zone, the same person's wrists moving fast), never identity of a person: ids are
small integers that mean nothing outside this tracker.

Design, chosen for CCTV at a few analysed frames per second on a CPU:

* association is greedy by IoU between each track's *predicted* box and each detection
  of the same label (scipy is not available for Hungarian matching, and with the sparse
  scenes of school corridors greedy matching gives the same pairs almost always);
* prediction is an alpha-beta filter (a steady-state constant-velocity Kalman filter) on
  the box centre, with the box size smoothed, so a person walking between two analysed
  frames still overlaps their predicted box;
* a track is reported only after ``min_hits`` matches, so a single spurious detection
  never reaches the rules, and is forgotten ``max_age_seconds`` after its last match.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from detectors.geometry import box_center, box_iou
from detectors.types import BoxXYXY, Detection, Evidence, Pose, Track

PERSON_LABEL = "person"

POSITION_GAIN = 0.7
"""Alpha: how much of the measured centre replaces the predicted one (responsive boxes)."""

VELOCITY_GAIN = 0.3
"""Beta: how much of the innovation feeds the velocity (damps keypoint-free jitter)."""

SIZE_GAIN = 0.5
"""Smoothing of the box width/height used for prediction."""

POSE_MIN_IOU = 0.25
"""Pose boxes hug the keypoints and are tighter than detector boxes, so a lower bar than
the association threshold still pairs each pose with the right person."""


@dataclass
class _TrackState:
    """Mutable filter state of one track (internal)."""

    track_id: int
    label: str
    score: float
    box: BoxXYXY
    first_seen: float
    last_seen: float
    hits: int
    center: tuple[float, float]
    size: tuple[float, float]
    velocity: tuple[float, float] = (0.0, 0.0)
    evidence: Evidence = ()

    def predicted_box(self, timestamp: float) -> BoxXYXY:
        """Return where the box should be at ``timestamp`` under constant velocity."""
        elapsed = max(0.0, timestamp - self.last_seen)
        cx = self.center[0] + self.velocity[0] * elapsed
        cy = self.center[1] + self.velocity[1] * elapsed
        half_w, half_h = self.size[0] / 2.0, self.size[1] / 2.0
        return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)

    def correct(self, detection: Detection, timestamp: float) -> None:
        """Fold a matched detection into the filter."""
        elapsed = timestamp - self.last_seen
        measured = box_center(detection.box)
        width = detection.box[2] - detection.box[0]
        height = detection.box[3] - detection.box[1]
        if elapsed > 0.0:
            predicted = (
                self.center[0] + self.velocity[0] * elapsed,
                self.center[1] + self.velocity[1] * elapsed,
            )
            residual = (measured[0] - predicted[0], measured[1] - predicted[1])
            if self.hits == 1:
                # Second sighting: the first velocity estimate is simply the displacement.
                self.velocity = (
                    (measured[0] - self.center[0]) / elapsed,
                    (measured[1] - self.center[1]) / elapsed,
                )
                self.center = measured
            else:
                self.velocity = (
                    self.velocity[0] + VELOCITY_GAIN * residual[0] / elapsed,
                    self.velocity[1] + VELOCITY_GAIN * residual[1] / elapsed,
                )
                self.center = (
                    predicted[0] + POSITION_GAIN * residual[0],
                    predicted[1] + POSITION_GAIN * residual[1],
                )
        else:
            self.center = measured
        self.size = (
            self.size[0] + SIZE_GAIN * (width - self.size[0]),
            self.size[1] + SIZE_GAIN * (height - self.size[1]),
        )
        self.box = detection.box
        self.score = detection.score
        self.evidence = detection.evidence
        self.last_seen = max(self.last_seen, timestamp)
        self.hits += 1


class Tracker:
    """IoU + alpha-beta tracker for one camera; call :meth:`update` once per analysed frame."""

    def __init__(
        self,
        *,
        iou_threshold: float = 0.3,
        max_age_seconds: float = 2.0,
        min_hits: int = 2,
        labels: Collection[str] | None = None,
    ) -> None:
        """Create an empty tracker.

        ``labels`` limits tracking to these detector labels (``None`` tracks everything);
        weapons, for instance, are judged frame by frame and need no identity.
        """
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
        if min_hits < 1:
            raise ValueError(f"min_hits must be >= 1, got {min_hits}")
        self._iou_threshold = iou_threshold
        self._max_age = max_age_seconds
        self._min_hits = min_hits
        self._labels = frozenset(labels) if labels is not None else None
        self._tracks: list[_TrackState] = []
        self._next_id = 1

    def update(
        self,
        detections: Sequence[Detection],
        timestamp: float,
        poses: Sequence[Pose] = (),
    ) -> tuple[Track, ...]:
        """Match ``detections`` to tracks and return the confirmed tracks seen this frame.

        Tracks missed this frame are kept (not returned) until ``max_age_seconds`` pass,
        so a person hidden for a moment keeps their id. A new track missed before it is
        confirmed is dropped at once: it was most likely a false detection.
        """
        wanted = [d for d in detections if self._labels is None or d.label in self._labels]
        matched_tracks, matched_detections = self._associate(wanted, timestamp)
        seen: list[_TrackState] = []
        for track_index, detection_index in zip(matched_tracks, matched_detections, strict=True):
            state = self._tracks[track_index]
            state.correct(wanted[detection_index], timestamp)
            seen.append(state)
        unmatched = set(range(len(self._tracks))) - set(matched_tracks)
        survivors = [
            state
            for index, state in enumerate(self._tracks)
            if index not in unmatched
            or (state.hits >= self._min_hits and timestamp - state.last_seen <= self._max_age)
        ]
        taken = set(matched_detections)
        for index, detection in enumerate(wanted):
            if index in taken:
                continue
            state = self._new_track(detection, timestamp)
            survivors.append(state)
            seen.append(state)
        self._tracks = survivors
        confirmed = [state for state in seen if state.hits >= self._min_hits]
        confirmed.sort(key=lambda state: state.track_id)
        pose_of = self._attach_poses(confirmed, poses)
        return tuple(
            Track(
                track_id=state.track_id,
                label=state.label,
                score=state.score,
                box=state.box,
                first_seen=state.first_seen,
                last_seen=state.last_seen,
                hits=state.hits,
                velocity=state.velocity,
                pose=pose_of.get(state.track_id),
                evidence=state.evidence,
            )
            for state in confirmed
        )

    def _new_track(self, detection: Detection, timestamp: float) -> _TrackState:
        box = detection.box
        state = _TrackState(
            track_id=self._next_id,
            label=detection.label,
            score=detection.score,
            box=box,
            first_seen=timestamp,
            last_seen=timestamp,
            hits=1,
            center=box_center(box),
            size=(box[2] - box[0], box[3] - box[1]),
            evidence=detection.evidence,
        )
        self._next_id += 1
        return state

    def _associate(
        self, detections: Sequence[Detection], timestamp: float
    ) -> tuple[list[int], list[int]]:
        """Pair tracks and detections greedily by descending IoU above the threshold.

        The IoU is the better of the predicted box and the last measured box: prediction
        follows walkers, the last box keeps a person who stopped abruptly.
        """
        candidates: list[tuple[float, int, int]] = []
        for track_index, state in enumerate(self._tracks):
            if timestamp - state.last_seen > self._max_age:
                continue
            predicted = state.predicted_box(timestamp)
            for detection_index, detection in enumerate(detections):
                if detection.label != state.label:
                    continue
                iou = max(box_iou(predicted, detection.box), box_iou(state.box, detection.box))
                if iou >= self._iou_threshold:
                    candidates.append((iou, track_index, detection_index))
        # Ties go to the older track so ids stay with the object that had them first.
        candidates.sort(key=lambda item: (-item[0], self._tracks[item[1]].track_id, item[2]))
        used_tracks: set[int] = set()
        used_detections: set[int] = set()
        track_order: list[int] = []
        detection_order: list[int] = []
        for _iou, track_index, detection_index in candidates:
            if track_index in used_tracks or detection_index in used_detections:
                continue
            used_tracks.add(track_index)
            used_detections.add(detection_index)
            track_order.append(track_index)
            detection_order.append(detection_index)
        return track_order, detection_order

    @staticmethod
    def _attach_poses(states: Sequence[_TrackState], poses: Sequence[Pose]) -> dict[int, Pose]:
        """Give each pose to the person track whose box overlaps it most (one to one)."""
        pairs: list[tuple[float, int, int]] = []
        for state in states:
            if state.label != PERSON_LABEL:
                continue
            for pose_index, pose in enumerate(poses):
                iou = box_iou(state.box, pose.box)
                if iou >= POSE_MIN_IOU:
                    pairs.append((iou, state.track_id, pose_index))
        pairs.sort(key=lambda item: (-item[0], item[1], item[2]))
        attached: dict[int, Pose] = {}
        used_poses: set[int] = set()
        for _iou, track_id, pose_index in pairs:
            if track_id in attached or pose_index in used_poses:
                continue
            attached[track_id] = poses[pose_index]
            used_poses.add(pose_index)
        return attached

    def reset(self) -> None:
        """Forget every track (camera reconnected, view changed); ids keep increasing."""
        self._tracks = []
