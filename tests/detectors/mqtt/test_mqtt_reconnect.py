"""Availability when the engine dies, and recovery when the broker restarts."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from detectors.mqtt import MqttPublisher
from detectors.protocol.events import event_json

from .conftest import Broker, Watcher, wait_until
from .test_mqtt_publisher import SENT_AT, sample_event

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).resolve().parents[3]
BASE = "school_guard/lincoln"


async def test_last_will_marks_a_killed_engine_offline(
    broker: Broker, make_watcher: Callable[..., Watcher]
) -> None:
    watcher = make_watcher(broker)
    await watcher.wait_subscribed()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.detectors.mqtt.mqtt_will_child",
        str(broker.port),
        "lincoln",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        assert line == b"ready\n"
        online = await watcher.wait_for(f"{BASE}/availability", b"online")
        assert online.retain is False  # live delivery to an existing subscriber
        count = len(watcher.received)

        child.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGKILL
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()

    will = await watcher.wait_for(f"{BASE}/availability", b"offline", after=count)
    assert will.qos == 1
    late = make_watcher(broker)
    retained = await late.wait_for(f"{BASE}/availability")
    assert (retained.payload, retained.retain) == (b"offline", True)


async def test_broker_restart_reconnects_and_republishes(
    make_broker: Callable[..., Broker],
    start_publisher: Callable[..., Awaitable[MqttPublisher]],
    make_watcher: Callable[..., Watcher],
) -> None:
    broker = make_broker(persistence=True)
    # A persistent session keeps the watcher's subscription and queues QoS 1 messages
    # across the restart, so nothing published right after reconnecting is missed.
    watcher = make_watcher(broker, client_id="watcher-restart", persistent=True)
    await watcher.wait_subscribed()
    publisher = await start_publisher(broker.settings(), clock=lambda: SENT_AT)
    publisher.publish_mode("normal", False, 1_760_000_000.0)
    publisher.publish_rule_state("gym", "fight", False)
    await watcher.wait_for(f"{BASE}/cameras/gym/fight", b"OFF")

    broker.stop()
    await wait_until(lambda: not publisher.connected, "publisher noticing the broker is gone")
    publisher.publish_mode("lockdown", False, 1_760_000_050.0)
    publisher.publish_rule_state("gym", "fight", True)
    publisher.publish_event(event_json(sample_event(rule="fight", camera_id="gym")))
    count = len(watcher.received)
    broker.start()

    await wait_until(lambda: publisher.connected, "publisher reconnected", timeout=15)
    availability = await watcher.wait_for(f"{BASE}/availability", b"online", after=count)
    mode = await watcher.wait_for(f"{BASE}/mode", after=count)
    assert json.loads(mode.payload) == {
        "mode": "lockdown",
        "drill": False,
        "changed_at": 1_760_000_050.0,
    }
    await watcher.wait_for(f"{BASE}/cameras/gym/fight", b"ON", after=count)
    event = await watcher.wait_for(f"{BASE}/events", after=count)
    document = json.loads(event.payload)
    assert (document["rule"], document["started_at"], document["sent_at"]) == (
        "fight",
        1_760_000_100.0,
        SENT_AT,
    )
    after_restart = watcher.received[count:]
    assert after_restart.index(availability) < after_restart.index(mode)
    await wait_until(lambda: publisher.stats()["published"] == 7, "7 acknowledgements")
    assert publisher.stats() == {"published": 7, "failed": 0, "reconnects": 1}

    late = make_watcher(broker)
    await late.wait_for(f"{BASE}/cameras/gym/fight", b"ON")
    retained_mode = await late.wait_for(f"{BASE}/mode")
    assert json.loads(retained_mode.payload)["mode"] == "lockdown"


async def test_restarted_broker_without_persistence_gets_states_back(
    broker: Broker,
    start_publisher: Callable[..., Awaitable[MqttPublisher]],
    make_watcher: Callable[..., Watcher],
) -> None:
    publisher = await start_publisher(broker.settings())
    publisher.publish_rule_state("gym", "crowd", True)
    await wait_until(lambda: publisher.stats()["published"] == 2, "2 acknowledgements")

    broker.restart()  # forgets every retained message
    await wait_until(lambda: publisher.stats()["reconnects"] == 1, "a reconnect", timeout=15)

    late = make_watcher(broker)
    await late.wait_for(f"{BASE}/availability", b"online")
    await late.wait_for(f"{BASE}/cameras/gym/crowd", b"ON")
    assert all(message.retain for message in late.received)
