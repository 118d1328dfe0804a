"""The engine's MQTT publisher: paho-mqtt in its own thread, state owned by the event loop.

Why it is built this way:

* ``start`` never blocks: paho connects and reconnects (with back-off) in its network
  thread, so a broker that is down or slow never stalls detection.
* Every paho callback is handed to the event loop with ``call_soon_threadsafe``; all
  bookkeeping (retained states, pending acknowledgements, counters) is touched only on
  the loop thread, so there are no locks to get wrong. Call the ``publish_*`` methods
  from the event loop's thread.
* Retained states are kept in memory and republished after every (re)connect,
  availability ``online`` first, because a restarted broker without persistence has
  forgotten them. While offline they are only stored, never queued in paho, so an old
  value cannot be sent after a newer one. If a state published just before a disconnect
  is resent by paho after the republish, its acknowledgement notices the stale value and
  sends the newest one again.
* Everything goes out with QoS 1, so the broker acknowledges each message. Under MQTT v5
  the PUBACK reason code tells a refused publish (e.g. denied by an ACL) from a delivered
  one; under 3.1.1 a denied publish is acknowledged as a success and cannot be told apart.
* Events published while offline stay queued in paho and are sent after reconnecting, so
  they can arrive late: each carries ``sent_at`` besides the event's own timestamps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, NoReturn

from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from detectors.config import MqttSection
from detectors.errors import ConfigError
from detectors.mqtt.paho_link import MAX_QUEUED_MESSAGES, QOS, LoopForwarder, create_client
from detectors.mqtt.payloads import encode_json, mode_payload, sanitise_payload
from detectors.mqtt.topics import EngineTopics

_LOGGER = logging.getLogger(__name__)

KEEPALIVE_S: Final = 30
STOP_TIMEOUT_S: Final = 3.0
ONLINE: Final = b"online"
OFFLINE: Final = b"offline"
JSON_TYPE: Final = "application/json"
JPEG_TYPE: Final = "image/jpeg"
TEXT_TYPE: Final = "text/plain"
# Mosquitto answers a wrong password with "Not authorized" under v5.
_LOGIN_REFUSALS: Final = frozenset({"Bad user name or password", "Not authorized"})


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """A message handed to paho and not yet acknowledged by the broker."""

    topic: str
    payload: bytes
    retained: bool


def _refuse_encrypted_key() -> NoReturn:
    """Stop OpenSSL from prompting on the terminal for a key passphrase (it would hang)."""
    raise ConfigError("mqtt.tls.key is encrypted; give an unencrypted key file (mode 0600)")


def tls_context(settings: MqttSection) -> ssl.SSLContext | None:
    """Build the client TLS context, verifying the broker's certificate and host name.

    An empty ``tls`` section means TLS against the system's CA store. Problems with the
    files raise :class:`ConfigError` naming the ``mqtt.tls`` key, at start-up.
    """
    tls = settings.tls
    if tls is None:
        return None
    try:
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=None if tls.ca is None else str(tls.ca)
        )
        if tls.cert is not None:
            context.load_cert_chain(
                str(tls.cert),
                None if tls.key is None else str(tls.key),
                password=_refuse_encrypted_key,
            )
    except (OSError, ssl.SSLError) as err:
        raise ConfigError(f"mqtt.tls: cannot load the TLS files: {err}") from err
    if tls.key is not None and tls.cert is None:
        raise ConfigError("mqtt.tls.key is set without mqtt.tls.cert")
    return context


class MqttPublisher:
    """Publish one engine's availability, mode, camera states, rule states and events.

    ``clock`` (wall seconds) stamps ``sent_at`` on events; ``reconnect_delay`` is paho's
    back-off range in seconds. Both are injectable for tests.
    """

    def __init__(
        self,
        settings: MqttSection,
        engine_id: str,
        *,
        client_id: str | None = None,
        clock: Callable[[], float] = time.time,
        reconnect_delay: tuple[int, int] = (1, 30),
    ) -> None:
        try:
            self._topics = EngineTopics(settings.topic_root, engine_id)
        except ValueError as err:
            raise ConfigError(f"mqtt: {err}") from err
        self._settings = settings
        self._clock = clock
        self._v5 = settings.protocol == 5
        self._client = create_client(
            settings, client_id or f"school-guard-{engine_id}", self._topics.availability, OFFLINE
        )
        self._client.reconnect_delay_set(*reconnect_delay)
        self._callbacks = LoopForwarder(self._client, self)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._online = False
        self._ever_connected = False
        self._stopping = False
        self._retained: dict[str, bytes] = {}
        self._pending: dict[int, _Outgoing] = {}
        self._inflight_per_topic: Counter[str] = Counter()
        self._ack_waiters: dict[int, asyncio.Future[bool]] = {}
        self._refused_topics: set[str] = set()
        self._last_problem: str | None = None
        self._published = 0
        self._failed = 0
        self._reconnects = 0

    @property
    def topics(self) -> EngineTopics:
        """The topics this publisher uses."""
        return self._topics

    @property
    def connected(self) -> bool:
        """Whether the broker accepted the connection and states were republished."""
        return self._online

    def stats(self) -> dict[str, int]:
        """Messages acknowledged, refused or lost, and reconnects after the first connect."""
        return {
            "published": self._published,
            "failed": self._failed,
            "reconnects": self._reconnects,
        }

    async def start(self) -> None:
        """Begin connecting in paho's thread and return at once.

        Raises :class:`ConfigError` when the TLS files cannot be loaded.
        """
        if self._loop is not None:
            raise RuntimeError("MqttPublisher.start() was already called")
        context = tls_context(self._settings)
        if context is not None:
            self._client.tls_set_context(context)
        self._loop = asyncio.get_running_loop()
        self._callbacks.attach(self._loop)
        settings = self._settings
        self._client.connect_async(settings.host, settings.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()
        _LOGGER.info(
            "Publishing to MQTT broker %s:%d (MQTT %s%s) under %s/",
            settings.host,
            settings.port,
            "5" if self._v5 else "3.1.1",
            ", TLS" if context is not None else "",
            self._topics.base,
        )

    async def stop(self) -> None:
        """Publish availability ``offline``, wait briefly for it, and disconnect cleanly.

        A clean disconnect tells the broker not to send the last will; the explicit
        ``offline`` replaces it. Messages still unacknowledged are counted as failed.
        """
        if self._loop is None or self._stopping:
            return
        self._stopping = True
        if self._client.is_connected():  # also when the connect handler has not run yet
            waiter = self._send(self._topics.availability, OFFLINE, retained=True, wait=True)
            if waiter is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter, STOP_TIMEOUT_S)
        self._online = False
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)
        lost = len(self._pending)
        if lost:
            _LOGGER.warning("%d MQTT message(s) were not acknowledged before stopping", lost)
        self._failed += lost
        self._pending.clear()
        self._inflight_per_topic.clear()
        for waiter in self._ack_waiters.values():
            waiter.cancel()
        self._ack_waiters.clear()

    # -- what the engine publishes -------------------------------------------------------

    def publish_mode(self, mode: str, drill: bool, changed_at: float) -> None:
        """Retain the response mode (``normal``, ``hold``, ...) and whether it is a drill."""
        payload = encode_json(mode_payload(mode, drill, changed_at))
        self._publish_retained(self._topics.mode, payload)

    def publish_camera(self, camera_id: str, state: Mapping[str, object]) -> None:
        """Retain a camera's state document (see :func:`camera_state_payload`)."""
        self._publish_retained(self._topics.camera_state(camera_id), encode_json(state))

    def publish_rule_state(self, camera_id: str, rule: str, on: bool) -> None:
        """Retain ``ON``/``OFF`` for one rule (alert open or not) on one camera."""
        self._publish_retained(self._topics.rule_state(camera_id, rule), b"ON" if on else b"OFF")

    def forget_camera(self, camera_id: str) -> None:
        """Clear a removed camera's retained topics on the broker.

        A retained ``ON`` outliving its camera would keep a door system's view of an alert
        stuck on forever; an empty retained payload deletes the message at the broker.
        """
        prefix = self._topics.camera(camera_id) + "/"
        for topic in [t for t in self._retained if t.startswith(prefix)]:
            del self._retained[topic]
            if self._online and not self._stopping:
                self._send(topic, b"", retained=True)

    def publish_event(self, event: Mapping[str, object], snapshot: bytes | None = None) -> None:
        """Send one alert lifecycle message, then its JPEG snapshot when given.

        ``event`` is the API's event JSON (``detectors.protocol.events.event_json``);
        ``sent_at`` is added because a message queued while offline is delivered only after
        reconnecting.
        """
        document = sanitise_payload(event)
        assert isinstance(document, dict)
        document["sent_at"] = self._clock()
        snapshot_topic = None
        if snapshot is not None:
            event_id = event.get("id")
            if not isinstance(event_id, str):
                raise ValueError(f"an event with a snapshot needs a string 'id', got {event_id!r}")
            snapshot_topic = self._topics.snapshot(event_id)
        if self._stopping:
            self._count_after_stop(self._topics.events)
            return
        self._send(self._topics.events, encode_json(document), retained=False)
        if snapshot_topic is not None and snapshot is not None:
            self._send(snapshot_topic, snapshot, retained=False, content_type=JPEG_TYPE)

    # -- sending (event loop thread only) -------------------------------------------------

    def _publish_retained(self, topic: str, payload: bytes) -> None:
        if self._stopping:
            self._count_after_stop(topic)
            return
        self._retained[topic] = payload
        if self._online:
            self._send(topic, payload, retained=True)

    def _count_after_stop(self, topic: str) -> None:
        self._failed += 1
        _LOGGER.debug("MQTT publisher is stopped; dropped a message for %s", topic)

    def _send(
        self,
        topic: str,
        payload: bytes,
        *,
        retained: bool,
        content_type: str | None = None,
        wait: bool = False,
    ) -> asyncio.Future[bool] | None:
        properties = None
        if self._v5:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.ContentType = content_type or _content_type(payload)
        info = self._client.publish(topic, payload, qos=QOS, retain=retained, properties=properties)
        if info.rc not in {MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN}:
            self._failed += 1
            _LOGGER.warning("MQTT publish to %s failed: %s", topic, _error_text(info.rc))
            return None
        self._pending[info.mid] = _Outgoing(topic, payload, retained)
        self._inflight_per_topic[topic] += 1
        if not wait or self._loop is None:
            return None
        waiter: asyncio.Future[bool] = self._loop.create_future()
        self._ack_waiters[info.mid] = waiter
        return waiter

    # -- what paho reports (LinkHandlers, called on the event loop) -----------------------

    def on_acknowledged(self, mid: int, refused: bool, reason: str) -> None:
        """Count the outcome; resend a retained topic whose newer value was held back."""
        outgoing = self._pending.pop(mid, None)
        if outgoing is None:
            return
        topic = outgoing.topic
        self._inflight_per_topic[topic] -= 1
        if self._inflight_per_topic[topic] <= 0:
            del self._inflight_per_topic[topic]
        waiter = self._ack_waiters.pop(mid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(not refused)
        if refused:
            self._failed += 1
            log = _LOGGER.debug if topic in self._refused_topics else _LOGGER.warning
            log("MQTT broker refused the publish to %s: %s", topic, reason)
            self._refused_topics.add(topic)
        else:
            self._published += 1
        latest = self._retained.get(topic)
        if (
            outgoing.retained
            and self._online
            and latest is not None
            and latest != outgoing.payload
            and topic not in self._inflight_per_topic
        ):
            self._send(topic, latest, retained=True)

    def on_connected(self, refused: bool, reason: str) -> None:
        """Go online: availability first, then every retained state the broker may lack."""
        if self._stopping:
            return
        settings = self._settings
        if refused:
            self._online = False
            hint = "; check mqtt.username and mqtt.password" if reason in _LOGIN_REFUSALS else ""
            where = f"{settings.host}:{settings.port}"
            self._report_problem(f"MQTT broker {where} refused the connection: {reason}{hint}")
            return
        if self._ever_connected:
            self._reconnects += 1
        self._ever_connected = True
        self._online = True
        self._last_problem = None
        _LOGGER.info("Connected to MQTT broker %s:%d", settings.host, settings.port)
        self._send(self._topics.availability, ONLINE, retained=True)
        for topic, payload in self._retained.items():
            self._send(topic, payload, retained=True)

    def on_connect_failed(self) -> None:
        """Say once that the broker is unreachable; paho keeps retrying."""
        if self._stopping:
            return
        settings = self._settings
        self._report_problem(
            f"Cannot connect to MQTT broker {settings.host}:{settings.port} (refused, "
            "unreachable or TLS handshake failed); retrying"
        )

    def on_disconnected(self, reason: str) -> None:
        """Stop sending retained states (they are kept for the republish)."""
        was_online, self._online = self._online, False
        if was_online and not self._stopping:
            settings = self._settings
            _LOGGER.warning(
                "Lost connection to MQTT broker %s:%d (%s); reconnecting",
                settings.host,
                settings.port,
                reason,
            )

    def _report_problem(self, message: str) -> None:
        """Log a connection problem once, not on every back-off retry."""
        if message == self._last_problem:
            _LOGGER.debug("%s", message)
        else:
            _LOGGER.warning("%s", message)
        self._last_problem = message


def _content_type(payload: bytes) -> str:
    return JSON_TYPE if payload[:1] in {b"{", b"["} else TEXT_TYPE


def _error_text(rc: MQTTErrorCode) -> str:
    return {
        MQTTErrorCode.MQTT_ERR_QUEUE_SIZE: f"more than {MAX_QUEUED_MESSAGES} messages queued",
        MQTTErrorCode.MQTT_ERR_PAYLOAD_SIZE: "payload too large",
    }.get(rc, rc.name)
