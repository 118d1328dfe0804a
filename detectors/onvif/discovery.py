"""Find ONVIF cameras with WS-Discovery: multicast on the LAN and unicast to given hosts.

The ``wsdiscovery`` package skips loopback interfaces and cannot be aimed at one host,
so this is a small asyncio implementation: one UDP socket sends a ``Probe`` to
239.255.255.250:3702 and to every unicast target, collects the ``ProbeMatches`` that
answer it (matched by message id) until the timeout, and merges cameras that answered
more than once (multicast and unicast, repeated probes) by their endpoint reference.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from detectors.onvif.errors import OnvifDiscoveryError
from detectors.onvif.ws_discovery import (
    DISCOVERY_PORT,
    MULTICAST_GROUP,
    DeviceAnnouncement,
    parse_probe_matches,
    probe_message,
    scope_value,
)

_LOGGER = logging.getLogger(__name__)
REPEAT_AFTER_S = 0.25
"""UDP may drop a datagram; each probe is sent a second time after this delay."""


@dataclass(frozen=True, slots=True)
class DiscoveredCamera:
    """One camera that answered, with what its scopes say about it."""

    endpoint: str
    xaddrs: tuple[str, ...]
    scopes: tuple[str, ...]
    name: str | None
    location: str | None
    hardware: str | None
    host: str | None
    port: int | None

    @classmethod
    def from_announcement(cls, device: DeviceAnnouncement) -> DiscoveredCamera:
        """Read name, location, hardware and the first service address."""
        first = urlsplit(device.xaddrs[0])
        try:
            port = first.port or (443 if first.scheme == "https" else 80)
        except ValueError:
            port = None
        return cls(
            endpoint=device.endpoint,
            xaddrs=device.xaddrs,
            scopes=device.scopes,
            name=scope_value(device.scopes, "name"),
            location=scope_value(device.scopes, "location"),
            hardware=scope_value(device.scopes, "hardware"),
            host=first.hostname,
            port=port,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the camera as JSON."""
        return asdict(self)


MAX_CAMERAS = 4096
"""Answers beyond this many cameras are dropped: a flood must not grow without bound."""


class _Collector(asyncio.DatagramProtocol):
    """Collect the answers to one probe.

    An answer must name our probe in ``RelatesTo``. One without it is accepted only from
    an address the probe was sent to straight (some cameras leave it out of unicast
    replies); on the multicast group anyone could send it.
    """

    def __init__(self, message_id: str, unicast_hosts: set[str]) -> None:
        self._message_id = message_id
        self._unicast_hosts = unicast_hosts
        self._quirks_logged: set[tuple[str, str]] = set()
        self.found: dict[str, DiscoveredCamera] = {}

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        reply = parse_probe_matches(data)
        if reply is None:
            return
        sender = str(addr[0])
        if reply.relates_to != self._message_id and not (
            not reply.relates_to and sender in self._unicast_hosts
        ):
            return
        for quirk in reply.quirks:
            if (sender, quirk) not in self._quirks_logged:
                self._quirks_logged.add((sender, quirk))
                _LOGGER.info("WS-Discovery: camera at %s answered with %s", sender, quirk)
        for device in reply.devices:
            if len(self.found) >= MAX_CAMERAS:
                return
            self.found.setdefault(device.endpoint, DiscoveredCamera.from_announcement(device))

    def error_received(self, exc: Exception) -> None:
        # ICMP "port unreachable" from a unicast target with no responder lands here.
        _LOGGER.debug("WS-Discovery: %s", exc)


def _socket(multicast: bool, interface: str | None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.bind((interface or "0.0.0.0", 0))  # noqa: S104 - replies come to any address
        if multicast:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            if interface:
                sock.setsockopt(
                    socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface)
                )
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def discover(
    targets: Sequence[tuple[str, int]] = (),
    *,
    timeout: float = 3.0,
    multicast: bool = True,
    interface: str | None = None,
) -> list[DiscoveredCamera]:
    """Probe for ONVIF cameras for ``timeout`` seconds and return those that answered.

    ``targets`` are ``(host, port)`` pairs probed directly (cameras on other subnets, or
    a simulator on 127.0.0.1); ``multicast`` also probes 239.255.255.250:3702 from
    ``interface`` (an address of the interface to use; the routing table's choice when
    None). Raises :class:`OnvifDiscoveryError` only when no probe could be sent at all.
    """
    destinations = list(targets)
    if multicast:
        destinations.append((MULTICAST_GROUP, DISCOVERY_PORT))
    if not destinations:
        return []
    message_id = f"urn:uuid:{uuid.uuid4()}"
    message = probe_message(message_id)
    loop = asyncio.get_running_loop()
    try:
        sock = _socket(multicast, interface)
    except OSError as error:
        raise OnvifDiscoveryError(f"cannot open a UDP socket for discovery: {error}") from None
    unicast_hosts = {host for host, _ in targets}
    transport, collector = await loop.create_datagram_endpoint(
        lambda: _Collector(message_id, unicast_hosts), sock=sock
    )
    try:
        failures: list[str] = []
        for attempt in range(2):
            for host, port in destinations:
                try:
                    # Straight to the socket so a failure is seen here, not in the loop.
                    sock.sendto(message, (host, port))
                except OSError as error:
                    if attempt == 0:
                        failures.append(f"{host}:{port}: {error.strerror or error}")
            if attempt == 0:
                if len(failures) == len(destinations):
                    raise OnvifDiscoveryError(
                        "cannot send a WS-Discovery probe: " + "; ".join(failures)
                    )
                for failure in failures:
                    _LOGGER.warning("WS-Discovery probe not sent to %s", failure)
                await asyncio.sleep(min(REPEAT_AFTER_S, timeout))
        await asyncio.sleep(max(0.0, timeout - REPEAT_AFTER_S))
    finally:
        transport.close()
    return sorted(collector.found.values(), key=lambda c: (c.host or "", c.port or 0, c.endpoint))
