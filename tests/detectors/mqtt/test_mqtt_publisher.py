"""The publisher against a real Mosquitto: retained states, events, snapshots, 3.1.1."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest

from detectors.incidents.records import EventRecord, ModelInfo
from detectors.mqtt import MqttPublisher, camera_state_payload
from detectors.pipeline.reader import CameraStatus
from detectors.protocol.events import event_json

from .conftest import Broker, Watcher, wait_until

pytestmark = pytest.mark.usefixtures("socket_enabled")

SENT_AT = 1_760_000_123.25
BASE = "school_guard/lincoln"


def sample_event(**changes: object) -> EventRecord:
    values: dict[str, object] = {
        "id": "evt-0001",
        "camera_id": "main-entrance",
        "camera_name": "Main entrance",
        "location": "Building A, ground floor",
        "rule": "weapon",
        "zone": None,
        "state": "started",
        "started_at": 1_760_000_100.0,
        "updated_at": 1_760_000_100.0,
        "ended_at": None,
        "end_reason": None,
        "confidence": 0.91,
        "scores": (0.88, 0.91),
        "boxes": ((10.0, 20.0, 110.0, 220.0),),
        "drill": False,
        "model": ModelInfo("nanodet-m-416", "1", "CPU", "f32"),
        "thresholds": {"min_confidence": 0.6},
        "acknowledged_by": None,
        "acknowledged_at": None,
        "acknowledged_note": None,
        "dismissed_by": None,
        "dismissed_at": None,
        "dismissed_reason": None,
        "has_snapshot": True,
    }
    values |= changes
    return EventRecord(**values)  # type: ignore[arg-type]


def camera_state() -> dict[str, object]:
    status = CameraStatus("main-entrance", True, None, 4.987, 1_760_000_099.5)
    return camera_state_payload(
        status.to_json(), name="Main entrance", location="Building A, ground floor", person_count=3
    )


async def test_late_subscriber_sees_availability_and_retained_states(
    broker: Broker,
    make_publisher: Callable[..., MqttPublisher],
    make_watcher: Callable[..., Watcher],
) -> None:
    publisher = make_publisher(broker.settings())
    publisher.publish_mode("hold", True, 1_760_000_000.0)  # before start: kept, sent on connect
    await publisher.start()
    await wait_until(lambda: publisher.connected, "publisher connected")
    publisher.publish_camera("main-entrance", camera_state())
    publisher.publish_rule_state("main-entrance", "weapon", True)
    publisher.publish_rule_state("main-entrance", "fight", False)
    await wait_until(lambda: publisher.stats()["published"] == 5, "5 acknowledgements")

    watcher = make_watcher(broker)
    expected = {
        f"{BASE}/availability": b"online",
        f"{BASE}/mode": b'{"mode":"hold","drill":true,"changed_at":1760000000.0}',
        f"{BASE}/cameras/main-entrance/weapon": b"ON",
        f"{BASE}/cameras/main-entrance/fight": b"OFF",
    }
    for topic, payload in expected.items():
        message = await watcher.wait_for(topic, payload)
        assert (message.retain, message.qos) == (True, 1)
    state = await watcher.wait_for(f"{BASE}/cameras/main-entrance/state")
    assert state.retain is True
    assert json.loads(state.payload) == {
        "online": True,
        "reason": None,
        "fps": 4.99,
        "analysed_fps": 0.0,
        "last_frame_at": 1_760_000_099.5,
        "name": "Main entrance",
        "location": "Building A, ground floor",
        "person_count": 3,
    }
    assert publisher.stats() == {"published": 5, "failed": 0, "reconnects": 0}

    await publisher.stop()
    assert publisher.connected is False
    late = make_watcher(broker)
    offline = await late.wait_for(f"{BASE}/availability")
    assert (offline.payload, offline.retain) == (b"offline", True)
    assert publisher.stats() == {"published": 6, "failed": 0, "reconnects": 0}


async def test_event_is_qos1_not_retained_with_its_snapshot(
    broker: Broker,
    start_publisher: Callable[..., Awaitable[MqttPublisher]],
    make_watcher: Callable[..., Watcher],
) -> None:
    watcher = make_watcher(broker)
    await watcher.wait_subscribed()
    publisher = await start_publisher(broker.settings(), clock=lambda: SENT_AT)
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
    event = sample_event()

    publisher.publish_event(event_json(event), jpeg)

    message = await watcher.wait_for(f"{BASE}/events")
    assert (message.retain, message.qos) == (False, 1)
    assert json.loads(message.payload) == event_json(event) | {
        "scores": [0.88, 0.91],
        "boxes": [[10.0, 20.0, 110.0, 220.0]],
        "sent_at": SENT_AT,
    }
    snapshot = await watcher.wait_for(f"{BASE}/events/evt-0001/snapshot")
    assert (snapshot.payload, snapshot.retain, snapshot.qos) == (jpeg, False, 1)
    await wait_until(lambda: publisher.stats()["published"] == 3, "3 acknowledgements")

    late = make_watcher(broker)
    await late.wait_for(f"{BASE}/availability", b"online")
    assert [m.topic for m in late.received] == [f"{BASE}/availability"]


async def test_latest_state_wins_when_updated_quickly(
    broker: Broker,
    start_publisher: Callable[..., Awaitable[MqttPublisher]],
    make_watcher: Callable[..., Watcher],
) -> None:
    publisher = await start_publisher(broker.settings())
    for index, mode in enumerate(["hold", "secure", "lockdown", "normal"]):
        publisher.publish_mode(mode, False, 1_760_000_000.0 + index)
    await wait_until(lambda: publisher.stats()["published"] == 5, "5 acknowledgements")

    late = make_watcher(broker)
    message = await late.wait_for(f"{BASE}/mode")
    assert json.loads(message.payload) == {
        "mode": "normal",
        "drill": False,
        "changed_at": 1_760_000_003.0,
    }


async def test_mqtt_311_publishes_the_same_contract(
    broker: Broker,
    start_publisher: Callable[..., Awaitable[MqttPublisher]],
    make_watcher: Callable[..., Watcher],
) -> None:
    watcher = make_watcher(broker)
    await watcher.wait_subscribed()
    publisher = await start_publisher(
        broker.settings(protocol=311, topic_root="district/school_guard"), clock=lambda: SENT_AT
    )
    publisher.publish_rule_state("gym", "crowd", True)
    publisher.publish_event(event_json(sample_event(id="evt-0002", has_snapshot=False)))

    watcher_all = make_watcher(broker, topic="district/#")
    await watcher_all.wait_for("district/school_guard/lincoln/availability", b"online")
    await watcher_all.wait_for("district/school_guard/lincoln/cameras/gym/crowd", b"ON")
    await wait_until(lambda: publisher.stats()["published"] == 3, "3 acknowledgements")
    assert publisher.stats() == {"published": 3, "failed": 0, "reconnects": 0}
    assert watcher.received == []  # nothing leaked outside the configured root
