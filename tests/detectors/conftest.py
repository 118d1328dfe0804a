"""Real models for engine tests: the cache that scripts/setup filled, CPU, f32."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from detectors.inference import InferenceRuntime, InferenceSettings
from detectors.sim.media import StreamSpec, concatenate, encode
from detectors.sim.media import default_cache_dir as default_sim_cache
from detectors.sim.rtsp_server import RtspMount, RtspServerProcess
from detectors.vision import ObjectDetector, PoseEstimator, load_detector, load_pose_estimator
from detectors.zoo.catalog import DEFAULT_MODELS, HUMAN_FALL_YOLOV8, user_model_entry
from detectors.zoo.store import ModelStore


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


@pytest.fixture(scope="session")
def fall_model(runtime: InferenceRuntime, model_store: ModelStore) -> ObjectDetector:
    """The opt-in fall model (AGPL-3.0, fetched by scripts/setup, never shipped)."""
    return load_detector(HUMAN_FALL_YOLOV8, runtime, model_store)


@pytest.fixture(scope="session")
def user_fall_model(
    runtime: InferenceRuntime, model_store: ModelStore, tmp_path_factory: pytest.TempPathFactory
) -> ObjectDetector:
    """The same third-party YOLOv8 ONNX loaded as a school would load its own model.

    Through the user-model spec (a local path, its SHA-256, labels, input size), into a
    cache of its own: the path a school's weapon detector takes too.
    """
    model_store.fetch(HUMAN_FALL_YOLOV8)
    file = HUMAN_FALL_YOLOV8.primary
    entry = user_model_entry(
        {
            "name": "school-fall-detector",
            "task": "detector",
            "format": "onnx",
            "decoder": "yolo",
            "path": str(model_store.folder(HUMAN_FALL_YOLOV8)),
            "files": {file.name: file.sha256},
            "labels": ["normal", "fall"],
            "input_size": [640, 640],
        }
    )
    store = ModelStore(cache_dir=tmp_path_factory.mktemp("user-models"), mirror_dir=None)
    return load_detector(entry, runtime, store)


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private model cache for tests that corrupt or delete files."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SCHOOL_GUARD_MODEL_CACHE", str(cache))
    return cache


# -- GStreamer's RTSP server on loopback ------------------------------------------------

RTSP_USER = "admin"
RTSP_PASSWORD = "s3cret"
"""The test camera's password (tests only)."""


@dataclass(frozen=True)
class RtspMedia:
    """Short clips encoded once per machine (cached in .cache/sim-media)."""

    h264: Path
    h265: Path
    resize: Path
    """640x480 for two seconds, then 800x600: a resolution change mid-stream."""


@pytest.fixture(scope="session")
def rtsp_media(samples_dir: Path) -> RtspMedia:
    """Encode the test clips (a few seconds of CPU the first time, reused afterwards)."""
    cache = default_sim_cache()
    source = samples_dir / "vtest.avi"
    first = encode(
        source, StreamSpec("h264", 640, 480, seconds=2.0), container="ts", cache_dir=cache
    )
    second = encode(
        source,
        StreamSpec("h264", 800, 600, seconds=2.0, start_seconds=2.0),
        container="ts",
        cache_dir=cache,
    )
    return RtspMedia(
        h264=encode(source, StreamSpec("h264", 640, 480, seconds=4.0), cache_dir=cache),
        h265=encode(source, StreamSpec("h265", 640, 480, seconds=4.0), cache_dir=cache),
        resize=concatenate([first, second], cache_dir=cache),
    )


@pytest.fixture
async def rtsp_server(
    rtsp_media: RtspMedia, socket_enabled: None
) -> AsyncIterator[RtspServerProcess]:
    """GStreamer's RTSP server with Digest auth: /h264, /h265 and /resize."""
    server = RtspServerProcess(
        [
            RtspMount("/h264", rtsp_media.h264, "h264"),
            RtspMount("/h265", rtsp_media.h265, "h265"),
            RtspMount("/resize", rtsp_media.resize, "h264"),
        ],
        username=RTSP_USER,
        password=RTSP_PASSWORD,
    )
    async with server:
        yield server


def open_fds() -> int:
    """File descriptors this process holds now."""
    return len(os.listdir("/proc/self/fd"))


def native_threads() -> int:
    """Threads of this process as the kernel sees them (FFmpeg's included)."""
    return len(os.listdir("/proc/self/task"))


async def wait_until(condition: Callable[[], bool], deadline_s: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``deadline_s``."""
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            pytest.fail("condition not reached before the deadline")
        await asyncio.sleep(0.02)
