"""The paho-mqtt side of the publisher: the client, its options and its thread's callbacks.

paho calls back from its own network thread. Everything the publisher keeps (retained
states, pending acknowledgements, counters) belongs to the event loop, so this module's
only job is to build the client and hand each callback to the loop with
``call_soon_threadsafe``; the publisher never touches paho's thread and needs no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Final, Protocol

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from detectors.config import MqttSection

QOS: Final = 1
MAX_QUEUED_MESSAGES: Final = 1000


class LinkHandlers(Protocol):
    """What the publisher does, on the event loop, for each thing paho reports."""

    def on_connected(self, refused: bool, reason: str) -> None:
        """The broker answered the connection (accepted, or refused with ``reason``)."""

    def on_connect_failed(self) -> None:
        """No connection at all: refused, unreachable or the TLS handshake failed."""

    def on_disconnected(self, reason: str) -> None:
        """An established connection was lost (paho reconnects by itself)."""

    def on_acknowledged(self, mid: int, refused: bool, reason: str) -> None:
        """The broker acknowledged message ``mid`` (or refused it, MQTT v5 only)."""


def create_client(settings: MqttSection, client_id: str, will_topic: str, will: bytes) -> Client:
    """A paho client with the engine's credentials, last will and queue bound."""
    client = Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=(
            MQTTProtocolVersion.MQTTv5 if settings.protocol == 5 else MQTTProtocolVersion.MQTTv311
        ),
    )
    if settings.username is not None or settings.password is not None:
        client.username_pw_set(settings.username or "", settings.password)
    client.will_set(will_topic, will, qos=QOS, retain=True)
    client.max_queued_messages_set(MAX_QUEUED_MESSAGES)
    return client


class LoopForwarder:
    """paho's callbacks, each re-posted to the event loop as a :class:`LinkHandlers` call."""

    def __init__(self, client: Client, handlers: LinkHandlers) -> None:
        self._handlers = handlers
        self._loop: asyncio.AbstractEventLoop | None = None
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver callbacks to ``loop`` from now on (before, they are dropped)."""
        self._loop = loop

    def _on_connect(
        self,
        client: Client,
        userdata: Any,
        flags: ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._post(self._handlers.on_connected, reason_code.is_failure, str(reason_code))

    def _on_connect_fail(self, client: Client, userdata: Any) -> None:
        self._post(self._handlers.on_connect_failed)

    def _on_disconnect(
        self,
        client: Client,
        userdata: Any,
        flags: DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._post(self._handlers.on_disconnected, str(reason_code))

    def _on_publish(
        self,
        client: Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> None:
        self._post(self._handlers.on_acknowledged, mid, reason_code.is_failure, str(reason_code))

    def _post(self, handler: Callable[..., None], *args: object) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed while paho was stopping
            loop.call_soon_threadsafe(handler, *args)
