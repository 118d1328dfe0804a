"""The detection-architecture registry: lookup by name, one file per architecture."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from detectors.architectures import (
    DetectionArchitecture,
    Normalisation,
    Outputs,
    architecture,
    architecture_names,
)
from detectors.architectures.base import REGISTERED
from detectors.architectures.nanodet import NANODET_MEAN, NANODET_STD
from detectors.decoders.raw import RawDetections
from detectors.decoders.ssd import decode_ssd
from detectors.decoders.yolo import decode_yolo
from detectors.errors import ModelError, ModelFormatError
from detectors.zoo.catalog import user_model_entry


def test_every_zoo_family_is_registered_and_user_models_exclude_nanodet() -> None:
    assert architecture_names() == ("nanodet", "ssd", "yolo")
    assert architecture_names(user_models=True) == ("ssd", "yolo")
    assert architecture("yolo").name == "yolo"


def test_an_unknown_architecture_is_refused_by_name() -> None:
    with pytest.raises(ModelFormatError, match=r"'detr'.*known: nanodet, ssd, yolo"):
        architecture("detr")


def test_a_user_model_naming_nanodet_or_an_unknown_family_is_refused() -> None:
    spec = {
        "name": "gun",
        "format": "onnx",
        "files": {"model.onnx": "0" * 64},
        "path": "/models",
        "labels": ["gun"],
        "input_size": [640, 640],
    }
    assert user_model_entry({**spec, "decoder": "ssd"}).decoder == "ssd"
    for decoder in ("nanodet", "detr"):
        with pytest.raises(ModelError, match="decoder"):
            user_model_entry({**spec, "decoder": decoder})


def test_nanodet_normalisation_is_bgr_imagenet_and_stretched() -> None:
    nanodet = architecture("nanodet")
    norm = nanodet.normalisation({"input_layout": "NHWC", "rgb": True})
    assert norm == Normalisation(layout="NCHW", rgb=False, mean=NANODET_MEAN, scale=NANODET_STD)
    assert nanodet.stretch
    assert not architecture("yolo").stretch


def test_user_model_normalisation_comes_from_the_entry_options() -> None:
    norm = architecture("yolo").normalisation({"input_layout": "NHWC", "rgb": False})
    assert norm == Normalisation(layout="NHWC", rgb=False, mean=None, scale=255.0)
    assert architecture("ssd").normalisation({"input_scale": 1}).scale == 1.0


def test_nanodet_refuses_outputs_of_another_graph() -> None:
    good = {f"cls{i}": (1, n, 80) for i, n in enumerate((2704, 676, 169))}
    good |= {f"reg{i}": (1, n, 44) for i, n in enumerate((2704, 676, 169))}
    architecture("nanodet").check_outputs("m", good, 80)
    with pytest.raises(ModelFormatError, match=r"m: expected 3 class outputs \[1,N,3\]"):
        architecture("nanodet").check_outputs("m", good, 3)
    with pytest.raises(ModelFormatError, match="m: the model has no outputs"):
        architecture("yolo").check_outputs("m", {}, 3)


def test_nanodet_self_test_refuses_class_scores_outside_0_1() -> None:
    ok = {"cls": np.full((1, 4, 80), 0.5, np.float32), "reg": np.full((1, 4, 44), 9.0, np.float32)}
    architecture("nanodet").check_self_test("m", ok)
    bad = {**ok, "cls": np.full((1, 4, 80), 3.0, np.float32)}
    with pytest.raises(ModelFormatError, match="m: self-test class scores in cls leave 0-1"):
        architecture("nanodet").check_self_test("m", bad)


def test_single_output_families_decode_like_their_decoders() -> None:
    yolo = np.zeros((1, 7, 50), np.float32)
    yolo[0, :4, 3] = (20, 20, 10, 10)
    yolo[0, 5, 3] = 0.9
    ssd = np.array([[[[0, 2, 0.8, 0.1, 0.1, 0.5, 0.5], [-1, 0, 0, 0, 0, 0, 0]]]], np.float32)
    cases = [
        ("yolo", {"out": yolo}, decode_yolo(yolo, 0.5, num_classes=3)),
        ("ssd", {"out": ssd}, decode_ssd(ssd, (100, 80), 0.5)),
    ]
    for name, outputs, expected in cases:
        got = architecture(name).decode(outputs, input_size=(100, 80), classes=3, score_floor=0.5)
        assert got.boxes.tolist() == expected.boxes.tolist()
        assert got.class_ids.tolist() == expected.class_ids.tolist()
        assert got.boxes.shape[0] == 1


@pytest.fixture
def scratch_architecture() -> Iterator[type[DetectionArchitecture]]:
    """A family defined the way a new architecture file would define it."""

    class Centre(DetectionArchitecture):
        name = "centre-test"

        def decode(
            self, outputs: Outputs, *, input_size: tuple[int, int], classes: int, score_floor: float
        ) -> RawDetections:
            rows = self.first(outputs)[0]
            keep = rows[:, 4] >= score_floor
            return RawDetections.from_arrays(
                rows[keep, :4].astype(np.float64), rows[keep, 4], rows[keep, 5].astype(np.int64)
            )

    yield Centre
    del REGISTERED["centre-test"]


def test_a_new_architecture_registers_by_subclassing(
    scratch_architecture: type[DetectionArchitecture],
) -> None:
    found = architecture("centre-test")
    assert isinstance(found, scratch_architecture)
    rows = np.array([[[1, 2, 3, 4, 0.9, 1], [1, 2, 3, 4, 0.1, 0]]], np.float32)
    assert found.decode(
        {"o": rows}, input_size=(8, 8), classes=2, score_floor=0.5
    ).class_ids.tolist() == [1]
    with pytest.raises(TypeError, match="defined twice"):
        type("Again", (DetectionArchitecture,), {"name": "centre-test", "decode": found.decode})
