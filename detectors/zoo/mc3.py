"""torchvision's ``mc3_18`` video network rebuilt with OpenVINO's graph API, from numpy weights.

``mc3_18`` ("mixed convolutions", Tran et al. 2018) is a ResNet-18 for clips: a 3x7x7
stem, one stage of full 3-D 3x3x3 convolutions, then three stages of 1x3x3 ("no temporal")
convolutions, two residual basic blocks per stage, global average pooling and one linear
layer. We rebuild it op by op (``openvino.opset13``) rather than converting a PyTorch
graph, because the engine must not need PyTorch: the weights come from
:func:`detectors.zoo.torch_state.read_state_dict` as numpy arrays.

Batch normalisation (inference mode) is folded into the convolution before it:
``w' = w * g / sqrt(v + eps)`` and ``b' = beta - mean * g / sqrt(v + eps)``, one
convolution plus one bias add instead of five ops. The input is the uint8 BGR clip the
engine has (``[1, T, H, W, 3]``); conversion to float, BGR to RGB, the clip's
normalisation and the transpose to PyTorch's ``[1, 3, T, H, W]`` are the first ops of the
graph, so no float copy of the clip is ever made in numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import openvino as ov
import openvino.opset13 as ops
from numpy.typing import NDArray

from detectors.errors import ModelFormatError
from detectors.zoo.torch_state import read_state_dict

if TYPE_CHECKING:
    from detectors.zoo.catalog import ModelEntry

BN_EPS = 1e-5
"""torchvision's BatchNorm3d default; the state_dict does not record it."""

STAGES: tuple[tuple[str, int, int], ...] = (
    ("layer1", 64, 1),
    ("layer2", 128, 2),
    ("layer3", 256, 2),
    ("layer4", 512, 2),
)
"""(name, output channels, spatial stride of the first block) of the four stages."""

type Weights = Mapping[str, NDArray[Any]]
type Node = Any  # openvino's Output/Node: the opset functions are untyped


def _take(weights: Weights, name: str, shape: Sequence[int] | None = None) -> NDArray[np.float32]:
    try:
        value = weights[name]
    except KeyError:
        raise ModelFormatError(f"mc3_18 weights: {name!r} is missing") from None
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise ModelFormatError(
            f"mc3_18 weights: {name!r} has shape {tuple(value.shape)}, expected {tuple(shape)}"
        )
    return np.asarray(value, dtype=np.float32)


def expected_keys(num_classes: int = 2) -> dict[str, tuple[int, ...]]:
    """Every tensor of an ``mc3_18`` state_dict and its shape (``num_batches_tracked`` too)."""
    keys: dict[str, tuple[int, ...]] = {}

    def conv_bn(prefix: str, bn: str, out_c: int, in_c: int, kernel: tuple[int, int, int]) -> None:
        keys[f"{prefix}.weight"] = (out_c, in_c, *kernel)
        for part in ("weight", "bias", "running_mean", "running_var"):
            keys[f"{bn}.{part}"] = (out_c,)
        keys[f"{bn}.num_batches_tracked"] = ()

    conv_bn("stem.0", "stem.1", 64, 3, (3, 7, 7))
    in_c = 64
    for index, (stage, out_c, stride) in enumerate(STAGES):
        kernel = (3, 3, 3) if index == 0 else (1, 3, 3)
        for block in range(2):
            base = f"{stage}.{block}"
            block_in = in_c if block == 0 else out_c
            conv_bn(f"{base}.conv1.0", f"{base}.conv1.1", out_c, block_in, kernel)
            conv_bn(f"{base}.conv2.0", f"{base}.conv2.1", out_c, out_c, kernel)
            if block == 0 and (stride != 1 or in_c != out_c):
                conv_bn(f"{base}.downsample.0", f"{base}.downsample.1", out_c, in_c, (1, 1, 1))
        in_c = out_c
    keys["fc.weight"] = (num_classes, 512)
    keys["fc.bias"] = (num_classes,)
    return keys


def check_weights(weights: Weights) -> int:
    """Refuse weights that are not exactly an ``mc3_18``; return its number of classes."""
    fc = weights.get("fc.weight")
    if fc is None or fc.ndim != 2:
        raise ModelFormatError("mc3_18 weights: 'fc.weight' is missing or not a matrix")
    expected = expected_keys(int(fc.shape[0]))
    unexpected = sorted(set(weights) - set(expected))
    if unexpected:
        raise ModelFormatError(
            f"mc3_18 weights: unexpected tensors {', '.join(unexpected[:5])}: not an mc3_18"
        )
    for name, shape in expected.items():
        if name.endswith("num_batches_tracked") and name not in weights:
            continue  # older state_dicts lack these counters; they are not used
        _take(weights, name, shape)
    return int(fc.shape[0])


