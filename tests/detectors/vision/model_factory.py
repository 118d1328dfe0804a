"""Build small but real OpenVINO models for tests of the user-model path.

Each model ignores its input except to keep it in the graph and returns a fixed tensor, so
the decoded result is known exactly while loading, hashing, compiling and decoding are the
real code paths.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import openvino as ov
from numpy.typing import NDArray
from openvino import opset13 as ops


def fixed_output_model(output: NDArray[np.float32], input_shape: tuple[int, ...]) -> ov.Model:
    """A model mapping any input of ``input_shape`` to ``output`` (plus 0 x mean(input))."""
    image = ops.parameter(list(input_shape), np.float32, name="images")
    mean = ops.reduce_mean(image, ops.constant(np.arange(len(input_shape), dtype=np.int64)), True)
    zero = ops.multiply(mean, ops.constant(np.zeros((1,) * len(input_shape), np.float32)))
    flat = ops.reshape(zero, ops.constant(np.ones(output.ndim, dtype=np.int64)), False)
    result = ops.add(ops.constant(output), flat)
    return ov.Model([ops.result(result)], [image], "fixed")


def save_ir(model: ov.Model, folder: Path) -> dict[str, str]:
    """Save ``model`` as ``folder/model.xml|bin``; return each file's SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, str(folder / "model.xml"), compress_to_fp16=False)
    return {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in ("model.xml", "model.bin")
    }


def yolov8_two_objects() -> NDArray[np.float32]:
    """[1, 4+2, 3]: a 'pistol' at (10,10)-(30,50), a 'knife' at (40,8)-(60,24), one weak."""
    out = np.zeros((1, 6, 3), np.float32)
    out[0, :, 0] = [20, 30, 20, 40, 0.9, 0.1]
    out[0, :, 1] = [50, 16, 20, 16, 0.05, 0.8]
    out[0, :, 2] = [32, 32, 10, 10, 0.1, 0.1]
    return out
