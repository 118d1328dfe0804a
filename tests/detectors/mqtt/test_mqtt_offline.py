"""A publisher whose broker is down: it never blocks, and it accounts for what was lost."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from detectors.config import MqttSection
from detectors.errors import ConfigError
from detectors.mqtt import MqttPublisher
from detectors.protocol.events import event_json

from .conftest import free_port, wait_until
from .test_mqtt_publisher import sample_event

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_unreachable_broker_logs_once_and_counts_lost_events(
    make_publisher: Callable[..., MqttPublisher], caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there
    publisher = make_publisher(MqttSection(host="127.0.0.1", port=port))
    await publisher.start()
    publisher.publish_mode("hold", False, 1.0)  # kept for the next connect, not lost
    publisher.publish_event(event_json(sample_event(id="e1")), b"\xff\xd8\xff\xd9")
    publisher.publish_event(event_json(sample_event(id="e2")))

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]

    await wait_until(lambda: bool(warnings()), "a connection warning")
    await publisher.stop()
    publisher.publish_rule_state("gym", "fight", True)  # after stop: dropped and counted

    assert publisher.connected is False
    assert publisher.stats() == {"published": 0, "failed": 4, "reconnects": 0}
    assert warnings() == [
        f"Cannot connect to MQTT broker 127.0.0.1:{port} (refused, unreachable or TLS "
        "handshake failed); retrying",
        "3 MQTT message(s) were not acknowledged before stopping",
    ]


async def test_bad_settings_are_config_errors(make_publisher: Callable[..., MqttPublisher]) -> None:
    with pytest.raises(
        ConfigError, match=r"^mqtt: engine id 'a b/c' cannot be an MQTT topic level"
    ):
        make_publisher(MqttSection(host="127.0.0.1"), "a b/c")
    with pytest.raises(
        ValueError, match=r"^an event with a snapshot needs a string 'id', got None"
    ):
        make_publisher(MqttSection(host="127.0.0.1")).publish_event({"rule": "weapon"}, b"jpeg")
