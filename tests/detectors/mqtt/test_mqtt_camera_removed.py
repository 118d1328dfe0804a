"""A removed camera's retained MQTT states are cleared at the broker, never left stuck."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.detectors.mqtt.conftest import Broker, MqttEngine, Watcher


async def test_removing_a_camera_clears_its_retained_topics(
    broker: Broker,
    make_watcher: Callable[..., Watcher],
    mqtt_engine: MqttEngine,
    samples_dir: Path,
) -> None:
    engine, watcher, root = mqtt_engine.engine, mqtt_engine.watcher, mqtt_engine.root
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
