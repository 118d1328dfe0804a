"""A real Mosquitto broker per test, real paho subscribers, and a test CA for TLS.

The broker runs as a subprocess from a generated config on a free 127.0.0.1 port (never
the system service), so each test controls its users, ACL, TLS and restarts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from paho.mqtt.client import Client, ConnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from detectors.config import MqttSection, TlsSection, parse_config
from detectors.engine.mqtt_bridge import MqttBridge
from detectors.engine.service import Engine
from detectors.mqtt import MqttPublisher
from detectors.zoo.store import ModelStore
from tests.real_engine import engine_config

READY_TIMEOUT_S = 10.0
WAIT_TIMEOUT_S = 10.0
POLL_S = 0.02


def _mosquitto_binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        pytest.fail(f"{name} is not installed (apt-get install -y mosquitto mosquitto-clients)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until(
    condition: Callable[[], bool], what: str, timeout: float = WAIT_TIMEOUT_S
) -> None:
    """Poll ``condition`` while the event loop keeps running paho's handed-over callbacks."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(POLL_S)


# -- certificates ----------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateFiles:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _make_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _issue(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    common_name: str,
    *,
    server: bool,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return key, builder.sign(ca_key, hashes.SHA256())


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    folder = tmp_path_factory.mktemp("mqtt-pki")
    ca_key, ca_cert = _make_ca("school_guard test CA")
    server_key, server_cert = _issue(ca_key, ca_cert, "127.0.0.1", server=True)
    client_key, client_cert = _issue(ca_key, ca_cert, "engine-lincoln", server=False)
    _, other_ca_cert = _make_ca("someone else's CA")
    pem = serialization.Encoding.PEM
    paths = CertificateFiles(
        ca=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
        other_ca=folder / "other-ca.pem",
    )
    paths.ca.write_bytes(ca_cert.public_bytes(pem))
    paths.server_cert.write_bytes(server_cert.public_bytes(pem))
    paths.client_cert.write_bytes(client_cert.public_bytes(pem))
    paths.other_ca.write_bytes(other_ca_cert.public_bytes(pem))
    _write_key(paths.server_key, server_key)
    _write_key(paths.client_key, client_key)
    return paths


# -- the broker ------------------------------------------------------------------------


@dataclass
class Broker:
    """One Mosquitto process with its own config, on a port kept across restarts."""

    directory: Path
    port: int = field(default_factory=free_port)
    users: dict[str, str] = field(default_factory=dict)
    acl: str | None = None
    pki: CertificateFiles | None = None
    persistence: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / "mosquitto.log"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def write_config(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
        ]
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.directory}/"]
        else:
            lines.append("persistence false")
        if self.users:
            lines += ["allow_anonymous false", f"password_file {self._password_file()}"]
        else:
            lines.append("allow_anonymous true")
        if self.acl is not None:
            acl_file = self.directory / "acl"
            acl_file.write_text(self.acl)
            lines.append(f"acl_file {acl_file}")
        if self.pki is not None:
            lines += [
                f"cafile {self.pki.ca}",
                f"certfile {self.pki.server_cert}",
                f"keyfile {self.pki.server_key}",
                "require_certificate true",
                "tls_version tlsv1.2",
            ]
        path = self.directory / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _password_file(self) -> Path:
        path = self.directory / "passwd"
        path.unlink(missing_ok=True)
        path.touch(mode=0o600)
        tool = _mosquitto_binary("mosquitto_passwd")
        for user, password in self.users.items():
            subprocess.run([tool, "-b", str(path), user, password], check=True, timeout=10)
        return path

    def start(self) -> None:
        assert self.process is None, "broker already running"
        config = self.write_config()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [_mosquitto_binary("mosquitto"), "-c", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"mosquitto exited at start:\n{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"mosquitto did not listen on {self.port}:\n{self.log_text()}"
                    ) from None
                time.sleep(POLL_S)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def settings(self, **overrides: object) -> MqttSection:
        """Publisher settings pointing at this broker (TLS with the test CA when enabled)."""
        values: dict[str, object] = {"host": "127.0.0.1", "port": self.port}
        if self.pki is not None:
            values["tls"] = TlsSection(
                ca=self.pki.ca, cert=self.pki.client_cert, key=self.pki.client_key
            )
        values |= overrides
        return MqttSection(**values)  # type: ignore[arg-type]


@pytest.fixture
def make_broker(tmp_path: Path, socket_enabled: None) -> Iterator[Callable[..., Broker]]:
    """Start brokers configured per test; all are stopped at teardown."""
    brokers: list[Broker] = []

    def factory(**options: object) -> Broker:
        broker = Broker(tmp_path / f"broker{len(brokers)}", **options)  # type: ignore[arg-type]
        brokers.append(broker)
        broker.start()
        return broker

    yield factory
    for broker in brokers:
        broker.stop()


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    """An anonymous broker without TLS."""
    return make_broker()


# -- a real subscriber -----------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    qos: int


