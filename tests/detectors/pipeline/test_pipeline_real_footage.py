"""The whole frame pipeline (models, tracker, quality, rules, confirmation) on real images."""

import asyncio
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors.analyze import FrameAnalyzer
from detectors.inference import InferenceRuntime
from detectors.media import read_image
from detectors.pipeline.defaults import default_rule_engine
from detectors.pipeline.processor import FrameProcessor, Models
from detectors.pipeline.reader import CameraReader
from detectors.pipeline.sources import FileSource
from detectors.pipeline.worker import CameraWorker
from detectors.vision import ObjectDetector, PoseEstimator, load_fight_classifier
from detectors.zoo.catalog import FIGHT_MC3_18
from detectors.zoo.store import ModelStore

LABELS = Path(__file__).resolve().parents[2] / "data" / "vtest_persons.json"


def _hold(processor: FrameProcessor, image: np.ndarray, seconds: float, fps: float = 5.0) -> list:
    steps = []
    for index in range(int(seconds * fps)):
        result = processor.process(image, 1_000.0 + index / fps)
        steps += [(t.rule, t.state, round(t.timestamp - 1_000.0, 1)) for t in result.transitions]
    return steps


@pytest.mark.parametrize("rotation", [cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE])
def test_person_lying_for_long_enough_raises_person_down(
    detector: ObjectDetector, pose_estimator: PoseEstimator, samples_dir: Path, rotation: int
) -> None:
    lying = cv2.rotate(read_image(samples_dir / "person.jpg"), rotation)
    processor = FrameProcessor("gym", Models(detector, pose_estimator), default_rule_engine("gym"))
    steps = _hold(processor, lying, seconds=16)
    assert [s[:2] for s in steps] == [("person_down", "started")]
    assert 10.0 <= steps[0][2] <= 12.0, "starts once the 10 s hold is confirmed"
    closing = processor.close(1_016.0)
    assert [(t.rule, t.state) for t in closing] == [("person_down", "ended")]


def test_same_person_standing_raises_nothing(
    detector: ObjectDetector, pose_estimator: PoseEstimator, samples_dir: Path
) -> None:
    standing = read_image(samples_dir / "person.jpg")
    processor = FrameProcessor(
        "hall", Models(detector, pose_estimator), default_rule_engine("hall")
    )
    assert _hold(processor, standing, seconds=16) == []
    assert processor.close(1_016.0) == ()


def test_empty_scene_gives_no_detections(detector: ObjectDetector) -> None:
    assert detector.detect(np.zeros((480, 640, 3), dtype=np.uint8)) == []


def test_vtest_raises_no_false_alarm_and_counts_follow_the_scene(
    detector: ObjectDetector,
    pose_estimator: PoseEstimator,
    runtime: InferenceRuntime,
    model_store: ModelStore,
    samples_dir: Path,
) -> None:
    labels = {
        int(k): len(v["persons"]) for k, v in json.loads(LABELS.read_text())["frames"].items()
    }
    fight = load_fight_classifier(FIGHT_MC3_18, runtime, model_store)
    processor = FrameProcessor(
        "plaza", Models(detector, pose_estimator, fight=fight), default_rule_engine("plaza")
    )
    assert processor.fight is not None, "fight runs with the model (method: both)"
    started = []
    counted = {}
    for result in FrameAnalyzer(processor).run(samples_dir / "vtest.avi"):
        started += [e.rule for e in result.events if e.state == "started"]
        if result.frame in labels:
            counted[result.frame] = sum(d.label == "person" for d in result.detections)
    assert not {"weapon", "fight", "person_down"} & set(started), started
    assert processor.lying is not None, "the lying-person search ran on every frame's budget"
    assert processor.lying.stats.frames == 795
    assert processor.lying.stats.views["sweep"] >= 100
    assert set(counted) == set(labels)
    for frame, expected in labels.items():
        assert abs(counted[frame] - expected) <= 2, (frame, counted[frame], expected)


def test_camera_worker_analyses_a_live_file_camera_and_reports_a_lost_stream(
    detector: ObjectDetector, samples_dir: Path
) -> None:
    async def scenario() -> tuple[int, list[str], list[str], int]:
        # 100 frames at 10x speed: about 1 s of stream, then the file ends (camera lost).
        clip = samples_dir / "vtest.avi"
        reader = CameraReader("cam", FileSource(clip, realtime=True, speed=10.0), timeout_s=0.5)
        processor = FrameProcessor("cam", Models(detector), default_rule_engine("cam"))
        results = []
        worker = CameraWorker(
            reader, processor, detect_fps=0, on_result=results.append, keep_latencies=True
        )
        await worker.start()
        deadline = asyncio.get_running_loop().time() + 120
        while asyncio.get_running_loop().time() < deadline:
            if any(t.rule == "tamper" for r in results for t in r.transitions):
                break
            await asyncio.sleep(0.1)
        await worker.stop()
        counts = [r.person_count for r in results if r.analysis.stream_ok]
        lost = [t.state for r in results for t in r.transitions if t.rule == "tamper"]
        other = [t.rule for r in results for t in r.transitions if t.rule != "tamper"]
        return worker.stats.analysed, lost, other, max(counts, default=0)

    analysed, lost, other, most_people = asyncio.run(scenario())
    assert analysed >= 20
    assert most_people >= 3
    assert lost == ["started"], "the end of the stream is reported as camera lost"
    assert other == []


def test_motion_crops_find_a_small_person_in_a_large_frame(
    detector: ObjectDetector, samples_dir: Path
) -> None:
    person = read_image(samples_dir / "person.jpg")[95:385, 180:285]
    canvas = np.full((1440, 2560, 3), 90, np.uint8)
    canvas[800:910, 1500:1540] = cv2.resize(person, (40, 110))
    assert detector.detect(canvas) == [], "a 110 px person at 1/6 scale is lost full-frame"
    processor = FrameProcessor("yard", Models(detector), default_rule_engine("yard"))
    motion = ((1500.0, 800.0, 1540.0, 910.0),)
    assert processor.crops(canvas, motion) == [(1312.0, 647.0, 1728.0, 1063.0)]
    found = processor.process(canvas, 0.0, motion).analysis.detections
    assert [d.label for d in found] == ["person"]
    x1, y1, x2, y2 = found[0].box
    assert 1495 <= x1 <= 1510 and 795 <= y1 <= 810 and 1530 <= x2 <= 1545 and 900 <= y2 <= 915
    small_frame = cv2.resize(canvas, (640, 360))
    assert processor.crops(small_frame, motion) == [], "frames near model size need no crops"
