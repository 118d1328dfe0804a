"""The default models on real images (f32 on CPU, so scores do not depend on the host)."""

import json
from pathlib import Path

import numpy as np

from detectors.decoders import box_iou
from detectors.media import iter_video, read_image
from detectors.vision import ObjectDetector, PoseEstimator

LABELS = Path(__file__).resolve().parents[2] / "data" / "vtest_persons.json"


def _labels(detections: list) -> list[str]:
    return sorted(d.label for d in detections)


def test_person_jpg_has_one_person_a_dog_and_a_horse(
    detector: ObjectDetector, samples_dir: Path
) -> None:
    found = detector.detect(read_image(samples_dir / "person.jpg"))
    assert _labels(found) == ["dog", "horse", "person"]
    person = next(d for d in found if d.label == "person")
    # The standing person in the middle of the photo, about 190..275 x 100..375.
    assert box_iou(np.array([person.box]), np.array([[190, 98, 272, 380]]))[0, 0] > 0.8
    assert person.score > 0.6


def test_astronaut_has_one_person(detector: ObjectDetector, samples_dir: Path) -> None:
    found = detector.detect(read_image(samples_dir / "astronaut.png"))
    assert _labels(found) == ["person"]


def test_pose_of_the_standing_person(pose_estimator: PoseEstimator, samples_dir: Path) -> None:
    poses = pose_estimator.estimate(read_image(samples_dir / "person.jpg"))
    assert len(poses) == 1
    pose = poses[0]
    x1, y1, x2, y2 = pose.box
    assert 170 < x1 < 210 and 80 < y1 < 120 and 255 < x2 < 295 and 350 < y2 < 400
    nose, ankle = pose.keypoint("nose"), pose.keypoint("left_ankle")
    assert nose[1] < ankle[1] - 150, "standing: head well above the feet"
    assert ankle[2] > 0.5


def test_async_and_sync_detection_agree(detector: ObjectDetector, samples_dir: Path) -> None:
    import asyncio

    image = read_image(samples_dir / "person.jpg")
    assert asyncio.run(detector.detect_async(image)) == detector.detect(image)
    detector.runner.wait_idle()


def _match(
    predicted: list[tuple[float, ...]], truth: list[list[int]], ignore: list[list[int]]
) -> tuple[int, int, int]:
    """Greedy IoU>=0.5 matching: (true positives, false positives, false negatives)."""
    unmatched = list(range(len(truth)))
    tp = fp = 0
    for box in predicted:
        ious = [(box_iou(np.array([box]), np.array([truth[i]]))[0, 0], i) for i in unmatched]
        best = max(ious, default=(0.0, -1))
        if best[0] >= 0.5:
            tp += 1
            unmatched.remove(best[1])
        elif not any(box_iou(np.array([box]), np.array([g]))[0, 0] >= 0.3 for g in ignore):
            fp += 1
    return tp, fp, len(unmatched)


def test_person_precision_and_recall_on_labelled_vtest_frames(
    detector: ObjectDetector, samples_dir: Path
) -> None:
    labels = json.loads(LABELS.read_text())
    wanted = {int(k): v for k, v in labels["frames"].items()}
    assert len(wanted) >= 10
    tp = fp = fn = 0
    for frame in iter_video(samples_dir / "vtest.avi"):
        if frame.index not in wanted:
            continue
        persons = [d.box for d in detector.detect(frame.image) if d.label == "person"]
        counts = _match(persons, wanted[frame.index]["persons"], wanted[frame.index]["ignore"])
        tp, fp, fn = tp + counts[0], fp + counts[1], fn + counts[2]
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.9, (tp, fp, fn)
    assert recall >= 0.9, (tp, fp, fn)


def test_request_finishing_after_its_loop_closed_does_not_break_the_queue(
    detector: ObjectDetector, samples_dir: Path
) -> None:
    import asyncio

    tensor, _ = detector.preprocess(read_image(samples_dir / "person.jpg"))

    async def start_and_abandon() -> None:
        tasks = [asyncio.ensure_future(detector.runner.infer_async(tensor)) for _ in range(4)]
        await asyncio.sleep(0.005)  # submitted, still running
        for task in tasks:
            task.cancel()

    for _ in range(3):
        asyncio.run(start_and_abandon())  # the loop closes while requests are in flight
    detector.runner.wait_idle()
    outputs = asyncio.run(detector.runner.infer_async(tensor))
    assert set(outputs) == set(detector.runner.output_names)
