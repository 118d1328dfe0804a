"""The engine loads the fight model when it is installed, and starts without it when not."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import pytest

from detectors.config import parse_config
from detectors.engine.service import Engine
from detectors.zoo.catalog import FIGHT_MC3_18, MOVENET_MULTIPOSE, NANODET_M_416
from detectors.zoo.store import ModelStore


def _config(data_dir: Path, samples: Path) -> dict[str, object]:
    return {
        "engine": {"name": "Fight school", "data_dir": str(data_dir)},
        "inference": {"device": "CPU", "precision": "f32", "performance": "latency"},
        "cameras": [
            {
                "id": "yard",
                "name": "Yard",
                "source": {"type": "file", "url": str(samples / "vtest.avi"), "realtime": True},
                "rules": {"fight": {}},
            }
        ],
    }


async def test_installed_fight_model_is_loaded_and_reported(
    tmp_path: Path, samples_dir: Path, model_store: ModelStore
) -> None:
    config = parse_config(_config(tmp_path / "data", samples_dir))
    engine = Engine(config, data_dir=tmp_path / "data", store=model_store)
    await engine.start()
    try:
        info = engine.info()
        models = info["models"]
        assert isinstance(models, dict)
        assert models["fight"]["name"] == "fight-mc3-18"  # type: ignore[index]
        assert info["models_skipped"] == {}
        for _ in range(200):
            worker = engine.cameras["yard"].worker
            if worker is not None:
                break
            await asyncio.sleep(0.05)
        assert worker is not None
        assert worker.processor.fight is not None, "the camera's fight rule uses the model"
    finally:
        await engine.stop()


async def test_missing_fight_model_is_skipped_logged_once_and_reported(
    tmp_path: Path,
    samples_dir: Path,
    model_store: ModelStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = tmp_path / "cache"
    for entry in (NANODET_M_416, MOVENET_MULTIPOSE):  # everything but the fight model
        shutil.copytree(model_store.folder(entry), cache / entry.name)
    store = ModelStore(cache_dir=cache, mirror_dir=tmp_path / "no-mirror")
    assert not store.installed(FIGHT_MC3_18)
    config = parse_config(_config(tmp_path / "data", samples_dir))
    engine = Engine(config, data_dir=tmp_path / "data", store=store)
    with caplog.at_level(logging.WARNING, logger="detectors.engine.service"):
        await engine.start()
    try:
        reason = "not installed (run `school-guard models fetch fight-mc3-18`)"
        assert engine.info()["models_skipped"] == {
            "fight": {"name": "fight-mc3-18", "reason": reason}
        }
        warnings = [r.getMessage() for r in caplog.records if "fight model" in r.getMessage()]
        assert warnings == [
            f"fight model fight-mc3-18 {reason}: the fight rule judges by pose alone"
        ]
        assert engine.models is not None and engine.models.fight is None
        assert not (cache / FIGHT_MC3_18.name).exists(), "nothing was downloaded at start"
    finally:
        await engine.stop()
