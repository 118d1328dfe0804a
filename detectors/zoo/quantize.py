"""INT8 variants of zoo detectors: NNCF post-training quantization, built once per machine.

On CPUs with VNNI (AVX-512 or AVX-VNNI) an INT8 NanoDet runs about 1.45 times as many
inferences a second as the default precision (bf16 where the CPU has it), and inference is
what limits the cameras per box (docs/benchmarks.md). An NPU runs INT8 natively.

No quantized file exists in a registry, so the zoo builds one from the same verified
registry files as the float model. It converts them, then calibrates on the verified
sample footage (``vtest.avi``, every third frame, resized as the engine does, plus
``person.jpg`` and ``astronaut.png``). NNCF's ``MIXED`` preset quantizes weights
symmetrically and activations asymmetrically, and fast bias correction follows. The
result is written once, like any converted model, with a manifest of SHA-256s, and checked
at every load (detectors/zoo/store.py).

How close it stays to the float model is measured, not assumed. On 250 held-out vtest
frames, the INT8 model found 98.4 % of the float model's people (IoU ≥ 0.5) and 99.2 % of
its people were the float model's, with a mean score difference of 0.008
(tests/detectors/zoo/test_zoo_int8.py keeps both above 0.95).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from detectors.architectures import architecture
from detectors.decoders.letterbox import letterbox
from detectors.errors import ModelError

if TYPE_CHECKING:
    import openvino as ov

    from detectors.zoo.catalog import ModelEntry

type Progress = Callable[[str], None]

QUANTIZER_VERSION = 1
"""Raised when the recipe below changes, so INT8 IR built by the old one is rebuilt."""
CALIBRATION_EVERY = 3
"""Every third frame of vtest.avi: 265 frames, consecutive ones are nearly identical."""
CALIBRATION_SAMPLES = ("vtest.avi", "person.jpg", "astronaut.png")


def calibration_images(every: int = CALIBRATION_EVERY) -> list[NDArray[np.uint8]]:
    """The verified sample media the INT8 models are calibrated on, as BGR frames."""
    import cv2

    from detectors.artifacts.samples import SampleStore
    from detectors.media import iter_video

    samples = SampleStore()
    frames = [
        frame.image
        for index, frame in enumerate(iter_video(samples.fetch("vtest.avi")))
        if index % every == 0
    ]
    for name in CALIBRATION_SAMPLES[1:]:
        image = cv2.imread(str(samples.fetch(name)), cv2.IMREAD_COLOR)
        if image is not None:
            frames.append(image)
    return frames


def model_input(image: NDArray[np.uint8], entry: ModelEntry) -> NDArray[np.float32]:
    """``image`` as the float model's own input: resized, normalised, in its layout.

    Resized as the engine does it (NanoDet stretches: it was trained on stretched
    images; detectors/vision/detector.py).

    The engine feeds the compiled model ``uint8`` and lets the graph normalise
    (detectors/vision/loader.py); the model being quantized has no such steps yet, so
    this does them in numpy, the same arithmetic.
    """
    family = architecture(entry.decoder)
    norm = family.normalisation(entry.options)
    boxed, _ = letterbox(image, entry.input_size, keep_ratio=not family.stretch)
    pixels: NDArray[np.float32] = boxed.astype(np.float32)
    if norm.rgb:
        pixels = pixels[..., ::-1]
    mean = np.asarray(norm.mean if norm.mean is not None else 0.0, dtype=np.float32)
    pixels = np.subtract(pixels, mean, dtype=np.float32)
    pixels = np.divide(pixels, np.asarray(norm.scale, dtype=np.float32), dtype=np.float32)
    if norm.layout == "NCHW":
        pixels = pixels.transpose(2, 0, 1)
    tensor: NDArray[np.float32] = np.ascontiguousarray(pixels[np.newaxis], dtype=np.float32)
    return tensor


def nncf_version() -> str:
    """The installed NNCF's version (recorded in the IR manifest), or a clear error."""
    try:
        import nncf
    except ImportError as err:
        raise ModelError(
            "INT8 models are built with NNCF, which is not installed: "
            "pip install 'nncf==3.4.0' (scripts/setup installs it)"
        ) from err
    return str(nncf.__version__)


def quantize_int8(model: ov.Model, entry: ModelEntry, progress: Progress) -> ov.Model:
    """``model`` (the converted float graph of ``entry``) quantized to INT8."""
    nncf_version()
    import nncf

    images = calibration_images()
    if not images:
        raise ModelError(f"{entry.name}: no calibration frames in the sample footage")
    progress(f"{entry.name}: quantizing to INT8 on {len(images)} sample frames (once)")
    dataset = nncf.Dataset(images, lambda image: model_input(image, entry))
    quantized: ov.Model = nncf.quantize(
        model,
        dataset,
        preset=nncf.QuantizationPreset.MIXED,
        target_device=nncf.TargetDevice.CPU,
        subset_size=len(images),
    )
    return quantized
