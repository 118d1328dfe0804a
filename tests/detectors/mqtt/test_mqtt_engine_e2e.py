"""Engine → MQTT end to end: a real engine, a real Mosquitto, a real subscriber."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.detectors.mqtt.conftest import Broker, MqttEngine, Watcher, wait_until


async def test_availability_states_and_events_reach_a_subscriber(
    broker: Broker, make_watcher: Callable[..., Watcher], mqtt_engine: MqttEngine
) -> None:
    engine, watcher, root = mqtt_engine.engine, mqtt_engine.watcher, mqtt_engine.root
    await watcher.wait_for(f"{root}/availability", b"online")
    state_topic = f"{root}/cameras/plaza/state"

    def people_reported() -> bool:
        states = [json.loads(m.payload) for m in watcher.on(state_topic)]
        return any(s["online"] and s["person_count"] >= 2 for s in states)

    await wait_until(people_reported, "person count on MQTT", timeout=60)
    change = await engine.test_alert("plaza", "weapon", seconds=30)
    event = await watcher.wait_for(f"{root}/events")
    payload = json.loads(event.payload)
    assert (payload["id"], payload["change"], payload["drill"]) == (
        change.event_id,
        "started",
        True,
    )
    assert payload["location"] == "Building B, outside"
    assert not event.retain
    await watcher.wait_for(f"{root}/cameras/plaza/weapon", b"ON")
    late = make_watcher(broker)  # a door controller connecting now learns the state
    await late.wait_subscribed()
    retained = await late.wait_for(f"{root}/cameras/plaza/weapon", b"ON")
    assert retained.retain
    await engine.dismiss(change.event_id, "SRO Diaz", "drill over")
    dismissed = [json.loads(m.payload) for m in watcher.on(f"{root}/events")]
    await wait_until(
        lambda: any(
            json.loads(m.payload)["change"] == "dismissed" for m in watcher.on(f"{root}/events")
        ),
        "dismissal on MQTT",
    )
    await watcher.wait_for(f"{root}/cameras/plaza/weapon", b"OFF")
    assert all("password" not in json.dumps(p) for p in dismissed)
    await mqtt_engine.stop()
    await watcher.wait_for(f"{root}/availability", b"offline")