class Watcher:
    """A paho subscriber on ``school_guard/#`` that records what it receives.

    ``persistent`` uses a 3.1.1 session the broker keeps (clean_session off), so QoS 1
    messages published while the watcher is away are delivered when it is back.
    """

    def __init__(
        self,
        broker: Broker,
        *,
        username: str | None = None,
        password: str | None = None,
        topic: str = "school_guard/#",
        client_id: str = "",
        persistent: bool = False,
    ) -> None:
        self.topic = topic
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self.subscribed = threading.Event()
        self.connections = 0
        if persistent:
            self.client = Client(
                CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=MQTTProtocolVersion.MQTTv311,
                clean_session=False,
            )
        else:
            self.client = Client(
                CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=MQTTProtocolVersion.MQTTv5,
            )
        self.client.reconnect_delay_set(1, 1)
        if username is not None:
            self.client.username_pw_set(username, password)
        if broker.pki is not None:
            context = ssl.create_default_context(cafile=str(broker.pki.ca))
            context.load_cert_chain(str(broker.pki.client_cert), str(broker.pki.client_key))
            self.client.tls_set_context(context)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect_async("127.0.0.1", broker.port, keepalive=30)
        self.client.loop_start()

    def _on_connect(
        self,
        client: Client,
        userdata: object,
        flags: ConnectFlags,
        reason: object,
        properties: object,
    ) -> None:
        self.connections += 1
        if not flags.session_present:  # resubscribing would replay retained messages
            client.subscribe(self.topic, qos=1)

    def _on_subscribe(
        self, client: Client, userdata: object, mid: int, reasons: object, properties: object
    ) -> None:
        self.subscribed.set()

    def _on_message(self, client: Client, userdata: object, message: MQTTMessage) -> None:
        with self._lock:
            self._received.append(
                Received(message.topic, message.payload, bool(message.retain), message.qos)
            )

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def on(self, topic: str) -> list[Received]:
        return [message for message in self.received if message.topic == topic]

    async def wait_subscribed(self) -> None:
        await wait_until(self.subscribed.is_set, f"subscription to {self.topic}")

    async def wait_for(
        self, topic: str, payload: bytes | None = None, *, after: int = 0
    ) -> Received:
        """Wait for a message on ``topic`` (with ``payload`` when given) past index ``after``."""
        found: list[Received] = []

        def arrived() -> bool:
            for message in self.received[after:]:
                if message.topic == topic and (payload is None or message.payload == payload):
                    found.append(message)
                    return True
            return False

        await wait_until(arrived, f"{topic!r} = {payload!r}")
        return found[0]

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def make_watcher(socket_enabled: None) -> Iterator[Callable[..., Watcher]]:
    watchers: list[Watcher] = []

    def factory(broker: Broker, **options: object) -> Watcher:
        watcher = Watcher(broker, **options)  # type: ignore[arg-type]
        watchers.append(watcher)
        return watcher

    yield factory
    for watcher in watchers:
        watcher.stop()


@pytest.fixture
async def make_publisher(socket_enabled: None) -> AsyncIterator[Callable[..., MqttPublisher]]:
    """Publishers stopped at teardown even when a test fails half-way."""
    publishers: list[MqttPublisher] = []

    def factory(
        settings: MqttSection, engine_id: str = "lincoln", **options: object
    ) -> MqttPublisher:
        publisher = MqttPublisher(settings, engine_id, **options)  # type: ignore[arg-type]
        publishers.append(publisher)
        return publisher

    yield factory
    for publisher in publishers:
        await publisher.stop()


@pytest.fixture
def start_publisher(
    make_publisher: Callable[..., MqttPublisher],
) -> Callable[..., Awaitable[MqttPublisher]]:
    """Make a publisher (stopped at teardown), start it, and wait until it is connected."""

    async def start(settings: MqttSection, **options: object) -> MqttPublisher:
        publisher = make_publisher(settings, **options)
        await publisher.start()
        await wait_until(lambda: publisher.connected, "publisher connected")
        return publisher

    return start


# -- a real engine publishing to the broker ---------------------------------------------


@dataclass
class MqttEngine:
    """A started engine whose messages the bridge publishes, and a subscriber watching."""

    engine: Engine
    publisher: MqttPublisher
    bridge: MqttBridge
    watcher: Watcher
    stopped: bool = False

    @property
    def root(self) -> str:
        """The engine's topic root."""
        return f"school_guard/{self.engine.id}"

    async def stop(self) -> None:
        """Stop the engine, the bridge once it handed everything over, then the publisher."""
        if not self.stopped:
            self.stopped = True
            await self.engine.stop()
            await self.bridge.stop()
            await self.publisher.stop()


@pytest.fixture
async def mqtt_engine(
    broker: Broker,
    make_watcher: Callable[..., Watcher],
    tmp_path: Path,
    samples_dir: Path,
    model_store: ModelStore,
) -> AsyncIterator[MqttEngine]:
    """The test engine (one looped camera) bridged to ``broker``, and a subscribed watcher."""
    data_dir = tmp_path / "data"
    config = replace(
        parse_config(engine_config(data_dir, samples_dir)),
        mqtt=broker.settings(username=None, password=None),
    )
    engine = Engine(config, data_dir=data_dir, store=model_store)
    await engine.start()
    publisher = MqttPublisher(broker.settings(), engine.id)
    await publisher.start()
    bridge = MqttBridge(engine, publisher)
    bridge.attach()
    watcher = make_watcher(broker)
    running = MqttEngine(engine, publisher, bridge, watcher)
    try:
        await watcher.wait_subscribed()
        yield running
    finally:
        await running.stop()
