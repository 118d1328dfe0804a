"""Load zoo models into OpenVINO: fetch, verify, reshape, compile, self-test."""

from __future__ import annotations

from collections.abc import Callable

import openvino as ov

from detectors.architectures import architecture
from detectors.errors import ModelError, ModelFormatError
from detectors.inference import InferenceRuntime
from detectors.vision.detector import ObjectDetector
from detectors.vision.fight import FightClassifier
from detectors.vision.pose import PoseEstimator
from detectors.zoo.catalog import ModelEntry
from detectors.zoo.store import ModelStore

type Progress = Callable[[str], None]


def _silent(_: str) -> None:
    """Progress sink for callers that want none."""


def _read(
    runtime: InferenceRuntime, store: ModelStore, entry: ModelEntry, progress: Progress
) -> ov.Model:
    prepared = store.prepare(entry, progress)
    try:
        return runtime.core.read_model(str(prepared.path))
    except RuntimeError as err:
        raise ModelFormatError(f"{prepared.path}: OpenVINO cannot read it: {err}") from err


def embed_preprocessing(model: ov.Model, entry: ModelEntry) -> ov.Model:
    """Move type conversion, colour order, normalisation and layout into the graph.

    The detector is then fed the resized BGR ``uint8`` image as it is (NHWC): OpenVINO's
    JIT-compiled preprocessing is several times cheaper than the same arithmetic in numpy
    on the event loop, and the frame crosses into OpenVINO at a quarter of the bytes.
    """
    from openvino.preprocess import ColorFormat, PrePostProcessor

    norm = architecture(entry.decoder).normalisation(entry.options)
    ppp = PrePostProcessor(model)
    port = ppp.input()
    port.tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_color_format(
        ColorFormat.BGR
    )
    port.model().set_layout(ov.Layout(norm.layout))
    steps = port.preprocess().convert_element_type(ov.Type.f32)
    if norm.rgb:
        steps.convert_color(ColorFormat.RGB)
    if norm.mean is not None:
        steps.mean(list(norm.mean))
    steps.scale(list(norm.scale) if isinstance(norm.scale, tuple) else norm.scale)
    return ppp.build()


def load_detector(
    entry: ModelEntry,
    runtime: InferenceRuntime,
    store: ModelStore,
    *,
    score_threshold: float = 0.4,
    progress: Progress = _silent,
) -> ObjectDetector:
    """A ready, self-tested object detector for ``entry``."""
    model = _read(runtime, store, entry, progress)
    shape = model.inputs[0].get_partial_shape()
    if shape.is_dynamic:
        width, height = entry.input_size
        layout = architecture(entry.decoder).normalisation(entry.options).layout
        model.reshape([1, 3, height, width] if layout == "NCHW" else [1, height, width, 3])
    model = embed_preprocessing(model, entry)
    detector = ObjectDetector(
        entry, runtime.compile(model, entry.name), score_threshold=score_threshold
    )
    detector.self_test()
    return detector


def load_pose_estimator(
    entry: ModelEntry,
    runtime: InferenceRuntime,
    store: ModelStore,
    *,
    input_size: tuple[int, int] | None = None,
    progress: Progress = _silent,
) -> PoseEstimator:
    """A ready, self-tested MoveNet; ``input_size`` overrides the zoo's (multiples of 32)."""
    width, height = input_size or entry.input_size
    if width % 32 or height % 32:
        raise ModelFormatError(f"{entry.name}: input size {width}x{height} must be multiples of 32")
    model = _read(runtime, store, entry, progress)
    model.reshape([1, height, width, 3])
    if input_size is not None:
        from dataclasses import replace

        entry = replace(entry, input_size=(width, height))
    estimator = PoseEstimator(entry, runtime.compile(model, entry.name))
    estimator.self_test()
    return estimator


def load_fight_classifier(
    entry: ModelEntry,
    runtime: InferenceRuntime,
    store: ModelStore,
    *,
    progress: Progress = _silent,
) -> FightClassifier:
    """A ready, self-tested fight clip classifier (converted to IR once, verified every load)."""
    model = _read(runtime, store, entry, progress)
    classifier = FightClassifier(entry, runtime.compile(model, entry.name))
    classifier.self_test()
    return classifier


def load_optional_fight_classifier(
    name: str | None,
    runtime: InferenceRuntime,
    store: ModelStore,
    *,
    with_pose: bool = True,
    progress: Progress = _silent,
) -> tuple[FightClassifier | None, str | None]:
    """The fight classifier called ``name`` if installed, else ``None`` and why it is not.

    The fight model is optional: when neither the cache nor the mirror has it, the engine
    starts without it (the fight rule then uses pose alone) instead of downloading 43 MB
    at start or failing. A corrupted file is still an error, as for every model. Without
    a pose model (``with_pose`` false) it is not loaded either: the pose gate decides when
    it looks, so it would never run.
    """
    if name is None:
        return None, "switched off (models.fight: null)"
    if not with_pose:
        return None, "not loaded: it needs the pose model as its gate (models.pose is null)"
    entry = store.entry(name)
    if entry.task != "fight":
        raise ModelError(f"models.fight: {name!r} is a {entry.task} model, not a fight model")
    if not store.installed(entry):
        return None, f"not installed (run `school-guard models fetch {name}`)"
    return load_fight_classifier(entry, runtime, store, progress=progress), None
