"""Person down at CCTV scale, on footage built from the samples (tests/.../footage.py).

The whole frame pipeline (NanoDet, MoveNet, the lying-person search, tracker, rules,
K-of-M) runs at the engine's default 5 analysed frames per second (every other frame of
the 10 fps clips), media time as the clock. Expected outcomes, from issue 13:

* someone lying still in view for ``seconds`` (10): ``person_down`` starts within
  ``seconds`` + 3 s of their lying down, with their box in the alert;
* upright people, people sitting or bending, vtest's yellow jacket on the lawn: never.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from detectors.geometry import box_iou
from detectors.pipeline.defaults import default_rule_engine
from detectors.pipeline.processor import FrameProcessor, Models
from detectors.rules.confirmation import AlertTransition
from detectors.rules.engine import RuleEngine
from detectors.types import BoxXYXY
from detectors.vision import ObjectDetector, PoseEstimator
from tests.detectors.pipeline import footage

SECONDS = 10.0
"""``person_down.seconds``'s default: the hold the issue's deadline is counted from."""
DEADLINE = SECONDS + 3.0
LABELS = Path(__file__).resolve().parents[2] / "data" / "vtest_persons.json"
JACKET = (61.0, 490.0, 168.0, 534.0)
"""vtest's yellow jacket on the lawn, the classic false "body" (the fall model: "fall")."""

type Clip = Iterable[tuple[NDArray[np.uint8], BoxXYXY | None]]


@dataclass(frozen=True)
class Started:
    """A person_down start and the truth box at that moment."""

    at: float
    transition: AlertTransition
    truth: BoxXYXY | None


def person_down_starts(processor: FrameProcessor, clip: Clip, every: int = 2) -> list[Started]:
    """Analyse every ``every``-th frame of ``clip``; the person_down starts."""
    starts = []
    for index, (image, truth) in enumerate(clip):
        if index % every:
            continue
        at = index / footage.FPS
        for transition in processor.process(image, at).transitions:
            if transition.rule == "person_down" and transition.state == "started":
                starts.append(Started(at, transition, truth))
    return starts


@pytest.fixture
def processor(detector: ObjectDetector, pose_estimator: PoseEstimator) -> FrameProcessor:
    return FrameProcessor(
        "lawn", Models(detector, pose_estimator), default_rule_engine("lawn"), quality=None
    )


def assert_found_in_time(
    started: list[Started], lying_since: float, *, methods: set[str] | None = None
) -> AlertTransition:
    assert len(started) == 1, [s.at for s in started]
    first = started[0]
    assert first.at - lying_since <= DEADLINE, f"started {first.at - lying_since:.1f} s after"
    assert first.truth is not None
    assert [round(box_iou(box, first.truth), 2) >= 0.5 for box in first.transition.boxes] == [
        True
    ], "the person's box is the alert's (drawn on its snapshot)"
    assert first.transition.detail["method"] == "rotated_sweep"
    if methods is not None:
        assert set(first.transition.detail["methods"]) == methods
    return first.transition


@pytest.mark.parametrize(
    ("head_left", "place"),
    [(True, footage.LAWN), (False, (500, 470))],
    ids=["head-left-on-the-lawn", "head-right-by-the-path"],
)
def test_one_person_lying_still_among_walkers(
    processor: FrameProcessor, samples_dir: Path, head_left: bool, place: tuple[int, int]
) -> None:
    frames = footage.vtest(samples_dir, 140)
    cut = footage.lying(samples_dir, head_left=head_left)  # 145 x 68 px
    started = person_down_starts(processor, footage.with_person(frames, cut, *place))
    assert_found_in_time(started, 0.0, methods={"rotated_sweep"})
    assert processor.lying is not None
    assert processor.lying.stats.inferences <= 0.25 * 70 + 1, "within the search's budget"
    assert processor.watching(), "the motion gate is told to keep passing this still person"


def test_before_the_search_nobody_saw_the_person_lying(
    detector: ObjectDetector, pose_estimator: PoseEstimator, samples_dir: Path
) -> None:
    """The issue's baseline: upright-trained models see no one on the lawn."""
    frames = footage.vtest(samples_dir, 30)
    cut = footage.lying(samples_dir)
    for image, truth in footage.with_person(frames[::3], cut, *footage.LAWN):
        boxes = [d.box for d in detector.detect(image) if d.label == "person"]
        boxes += [p.box for p in pose_estimator.estimate(image) if p.score >= 0.3]
        assert all(box_iou(box, truth) < 0.3 for box in boxes)


