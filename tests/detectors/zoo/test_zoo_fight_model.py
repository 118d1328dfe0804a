"""The fight model: converted once to IR with a manifest, verified at load, parity with PyTorch.

Parity: ``tests/data/fight_reference.json`` holds the logits PyTorch 2.13 (CPU, f32) gave
for six fixed clips (scripts/fight-reference made them, in a separate venv; the engine and
this suite never import torch). Our OpenVINO rebuild must match each logit within
:data:`LOGIT_TOLERANCE` on CPU at f32, on the same bytes (each clip's SHA-256 is checked
first, so a change in our preprocessing cannot hide as a parity failure, or the reverse).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from detectors.artifacts.files import sha256_of
from detectors.errors import ArtifactChecksumError, ModelChecksumError
from detectors.inference import InferenceRuntime
from detectors.vision import FightClassifier, load_fight_classifier
from detectors.vision.fight import fight_probability
from detectors.zoo.catalog import FIGHT_MC3_18
from detectors.zoo.store import ModelStore

from .fight_parity_clips import (
    LOGIT_TOLERANCE,
    PROBABILITY_TOLERANCE,
    REFERENCE,
    clip_sha256,
    parity_clips,
)


@pytest.fixture(scope="module")
def fight_model(runtime: InferenceRuntime, model_store: ModelStore) -> FightClassifier:
    return load_fight_classifier(FIGHT_MC3_18, runtime, model_store)


def test_logits_match_the_pytorch_reference(
    fight_model: FightClassifier, samples_dir: Path
) -> None:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    assert reference["model_sha256"] == FIGHT_MC3_18.primary.sha256
    clips = parity_clips(samples_dir)
    assert set(clips) == set(reference["clips"])
    worst = 0.0
    for name, clip in clips.items():
        recorded = reference["clips"][name]
        assert clip_sha256(clip) == recorded["sha256"], f"{name}: the clip's bytes changed"
        verdict = fight_model.classify(list(clip))
        expected = np.asarray(recorded["logits"])
        difference = float(np.max(np.abs(np.asarray(verdict.logits) - expected)))
        worst = max(worst, difference)
        assert difference <= LOGIT_TOLERANCE, (name, verdict.logits, expected.tolist())
        assert abs(verdict.fight - fight_probability(expected[None], 0)) <= PROBABILITY_TOLERANCE
    assert worst > 0.0, "identical to the last bit would mean the reference was not torch's"


def test_fight_is_logit_zero_as_the_models_own_code_says(fight_model: FightClassifier) -> None:
    # Fight_utils.py: CLASSES_LIST = ['fight', 'noFight'], softmax, top-1.
    assert FIGHT_MC3_18.labels == ("fight", "no_fight")
    assert fight_probability(np.array([[2.0, 0.0]]), fight_model.fight_index) > 0.88
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))["clips"]
    called_fight = {n for n, c in reference.items() if c["logits"][0] > c["logits"][1]}
    assert called_fight == {"vtest-whole-720"}, "whole frames of walkers: a false 'fight'"


def test_the_pth_is_converted_once_and_its_ir_verified_at_every_load(
    model_store: ModelStore, runtime: InferenceRuntime, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    source = model_store.folder(FIGHT_MC3_18) / FIGHT_MC3_18.primary.name
    (cache / FIGHT_MC3_18.name).mkdir(parents=True)
    shutil.copy(source, cache / FIGHT_MC3_18.name / FIGHT_MC3_18.primary.name)
    store = ModelStore(cache_dir=cache, mirror_dir=tmp_path / "no-mirror")
    messages: list[str] = []
    prepared = store.prepare(FIGHT_MC3_18, messages.append)
    assert prepared.path == cache / FIGHT_MC3_18.name / "ir" / "model.xml"
    assert any("rebuilding mc3_18 from its state_dict" in m for m in messages)
    manifest = json.loads((prepared.path.parent / "manifest.json").read_text())
    assert manifest["sources"] == {FIGHT_MC3_18.primary.name: FIGHT_MC3_18.primary.sha256}
    assert manifest["files"]["model.bin"] == sha256_of(prepared.path.parent / "model.bin")
    assert store.verify(FIGHT_MC3_18) == prepared.path
    again: list[str] = []
    assert store.prepare(FIGHT_MC3_18, again.append).path == prepared.path
    assert again == [], "a verified IR is not converted again"

    weights = prepared.path.parent / "model.bin"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x10
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelChecksumError, match=r"model\.bin: SHA-256 .* recorded at conversion"):
        load_fight_classifier(FIGHT_MC3_18, runtime, store)


def test_installed_means_in_the_cache_or_the_mirror(
    model_store: ModelStore, tmp_path: Path
) -> None:
    empty = ModelStore(cache_dir=tmp_path / "empty", mirror_dir=tmp_path / "no-mirror")
    assert not empty.installed(FIGHT_MC3_18)
    mirror = tmp_path / "mirror" / FIGHT_MC3_18.name
    mirror.mkdir(parents=True)
    shutil.copy(model_store.folder(FIGHT_MC3_18) / FIGHT_MC3_18.primary.name, mirror)
    assert ModelStore(cache_dir=tmp_path / "c2", mirror_dir=mirror.parent).installed(FIGHT_MC3_18)
    broken = tmp_path / "broken" / FIGHT_MC3_18.name
    broken.mkdir(parents=True)
    (broken / FIGHT_MC3_18.primary.name).write_bytes(b"not the model")
    with pytest.raises(ArtifactChecksumError, match=r"model_16_m3_0\.8888\.pth"):
        ModelStore(cache_dir=broken.parent, mirror_dir=tmp_path / "none").installed(FIGHT_MC3_18)


def test_prepared_frames_follow_the_models_own_resize_and_centre_crop(
    fight_model: FightClassifier,
) -> None:
    # A frame whose pixel value encodes its column: after resize to 171 wide and a centre
    # crop starting at column (171 - 112) // 2 = 29, column 0 of the crop is column 29.
    frame = np.tile(np.arange(171, dtype=np.uint8)[None, :, None], (128, 1, 3))
    prepared = fight_model.prepare_frame(frame, (0.0, 0.0, 171.0, 128.0))
    assert prepared.shape == (112, 112, 3) and prepared.dtype == np.uint8
    assert prepared[0, 0, 0] == 29 and prepared[0, 111, 0] == 140
    with pytest.raises(ValueError, match="outside the frame"):
        fight_model.prepare_frame(frame, (500.0, 500.0, 600.0, 600.0))
