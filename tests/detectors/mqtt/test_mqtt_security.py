"""Passwords, ACLs, TLS with client certificates, and secrets kept out of payloads and logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from detectors.config import TlsSection
from detectors.errors import ConfigError
from detectors.mqtt import MqttPublisher
from detectors.protocol.events import event_json

from .conftest import Broker, CertificateFiles, Watcher, wait_until
from .test_mqtt_publisher import sample_event

pytestmark = pytest.mark.usefixtures("socket_enabled")

ENGINE_PASSWORD = "Engine-S3cret-pw"
WATCHER_PASSWORD = "Watcher-pw-42"
CAMERA_PASSWORD = "cam-Hunter2-pw"
ACL = """\
user engine
topic readwrite school_guard/lincoln/#

user watcher
topic read school_guard/#
"""


@pytest.fixture
def secured_broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(users={"engine": ENGINE_PASSWORD, "watcher": WATCHER_PASSWORD}, acl=ACL)


def warnings_from_publisher(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "detectors.mqtt.publisher" and record.levelno == logging.WARNING
    ]


@pytest.mark.parametrize(
    ("protocol", "denied_stats"),
    [
        (5, {"published": 0, "failed": 2, "reconnects": 0}),
        # MQTT 3.1.1 has no PUBACK reason code: Mosquitto acknowledges a denied publish
        # like a delivered one, so the publisher cannot tell (NOTES.md).
        (311, {"published": 2, "failed": 0, "reconnects": 0}),
    ],
)
async def test_acl_allows_own_root_only(
    secured_broker: Broker,
    make_publisher: Callable[..., MqttPublisher],
    make_watcher: Callable[..., Watcher],
    caplog: pytest.LogCaptureFixture,
    protocol: int,
    denied_stats: dict[str, int],
) -> None:
    watcher = make_watcher(secured_broker, username="watcher", password=WATCHER_PASSWORD)
    await watcher.wait_subscribed()
    settings = secured_broker.settings(
        username="engine", password=ENGINE_PASSWORD, protocol=protocol
    )
    allowed = make_publisher(settings, "lincoln")
    denied = make_publisher(settings, "roosevelt", client_id="school-guard-roosevelt")
    await allowed.start()
    await denied.start()
    await wait_until(lambda: allowed.connected and denied.connected, "both publishers connected")

    allowed.publish_mode("normal", False, 1_760_000_000.0)
    denied.publish_mode("lockdown", False, 1_760_000_000.0)

    await watcher.wait_for("school_guard/lincoln/mode")
    await wait_until(lambda: sum(denied.stats().values()) == 2, "2 answers to the denied publisher")
    await wait_until(lambda: allowed.stats()["published"] == 2, "2 acknowledgements")
    assert denied.stats() == denied_stats
    assert allowed.stats() == {"published": 2, "failed": 0, "reconnects": 0}
    assert not [m for m in watcher.received if m.topic.startswith("school_guard/roosevelt/")]
    refusals = [m for m in warnings_from_publisher(caplog) if "refused the publish" in m]
    if protocol == 5:
        assert refusals == [
            "MQTT broker refused the publish to school_guard/roosevelt/availability: Not authorized",
            "MQTT broker refused the publish to school_guard/roosevelt/mode: Not authorized",
        ]
    else:
        assert refusals == []


# Mosquitto answers a wrong password with "Not authorized" under both protocols.
@pytest.mark.parametrize("protocol", [5, 311])
async def test_wrong_password_is_reported_without_the_password(
    secured_broker: Broker,
    make_publisher: Callable[..., MqttPublisher],
    caplog: pytest.LogCaptureFixture,
    protocol: int,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-pw-" + ENGINE_PASSWORD[::-1]
    settings = secured_broker.settings(username="engine", password=wrong, protocol=protocol)
    publisher = make_publisher(settings)
    await publisher.start()

    await wait_until(lambda: bool(warnings_from_publisher(caplog)), "a warning")
    assert publisher.connected is False
    assert warnings_from_publisher(caplog) == [
        f"MQTT broker 127.0.0.1:{secured_broker.port} refused the connection: Not authorized; "
        "check mqtt.username and mqtt.password"
    ]
    await publisher.stop()
    assert wrong not in caplog.text
    assert publisher.stats() == {"published": 0, "failed": 0, "reconnects": 0}


async def test_tls_with_ca_signed_server_and_client_certificates(
    make_broker: Callable[..., Broker],
    pki: CertificateFiles,
    start_publisher: Callable[..., Awaitable[MqttPublisher]],
    make_watcher: Callable[..., Watcher],
) -> None:
    broker = make_broker(pki=pki)
    publisher = await start_publisher(broker.settings())
    publisher.publish_rule_state("lab", "tamper", True)

    watcher = make_watcher(broker)
    await watcher.wait_for("school_guard/lincoln/availability", b"online")
    await watcher.wait_for("school_guard/lincoln/cameras/lab/tamper", b"ON")


async def test_tls_refuses_a_broker_signed_by_another_ca(
    make_broker: Callable[..., Broker],
    pki: CertificateFiles,
    make_publisher: Callable[..., MqttPublisher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = make_broker(pki=pki)
    tls = TlsSection(ca=pki.other_ca, cert=pki.client_cert, key=pki.client_key)
    publisher = make_publisher(broker.settings(tls=tls))
    await publisher.start()

    await wait_until(lambda: bool(warnings_from_publisher(caplog)), "a warning")
    assert warnings_from_publisher(caplog) == [
        f"Cannot connect to MQTT broker 127.0.0.1:{broker.port} (refused, unreachable or "
        "TLS handshake failed); retrying"
    ]
    assert publisher.connected is False


async def test_missing_tls_file_is_a_config_error(
    broker: Broker, make_publisher: Callable[..., MqttPublisher], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "ca.pem"
    publisher = make_publisher(broker.settings(tls=TlsSection(ca=missing)))
    with pytest.raises(ConfigError, match=r"^mqtt\.tls: cannot load the TLS files: "):
        await publisher.start()
    assert publisher.connected is False


async def test_credentials_never_reach_payloads_or_logs(
    secured_broker: Broker,
    start_publisher: Callable[..., Awaitable[MqttPublisher]],
    make_watcher: Callable[..., Watcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    watcher = make_watcher(secured_broker, username="watcher", password=WATCHER_PASSWORD)
    await watcher.wait_subscribed()
    publisher = await start_publisher(
        secured_broker.settings(username="engine", password=ENGINE_PASSWORD),
        clock=lambda: 1_760_000_200.0,
    )
    stream = f"rtsp://admin:{CAMERA_PASSWORD}@192.0.2.10:554/stream1"
    publisher.publish_camera(
        "main-entrance",
        {
            "online": True,
            "name": "Main entrance",
            "source": {
                "type": "rtsp",
                "url": stream,
                "username": "admin",
                "password": CAMERA_PASSWORD,
            },
            "snapshot_url": f"http://192.0.2.10/snap.jpg?user=admin&pwd={CAMERA_PASSWORD}",
            "api_token": "tok-0123456789",
            "Credentials": [{"password": ENGINE_PASSWORD}],
        },
    )
    event = event_json(sample_event()) | {"thresholds": {"token": "tok-0123456789", "min": 0.6}}
    publisher.publish_event(event)

    state = await watcher.wait_for("school_guard/lincoln/cameras/main-entrance/state")
    assert json.loads(state.payload) == {
        "online": True,
        "name": "Main entrance",
        "source": {"type": "rtsp", "url": "rtsp://***@192.0.2.10:554/stream1"},
        "snapshot_url": "http://192.0.2.10/snap.jpg?user=admin&pwd=***",
    }
    sent = await watcher.wait_for("school_guard/lincoln/events")
    assert json.loads(sent.payload)["thresholds"] == {"min": 0.6}
    await publisher.stop()

    everything = b"".join(m.payload for m in watcher.received) + caplog.text.encode()
    for secret in (CAMERA_PASSWORD, ENGINE_PASSWORD, "tok-0123456789", "admin:"):
        assert secret.encode() not in everything