def _rotated_truth(box: list[int], height: int) -> BoxXYXY:
    """Where a box of the upright frame is in the frame turned 90 degrees clockwise."""
    x1, y1, x2, y2 = box
    return (float(height - y2), float(x1), float(height - y1), float(x2))


def test_a_whole_scene_turned_90_degrees_where_people_stay_put(
    processor: FrameProcessor, samples_dir: Path
) -> None:
    """vtest frame 550 turned: five labelled people, all lying; sensor noise, no motion."""
    labels = json.loads(LABELS.read_text())["frames"]["550"]
    frame = footage.vtest(samples_dir, 1, start=550)[0]
    turned = cv2.rotate(frame, cv2.ROTATE_90_CLOCKWISE)
    truth = [_rotated_truth(b, frame.shape[0]) for b in labels["persons"]]
    ignore = [_rotated_truth(b, frame.shape[0]) for b in labels["ignore"]]
    rng = np.random.default_rng(5)
    noisy = (
        np.clip(turned + rng.normal(0.0, 2.0, turned.shape), 0, 255).astype(np.uint8)
        for _ in range(140)
    )
    started = person_down_starts(processor, ((image, None) for image in noisy))
    assert len(started) == 1
    assert started[0].at <= DEADLINE
    boxes = started[0].transition.boxes
    assert boxes, "someone lying"
    for box in boxes:
        assert max(box_iou(box, t) for t in truth + ignore) >= 0.5, ("not a person", box)


def test_a_fall_played_out_is_a_fall_transition(
    processor: FrameProcessor, samples_dir: Path
) -> None:
    """Standing 3 s at CCTV size (145 px), tipping over in 1 s, then lying still."""
    frames = footage.vtest(samples_dir, 180)
    clip = footage.fall_clip(samples_dir, frames, feet=(300, 500), height=145, stand_seconds=3)
    started = person_down_starts(processor, clip)
    assert_found_in_time(started, 4.0, methods={"fall_transition", "rotated_sweep"})


@pytest.mark.parametrize(
    ("posture", "fold"),
    [
        ("sitting, legs forward", {"upper_degrees": 10.0, "lower_degrees": -90.0}),
        ("bending over", {"upper_degrees": 70.0, "lower_degrees": 0.0}),
    ],
)
def test_sitting_or_bending_is_never_person_down(
    processor: FrameProcessor, samples_dir: Path, posture: str, fold: dict[str, float]
) -> None:
    body = footage.folded(footage.standing(samples_dir, 140), hip=0.5, **fold)
    frames = footage.vtest(samples_dir, 200)
    assert person_down_starts(processor, footage.with_person(frames, body, 300, 380)) == [], posture


def test_a_users_yolov8_fall_model_feeds_person_down_end_to_end(
    detector: ObjectDetector,
    pose_estimator: PoseEstimator,
    user_fall_model: ObjectDetector,
    samples_dir: Path,
) -> None:
    """Turned sweeps off: the third-party model's "fall" box is what finds the person.

    Its word alone never raises an alert; it proposes a turned check, which confirms.
    """
    rules = RuleEngine("lawn", {"person_down": {"search": {"methods": ["fall_model"]}}}, (), (), {})
    models = Models(detector, pose_estimator, fall=user_fall_model)
    processor = FrameProcessor("lawn", models, rules, quality=None)
    frames = footage.vtest(samples_dir, 140)
    clip = footage.with_person(frames, footage.lying(samples_dir), *footage.LAWN)
    started = person_down_starts(processor, clip)
    assert_found_in_time(started, 0.0, methods={"fall_model", "rotated_sweep"})
    assert processor.lying is not None
    assert processor.lying.stats.views["sweep"] == 0
    assert processor.lying.stats.views["fall_model"] == 7, "every 2 s of 14"


def test_the_fall_model_never_raises_person_down_on_vtest_and_its_yellow_jacket(
    detector: ObjectDetector,
    pose_estimator: PoseEstimator,
    fall_model: ObjectDetector,
    samples_dir: Path,
) -> None:
    models = Models(detector, pose_estimator, fall=fall_model)
    processor = FrameProcessor("plaza", models, default_rule_engine("plaza"), quality=None)
    frames = footage.vtest(samples_dir, 400)
    assert person_down_starts(processor, ((f, None) for f in frames)) == []
    assert processor.lying is not None
    views = processor.lying.stats.views
    assert views["fall_model"] == 20
    refuted = [box for box, _at in processor.lying._refuted]
    assert any(box_iou(box, JACKET) >= 0.5 for box in refuted), "its 'fall' was checked, refuted"
