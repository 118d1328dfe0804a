"""One analysed frame, end to end: models → tracker → frame quality → rules → transitions.

The engine (per camera, async, shared inference queue) and ``school-guard analyze`` (sync,
files) both go through :class:`FrameProcessor`, so an alert raised on a file is exactly the
alert the engine would raise on the same frames.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from detectors.decoders import nms
from detectors.geometry import box_iou
from detectors.inference import CompiledRunner
from detectors.pipeline.fight_stage import FightStage, FramePeek, fight_stage_for
from detectors.pipeline.lying_runner import LyingSearchRunner
from detectors.pipeline.lying_search import LyingSearch
from detectors.pipeline.motion import crop_squares
from detectors.pipeline.quality import FrameQualityMeter
from detectors.pipeline.tracker import Tracker
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.types import BoxXYXY, Detection, FrameAnalysis, FrameQuality, Pose, Track
from detectors.vision import FightClassifier, ObjectDetector, PoseEstimator

PERSON = "person"
POSE_REFRESH_SECONDS = 1.0
"""Pose also runs this often on frames where the detector found nobody: a detector trained
on upright people often misses a person lying on the floor, which pose still finds."""
POSE_PERSON_MIN_SCORE = 0.3
"""A pose this confident with no person box over it becomes a person detection."""


CROP_MIN_SCALE = 2.0
"""Frames whose shorter side is at least this many model inputs also get motion crops."""
MAX_CROPS = 4
"""At most this many crops per frame, so a busy scene cannot multiply inference cost."""


def merge_detections(detections: list[Detection], iou_threshold: float) -> list[Detection]:
    """Class-aware NMS over detections from the full frame and from crops."""
    kept: list[Detection] = []
    for label in sorted({d.label for d in detections}):
        same = [d for d in detections if d.label == label]
        boxes = np.array([d.box for d in same], dtype=np.float32)
        scores = np.array([d.score for d in same], dtype=np.float32)
        kept += [same[int(i)] for i in nms(boxes, scores, iou_threshold)]
    return kept


def _patch(image: NDArray[np.uint8], crop: BoxXYXY) -> NDArray[np.uint8]:
    x1, y1, x2, y2 = (round(v) for v in crop)
    return np.ascontiguousarray(image[y1:y2, x1:x2])


def fuse_pose_people(detections: list[Detection], poses: list[Pose]) -> list[Detection]:
    """Add a person detection for every confident pose that no person box covers.

    Lying people are where upright-trained detectors fail and where a missed person
    matters most (person down); the pose model sees them, so its box stands in.
    """
    people = [d.box for d in detections if d.label == PERSON]
    fused = list(detections)
    for pose in poses:
        if pose.score < POSE_PERSON_MIN_SCORE:
            continue
        if any(box_iou(pose.box, box) >= 0.3 for box in people):
            continue
        fused.append(Detection(PERSON, pose.score, pose.box))
    return fused


@dataclass(frozen=True, slots=True)
class Models:
    """The compiled models a camera uses; shared by every camera of an engine."""

    detector: ObjectDetector
    pose: PoseEstimator | None = None
    weapon: ObjectDetector | None = None
    fight: FightClassifier | None = None
    fall: ObjectDetector | None = None
    """An opt-in fall model: a second opinion for the lying-person search."""

    def describe(self) -> dict[str, object]:
        """Model names and versions recorded with every alert."""
        info: dict[str, object] = {
            "detector": {"name": self.detector.name, "version": self.detector.entry.version}
        }
        if self.pose is not None:
            info["pose"] = {"name": self.pose.name, "version": self.pose.entry.version}
        if self.weapon is not None:
            info["weapon"] = {"name": self.weapon.name, "version": self.weapon.entry.version}
        if self.fight is not None:
            info["fight"] = {"name": self.fight.name, "version": self.fight.entry.version}
        if self.fall is not None:
            info["fall"] = {"name": self.fall.name, "version": self.fall.entry.version}
        return info

    def _runners(self) -> list[CompiledRunner]:
        models = (self.detector, self.pose, self.weapon, self.fight, self.fall)
        return [model.runner for model in models if model is not None]

    def wait_idle(self) -> None:
        """Block until no model has an async request in flight (benchmarks).

        An OpenVINO request still running when the interpreter exits calls back into a
        finalising Python and aborts the process ("exception not rethrown").
        """
        for runner in self._runners():
            runner.wait_idle()

    def close(self) -> None:
        """Refuse new requests on every model, then wait for those in flight (shutdown)."""
        for runner in self._runners():
            runner.close()


LYING_LOOKING_RATIO = 1.3
"""A person box this much wider than tall may be someone on the floor (``box_ratio``'s
default): the motion gate is asked to keep passing frames while one is tracked."""


def _lying_looking(tracks: Sequence[Track]) -> bool:
    """A person track with a box clearly wider than tall, or one the lying search holds."""
    return any(
        t.label == PERSON
        and (t.evidence or t.box[2] - t.box[0] >= LYING_LOOKING_RATIO * (t.box[3] - t.box[1]))
        for t in tracks
    )


@dataclass(frozen=True, slots=True)
class ProcessedFrame:
    """What one frame produced: the rules' view of it and the alert transitions."""

    analysis: FrameAnalysis
    transitions: tuple[AlertTransition, ...] = ()
    image: NDArray[np.uint8] | None = field(default=None, compare=False, repr=False)
    """The analysed frame (a reference, not a copy), for alert snapshots."""

    @property
    def person_count(self) -> int:
        """Confirmed person tracks in view (what the person-count sensor shows)."""
        return sum(t.label == PERSON for t in self.analysis.tracks)


