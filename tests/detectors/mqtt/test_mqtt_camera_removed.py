"""A removed camera's retained MQTT states are cleared at the broker, never left stuck."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from detectors.config import parse_config
from detectors.engine.mqtt_bridge import MqttBridge
from detectors.engine.service import Engine
from detectors.mqtt.publisher import MqttPublisher
from detectors.zoo.store import ModelStore
from tests.detectors.mqtt.conftest import Broker, Watcher
from tests.detectors.service.conftest import engine_config


async def test_removing_a_camera_clears_its_retained_topics(
    broker: Broker,
    make_watcher: Callable[..., Watcher],
    tmp_path: Path,
    samples_dir: Path,
    model_store: ModelStore,
) -> None:
    config = parse_config(engine_config(tmp_path / "data", samples_dir))
    config = replace(config, mqtt=broker.settings(username=None, password=None))
    engine = Engine(config, data_dir=tmp_path / "data", store=model_store)
    await engine.start()
    publisher = MqttPublisher(broker.settings(), engine.id)
    await publisher.start()
    MqttBridge(engine, publisher).attach()
    watcher = make_watcher(broker)
    await watcher.wait_subscribed()
    root = f"school_guard/{engine.id}"
    try:
        await engine.add_camera(
            {
                "id": "gate",
                "name": "Gate",
                "source": {"type": "file", "url": str(samples_dir / "vtest.avi"), "loop": True},
                "rules": {"weapon": {}},
            }
        )
        await watcher.wait_for(f"{root}/cameras/gate/state")
        await watcher.wait_for(f"{root}/cameras/gate/weapon", b"OFF")
        mark = len(watcher.received)
        await engine.remove_camera("gate")
        cleared = await watcher.wait_for(f"{root}/cameras/gate/state", b"", after=mark)
        assert cleared.retain is False  # a live delete arrives as an ordinary empty message
        await watcher.wait_for(f"{root}/cameras/gate/weapon", b"", after=mark)

        late = make_watcher(broker)
        await late.wait_subscribed()
        await late.wait_for(f"{root}/availability", b"online")
        await late.wait_for(f"{root}/cameras/plaza/state")
        assert [m.topic for m in late.received if "/cameras/gate/" in m.topic] == []
    finally:
        await engine.stop()
        await publisher.stop()
