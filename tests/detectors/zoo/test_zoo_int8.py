"""The INT8 detector: built here from the float model's files, close to it, checked at load."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from detectors.errors import ModelChecksumError, ModelError
from detectors.geometry import box_iou
from detectors.inference import InferenceRuntime, InferenceSettings
from detectors.media import iter_video
from detectors.types import Detection
from detectors.vision import load_detector
from detectors.vision.detector import ObjectDetector
from detectors.zoo.catalog import DEFAULT_MODELS
from detectors.zoo.quantize import model_input, nncf_version
from detectors.zoo.store import ModelStore

FLOAT = DEFAULT_MODELS["nanodet-m-416"]
INT8 = DEFAULT_MODELS["nanodet-m-416-int8"]


@pytest.fixture(scope="module")
def detectors_pair(model_store: ModelStore) -> tuple[ObjectDetector, ObjectDetector]:
    """The float and the INT8 detector as the engine loads them (setup built the INT8 IR)."""
    runtime = InferenceRuntime(InferenceSettings(device="CPU"))
    return (
        load_detector(FLOAT, runtime, model_store),
        load_detector(INT8, runtime, model_store),
    )


def _people(detector: ObjectDetector, image: np.ndarray) -> list[Detection]:
    return [d for d in detector.detect(image) if d.label == "person"]


def _matched(reference: list[Detection], other: list[Detection]) -> int:
    used: set[int] = set()
    for detection in reference:
        scored = [(box_iou(detection.box, o.box), j) for j, o in enumerate(other) if j not in used]
        iou, index = max(scored, default=(0.0, -1))
        if iou >= 0.5:
            used.add(index)
    return len(used)


def test_int8_finds_the_float_models_people_on_frames_it_was_not_calibrated_on(
    detectors_pair: tuple[ObjectDetector, ObjectDetector], vtest_path: Path
) -> None:
    """Calibration used every third frame from the first; these are the ones after them."""
    float_model, int8_model = detectors_pair
    frames = [f.image for i, f in enumerate(iter_video(vtest_path)) if i % 3 == 1][:120]
    reference = found = matched = 0
    for image in frames:
        a, b = _people(float_model, image), _people(int8_model, image)
        reference, found, matched = reference + len(a), found + len(b), matched + _matched(a, b)
    assert reference > 300, "vtest has several people in every frame"
    # Measured: 98.5 % of the float model's people, 99 % of INT8's were the float model's.
    assert matched / reference >= 0.95
    assert matched / found >= 0.95


def test_the_int8_ir_records_how_it_was_built(model_store: ModelStore) -> None:
    xml = model_store.verify(INT8)
    manifest = json.loads((xml.parent / "manifest.json").read_text())
    assert manifest["model"] == "nanodet-m-416-int8"
    assert manifest["converter"] == "1+int8-1"
    assert manifest["nncf"] == nncf_version()
    assert manifest["sources"] == {f.name: f.sha256 for f in FLOAT.files}
    assert "FakeQuantize" in xml.read_text(), "the graph really is quantized"
    assert model_store.folder(INT8) == model_store.folder(FLOAT), "one copy of the sources"
    assert INT8.describe()["quantized"] == "int8"


def test_a_bit_flip_in_the_int8_weights_is_refused_by_name(
    model_store: ModelStore, tmp_path: Path
) -> None:
    store = ModelStore(cache_dir=tmp_path / "cache", mirror_dir=tmp_path / "no-mirror")
    shutil.copytree(model_store.folder(FLOAT), store.folder(FLOAT))
    ir = model_store.verify(INT8).parent
    shutil.copytree(ir, tmp_path / "cache" / INT8.name / "ir")
    assert store.verify(INT8).is_file()
    weights = tmp_path / "cache" / INT8.name / "ir" / "model.bin"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelChecksumError, match=r"nanodet-m-416-int8/ir/model\.bin"):
        store.verify(INT8)


def test_the_variant_takes_its_files_from_the_base_models_mirror_folder(
    model_store: ModelStore, tmp_path: Path
) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(model_store.folder(FLOAT), mirror / FLOAT.name)
    store = ModelStore(cache_dir=tmp_path / "cache", mirror_dir=mirror)
    assert store.installed(INT8)
    folder = store.fetch(INT8)
    assert folder == tmp_path / "cache" / FLOAT.name
    assert sorted(p.name for p in folder.iterdir()) == sorted(f.name for f in FLOAT.files)


def test_calibration_tensors_are_what_the_engines_compiled_graph_computes(
    model_store: ModelStore, vtest_path: Path
) -> None:
    """The float graph fed ``model_input`` must equal the engine's graph fed ``uint8``.

    The engine normalises inside the compiled model; the quantizer sees the model before
    those steps, so it must be given the same numbers or it calibrates for other inputs.
    """
    runtime = InferenceRuntime(InferenceSettings(device="CPU", precision="f32"))
    engine_graph = load_detector(FLOAT, runtime, model_store)
    raw = runtime.compile(str(model_store.prepare(FLOAT).path), "nanodet raw")
    image = next(iter(iter_video(vtest_path))).image
    tensor, _ = engine_graph.preprocess(image)
    expected = engine_graph.runner.infer(tensor)
    actual = raw.infer(model_input(image, FLOAT))
    assert expected.keys() == actual.keys()
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], atol=2e-3)


def test_without_nncf_the_int8_build_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "nncf", None)  # what Python does for a missing package
    with pytest.raises(ModelError, match=r"pip install 'nncf==3\.4\.0'"):
        nncf_version()