@dataclass(slots=True)
class FrameProcessor:
    """Per-camera state between frames: tracker, quality reference, rule engine."""

    camera_id: str
    models: Models
    rules: RuleEngine
    tracker: Tracker = field(default_factory=Tracker)
    quality: FrameQualityMeter | None = field(default_factory=FrameQualityMeter)
    drill: bool = False
    _lying: LyingSearchRunner | None = field(default=None, init=False)
    _last_pose_at: float = field(default=float("-inf"), init=False)
    _pose_saw_people: bool = field(default=False, init=False)
    _someone_lying: bool = field(default=False, init=False)
    fight: FightStage | None = field(default=None, init=False)
    """The fight model's clip stage, when a fight model is loaded and the rule uses it."""

    def __post_init__(self) -> None:
        """Build the fight clip stage and the lying-person search the camera's rules ask for."""
        models = self.models
        self.fight = fight_stage_for(models.fight, self.rules, self.camera_id)
        self._lying = LyingSearchRunner.for_rules(
            self.rules, models.detector, models.pose, models.fall
        )

    def attach_frame_source(self, peek: FramePeek | None) -> None:
        """Let the fight stage read the camera's newest frame between analysed frames."""
        if self.fight is not None:
            self.fight.attach_source(peek)

    @property
    def lying(self) -> LyingSearch | None:
        """The lying-person search (``person_down.search``), if the rules run one."""
        return self._lying.search if self._lying is not None else None

    def watching(self) -> bool:
        """Whether every frame should be analysed, still or not (``MotionGate``'s hook).

        True while the lying search holds a candidate or a check, or a tracked person's box
        is clearly wider than tall: a person lying still makes no motion, and the motion
        gate's 2 s refresh is too sparse for the tracker to keep them and for K-of-M.
        """
        return self._someone_lying or (self.lying is not None and self.lying.watching())

    def _wants_pose(self, detections: list[Detection], timestamp: float) -> bool:
        if self.models.pose is None:
            return False
        if self._pose_saw_people or any(d.label == PERSON for d in detections):
            return True
        return timestamp - self._last_pose_at >= POSE_REFRESH_SECONDS

    def _finish(
        self,
        image: NDArray[np.uint8],
        timestamp: float,
        detections: list[Detection],
        poses: list[Pose],
        quality: FrameQuality | None = None,
        *,
        blocking: bool,
    ) -> ProcessedFrame:
        size = (int(image.shape[1]), int(image.shape[0]))
        detections = fuse_pose_people(detections, poses)
        tracks = self.tracker.update(detections, timestamp, poses)
        if self.lying is not None:
            self.lying.note_tracks(tracks, timestamp, size)
        self._someone_lying = _lying_looking(tracks)
        if quality is None and self.quality is not None:
            quality = self.quality.measure(image, timestamp)
        analysis = FrameAnalysis(
            camera_id=self.camera_id,
            timestamp=timestamp,
            frame_size=size,
            detections=tuple(detections),
            poses=tuple(poses),
            tracks=tracks,
            quality=quality,
            drill=self.drill,
            extra=self.fight.extra() if self.fight is not None else {},
        )
        transitions = tuple(self.rules.process(analysis))
        if self.fight is not None:
            self.fight.after_rules(image, timestamp, blocking=blocking)
        return ProcessedFrame(analysis, transitions, image)

    def crops(self, image: NDArray[np.uint8], regions: Sequence[BoxXYXY]) -> list[BoxXYXY]:
        """Model-sized squares around motion, for frames much larger than the model input.

        A person 60 px tall in a 4K frame is 6 px at 416 and invisible to the detector; in a
        416 px crop around the motion it is seen at full resolution.
        """
        height, width = image.shape[:2]
        side = min(self.models.detector.entry.input_size)
        if not regions or min(width, height) < CROP_MIN_SCALE * side:
            return []
        return crop_squares(list(regions), (width, height), side)[:MAX_CROPS]

    def _crop_detections(self, crop: BoxXYXY, found: list[Detection]) -> list[Detection]:
        x1, y1 = round(crop[0]), round(crop[1])
        return [
            Detection(
                d.label,
                d.score,
                (d.box[0] + x1, d.box[1] + y1, d.box[2] + x1, d.box[3] + y1),
                d.class_id,
            )
            for d in found
        ]

    def _with_crops(
        self, image: NDArray[np.uint8], detections: list[Detection], extra: list[Detection]
    ) -> list[Detection]:
        if not extra:
            return detections
        return merge_detections(detections + extra, self.models.detector.iou_threshold)

    def _search(
        self, image: NDArray[np.uint8], timestamp: float, detections: list[Detection]
    ) -> list[Detection]:
        if self._lying is None:
            return detections
        return self._lying.run(image, timestamp, detections)

    async def _search_async(
        self, image: NDArray[np.uint8], timestamp: float, detections: list[Detection]
    ) -> list[Detection]:
        if self._lying is None:
            return detections
        return await self._lying.run_async(image, timestamp, detections)

    def process(
        self, image: NDArray[np.uint8], timestamp: float, regions: Sequence[BoxXYXY] = ()
    ) -> ProcessedFrame:
        """Analyse one frame on the calling thread (tools, ``analyze``)."""
        detections = self.models.detector.detect(image)
        extra: list[Detection] = []
        for crop in self.crops(image, regions):
            patch = _patch(image, crop)
            extra += self._crop_detections(crop, self.models.detector.detect(patch))
        detections = self._with_crops(image, detections, extra)
        has_people = any(d.label == PERSON for d in detections)
        if has_people and self.models.weapon is not None:
            detections += self.models.weapon.detect(image)
        poses: list[Pose] = []
        if self.models.pose is not None and self._wants_pose(detections, timestamp):
            poses = self.models.pose.estimate(image)
            self._last_pose_at = timestamp
            self._pose_saw_people = any(p.score >= POSE_PERSON_MIN_SCORE for p in poses)
        detections = self._search(image, timestamp, detections)
        return self._finish(image, timestamp, detections, poses, blocking=True)

    async def process_async(
        self, image: NDArray[np.uint8], timestamp: float, regions: Sequence[BoxXYXY] = ()
    ) -> ProcessedFrame:
        """Analyse one frame through the shared async inference queues (the engine)."""
        detections = await self.models.detector.detect_async(image)
        extra: list[Detection] = []
        for crop in self.crops(image, regions):
            found = await self.models.detector.detect_async(_patch(image, crop))
            extra += self._crop_detections(crop, found)
        detections = self._with_crops(image, detections, extra)
        has_people = any(d.label == PERSON for d in detections)
        if has_people and self.models.weapon is not None:
            detections += await self.models.weapon.detect_async(image)
        poses: list[Pose] = []
        if self.models.pose is not None and self._wants_pose(detections, timestamp):
            poses = await self.models.pose.estimate_async(image)
            self._last_pose_at = timestamp
            self._pose_saw_people = any(p.score >= POSE_PERSON_MIN_SCORE for p in poses)
        detections = await self._search_async(image, timestamp, detections)
        quality = None
        if self.quality is not None and self.quality.due(timestamp):
            # ORB feature matching takes tens of ms: off the event loop (cv2 frees the GIL).
            quality = await asyncio.to_thread(self.quality.measure, image, timestamp)
        return self._finish(image, timestamp, detections, poses, quality, blocking=False)

    def signal_lost(self, timestamp: float, size: tuple[int, int]) -> ProcessedFrame:
        """Feed the rules a frame-less analysis when the stream is lost (tamper rule)."""
        analysis = FrameAnalysis(
            camera_id=self.camera_id,
            timestamp=timestamp,
            frame_size=size,
            stream_ok=False,
            drill=self.drill,
        )
        return ProcessedFrame(analysis, tuple(self.rules.process(analysis)))

    def close(self, timestamp: float) -> tuple[AlertTransition, ...]:
        """End every open alert (camera removed, engine stopping)."""
        if self.fight is not None:
            self.fight.close()
        return tuple(self.rules.close_all(timestamp))
