"""Real models for engine tests: the cache that scripts/setup filled, CPU, f32."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.inference import InferenceRuntime, InferenceSettings
from detectors.vision import ObjectDetector, PoseEstimator, load_detector, load_pose_estimator
from detectors.zoo.catalog import DEFAULT_MODELS
from detectors.zoo.store import ModelStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def runtime() -> InferenceRuntime:
    """CPU with f32 precision so expected scores do not depend on the host (NOTES.md)."""
    return InferenceRuntime(InferenceSettings(device="CPU", precision="f32", performance="latency"))


@pytest.fixture(scope="session")
def detector(runtime: InferenceRuntime, model_store: ModelStore) -> ObjectDetector:
    """The default NanoDet detector."""
    return load_detector(DEFAULT_MODELS["nanodet-m-416"], runtime, model_store)


@pytest.fixture(scope="session")
def pose_estimator(runtime: InferenceRuntime, model_store: ModelStore) -> PoseEstimator:
    """The default MoveNet MultiPose estimator."""
    return load_pose_estimator(DEFAULT_MODELS["movenet-multipose-lightning"], runtime, model_store)


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private model cache for tests that corrupt or delete files."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SCHOOL_GUARD_MODEL_CACHE", str(cache))
    return cache
