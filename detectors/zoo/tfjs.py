"""Convert a TensorFlow.js graph model to an OpenVINO model, without TensorFlow.

OpenVINO cannot read TF.js directly, but a TF.js graph model is a TensorFlow ``GraphDef``
written as JSON (``modelTopology``) plus a weights manifest pointing into binary shards.
We rebuild the frozen ``GraphDef`` (protobuf classes from the ``tensorboard`` wheel, so no
TensorFlow install is needed), put every weight back as the tensor of its ``Const`` node,
and hand the bytes to OpenVINO's TensorFlow frontend. The result is saved as IR by the zoo.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.errors import ModelFormatError

ProgressCallback = Callable[[str], None]

# TF.js stores 64-bit integers as int32 and float32 optionally quantised; these are the
# byte sizes of the dtypes a manifest may name.
_DTYPE_BYTES = {"float32": 4, "int32": 4, "bool": 1, "float16": 2, "uint8": 1, "uint16": 2}
_NUMPY_DTYPE = {
    "float32": np.float32,
    "int32": np.int32,
    "bool": np.bool_,
    "float16": np.float16,
    "uint8": np.uint8,
    "uint16": np.uint16,
}
# TensorFlow DataType enum names as they appear in the GraphDef JSON.
_TF_TO_NUMPY = {
    "DT_FLOAT": np.float32,
    "DT_INT32": np.int32,
    "DT_INT64": np.int64,
    "DT_BOOL": np.bool_,
}


def _read_shards(model_dir: Path, manifest: list[dict[str, Any]]) -> bytes:
    """Concatenate every weights shard in manifest order, as TF.js does."""
    chunks: list[bytes] = []
    for group in manifest:
        for rel in group["paths"]:
            shard = model_dir / rel
            if not shard.is_file():
                raise ModelFormatError(f"{shard}: weights shard named in the manifest is missing")
            chunks.append(shard.read_bytes())
    return b"".join(chunks)


def _dequantise(raw: bytes, spec: dict[str, Any]) -> NDArray[Any]:
    """Decode one weight's bytes, undoing TF.js weight quantisation."""
    shape = [int(d) for d in spec["shape"]]
    quant = spec.get("quantization")
    if quant is None:
        return np.frombuffer(raw, dtype=_NUMPY_DTYPE[spec["dtype"]]).reshape(shape)
    stored: NDArray[Any] = np.frombuffer(raw, dtype=_NUMPY_DTYPE[quant["dtype"]])
    if quant["dtype"] == "float16":
        values: NDArray[Any] = stored.astype(np.float32)
    else:  # affine uint8/uint16 quantisation: value = q * scale + min
        values = stored.astype(np.float32) * float(quant["scale"]) + float(quant["min"])
    return values.astype(_NUMPY_DTYPE[quant.get("original_dtype", spec["dtype"])]).reshape(shape)


def _weights(model_dir: Path, manifest: list[dict[str, Any]]) -> dict[str, NDArray[Any]]:
    """Return every weight of the model by name."""
    blob = _read_shards(model_dir, manifest)
    offset = 0
    weights: dict[str, NDArray[Any]] = {}
    for group in manifest:
        for spec in group["weights"]:
            count = int(np.prod([int(d) for d in spec["shape"]], dtype=np.int64))
            stored_dtype = (spec.get("quantization") or spec)["dtype"]
            if stored_dtype not in _DTYPE_BYTES:
                raise ModelFormatError(f"weight {spec['name']!r}: unsupported dtype {stored_dtype}")
            size = count * _DTYPE_BYTES[stored_dtype]
            if offset + size > len(blob):
                raise ModelFormatError(
                    f"weights shards end at byte {len(blob)} but {spec['name']!r} needs "
                    f"bytes {offset}..{offset + size}: the .bin file is truncated"
                )
            weights[spec["name"]] = _dequantise(blob[offset : offset + size], spec)
            offset += size
    if offset != len(blob):
        raise ModelFormatError(
            f"weights shards hold {len(blob)} bytes but the manifest describes {offset}"
        )
    return weights


def tfjs_to_graphdef(model_json: Path) -> bytes:
    """Rebuild the frozen GraphDef of the TF.js graph model at ``model_json``."""
    from google.protobuf import json_format
    from tensorboard.compat.proto import graph_pb2, types_pb2

    try:
        model = json.loads(model_json.read_text(encoding="utf-8"))
        topology = model["modelTopology"]
        manifest = model["weightsManifest"]
    except (OSError, ValueError, KeyError) as err:
        raise ModelFormatError(f"{model_json}: not a TF.js graph model ({err})") from err
    if model.get("format") != "graph-model":
        raise ModelFormatError(f"{model_json}: format {model.get('format')!r} is not graph-model")

    graph = graph_pb2.GraphDef()
    json_format.ParseDict(
        {key: topology[key] for key in ("node", "versions", "library") if key in topology},
        graph,
    )
    weights = _weights(model_json.parent, manifest)
    nodes = {node.name: node for node in graph.node}
    for name, value in weights.items():
        node = nodes.get(name)
        if node is None:
            raise ModelFormatError(f"{model_json}: weight {name!r} has no node in the graph")
        tensor = node.attr["value"].tensor
        tf_dtype = types_pb2.DataType.Name(tensor.dtype)
        target = _TF_TO_NUMPY.get(tf_dtype)
        if target is None:
            raise ModelFormatError(f"{model_json}: node {name!r} has unsupported {tf_dtype}")
        tensor.tensor_content = np.ascontiguousarray(value.astype(target)).tobytes()
    return bytes(graph.SerializeToString())


def convert_tfjs(model_json: Path, pb_path: Path, progress: ProgressCallback | None = None) -> Any:
    """Convert ``model_json`` to an ``openvino.Model`` (the frozen graph is kept at ``pb_path``)."""
    import openvino as ov

    if progress:
        progress(f"rebuilding TensorFlow graph from {model_json.name}")
    pb_path.write_bytes(tfjs_to_graphdef(model_json))
    if progress:
        progress("converting the graph with OpenVINO's TensorFlow frontend")
    try:
        # Core.read_model uses the TensorFlow frontend directly; ov.convert_model would
        # also start OpenVINO's telemetry, and a school's engine must not phone home.
        return ov.Core().read_model(str(pb_path))
    except Exception as err:  # OpenVINO raises its own untyped errors
        raise ModelFormatError(f"{model_json}: OpenVINO could not convert it: {err}") from err