def _conv_bn(
    x: Node,
    weights: Weights,
    conv: str,
    bn: str,
    *,
    stride: tuple[int, int, int],
    pad: tuple[int, int, int],
    relu: bool,
) -> Node:
    """Convolution with the following batch norm folded in, then optionally ReLU."""
    kernel = _take(weights, f"{conv}.weight")
    gamma = _take(weights, f"{bn}.weight")
    beta = _take(weights, f"{bn}.bias")
    mean = _take(weights, f"{bn}.running_mean")
    var = _take(weights, f"{bn}.running_var")
    scale = gamma / np.sqrt(var + BN_EPS)
    folded = (kernel * scale[:, None, None, None, None]).astype(np.float32)
    bias = (beta - mean * scale).astype(np.float32).reshape(1, -1, 1, 1, 1)
    out = ops.convolution(
        x, ops.constant(folded), list(stride), list(pad), list(pad), [1, 1, 1], name=conv
    )
    out = ops.add(out, ops.constant(bias))
    return ops.relu(out) if relu else out


def _block(
    x: Node, weights: Weights, base: str, *, stride: int, full_3d: bool, project: bool
) -> Node:
    """One BasicBlock: conv-bn-relu, conv-bn, plus the (projected) input, then ReLU."""
    first_stride = (stride, stride, stride) if full_3d else (1, stride, stride)
    pad = (1, 1, 1) if full_3d else (0, 1, 1)
    out = _conv_bn(
        x, weights, f"{base}.conv1.0", f"{base}.conv1.1", stride=first_stride, pad=pad, relu=True
    )
    out = _conv_bn(
        out, weights, f"{base}.conv2.0", f"{base}.conv2.1", stride=(1, 1, 1), pad=pad, relu=False
    )
    shortcut = x
    if project:
        shortcut = _conv_bn(
            x,
            weights,
            f"{base}.downsample.0",
            f"{base}.downsample.1",
            stride=first_stride,
            pad=(0, 0, 0),
            relu=False,
        )
    return ops.relu(ops.add(out, shortcut))


def build_mc3_18(
    weights: Weights,
    *,
    frames: int,
    size: int,
    mean: Sequence[float],
    std: Sequence[float],
) -> ov.Model:
    """The network for uint8 BGR clips ``[1, frames, size, size, 3]``; output ``logits``.

    ``mean`` and ``std`` are the RGB normalisation of the model's training (0-1 scale).
    """
    num_classes = check_weights(weights)
    clip = ops.parameter([1, frames, size, size, 3], ov.Type.u8, name="clip")
    x = ops.convert(clip, ov.Type.f32)
    x = ops.gather(x, ops.constant(np.array([2, 1, 0], np.int64)), ops.constant(np.int64(4)))
    mean255 = np.asarray(mean, np.float32) * 255.0
    inv_std255 = 1.0 / (np.asarray(std, np.float32) * 255.0)
    x = ops.multiply(ops.subtract(x, ops.constant(mean255)), ops.constant(inv_std255))
    x = ops.transpose(x, ops.constant(np.array([0, 4, 1, 2, 3], np.int64)))
    x = _conv_bn(x, weights, "stem.0", "stem.1", stride=(1, 2, 2), pad=(1, 3, 3), relu=True)
    in_c = 64
    for index, (stage, out_c, stride) in enumerate(STAGES):
        full_3d = index == 0
        project = stride != 1 or in_c != out_c
        x = _block(x, weights, f"{stage}.0", stride=stride, full_3d=full_3d, project=project)
        x = _block(x, weights, f"{stage}.1", stride=1, full_3d=full_3d, project=False)
        in_c = out_c
    pooled = ops.reduce_mean(x, ops.constant(np.array([2, 3, 4], np.int64)), keep_dims=False)
    fc_w = _take(weights, "fc.weight", (num_classes, 512))
    fc_b = _take(weights, "fc.bias", (num_classes,))
    logits = ops.add(
        ops.matmul(pooled, ops.constant(fc_w), transpose_a=False, transpose_b=True),
        ops.constant(fc_b.reshape(1, -1)),
        name="logits",
    )
    logits.output(0).get_tensor().set_names({"logits"})
    return ov.Model([logits], [clip], "mc3_18")


def convert_state_dict(path: Path, entry: ModelEntry) -> ov.Model:
    """The OpenVINO model of the ``mc3_18`` state_dict at ``path``, as ``entry`` describes.

    ``entry.options`` carries the clip length and normalisation; ``entry.input_size`` the
    square crop side.
    """
    options = entry.options
    return build_mc3_18(
        read_state_dict(path),
        frames=int(options["clip_length"]),
        size=int(entry.input_size[0]),
        mean=tuple(float(v) for v in options["mean"]),
        std=tuple(float(v) for v in options["std"]),
    )
