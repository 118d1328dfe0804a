"""WS-Discovery (2005/04, as ONVIF uses it) messages, and the simulator's responder.

A client multicasts a ``Probe`` for ``dn:NetworkVideoTransmitter`` to
239.255.255.250:3702 (or sends it straight to one camera's port 3702) and every camera
answers the sender, unicast, with a ``ProbeMatches`` naming its device service address
(``XAddrs``) and scopes such as ``onvif://www.onvif.org/name/<name>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote, unquote

from detectors.onvif.soap import (
    XmlRejectedError,
    attr,
    find_local,
    local_name,
    parse_xml,
    text,
    text_of,
)

_LOGGER = logging.getLogger(__name__)

MULTICAST_GROUP = "239.255.255.250"
DISCOVERY_PORT = 3702
MAX_DATAGRAM_BYTES = 64 * 1024
ONVIF_SCOPE = "onvif://www.onvif.org/"
NETWORK_VIDEO_TRANSMITTER = "NetworkVideoTransmitter"

_SOAP = "http://www.w3.org/2003/05/soap-envelope"
_WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
_WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
_DN = "http://www.onvif.org/ver10/network/wsdl"
_TDS = "http://www.onvif.org/ver10/device/wsdl"
_ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
_DISCOVERY_TO = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
_NAMESPACES = (
    f'xmlns:s="{_SOAP}" xmlns:a="{_WSA}" xmlns:d="{_WSD}" xmlns:dn="{_DN}" xmlns:tds="{_TDS}"'
)


def probe_message(message_id: str) -> bytes:
    """Return a ``Probe`` for ONVIF video transmitters."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<s:Envelope {_NAMESPACES}><s:Header>"
        f'<a:Action s:mustUnderstand="1">{_WSD}/Probe</a:Action>'
        f"<a:MessageID>{text(message_id)}</a:MessageID>"
        f"<a:ReplyTo><a:Address>{_ANONYMOUS}</a:Address></a:ReplyTo>"
        f'<a:To s:mustUnderstand="1">{_DISCOVERY_TO}</a:To>'
        "</s:Header><s:Body><d:Probe>"
        f"<d:Types>dn:{NETWORK_VIDEO_TRANSMITTER}</d:Types>"
        "</d:Probe></s:Body></s:Envelope>"
    ).encode()


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """What a received ``Probe`` asks for."""

    message_id: str
    types: tuple[str, ...]
    scopes: tuple[str, ...]


def parse_probe(data: bytes) -> ProbeRequest | None:
    """Return the probe in a datagram, None for anything else (or garbage)."""
    try:
        root = parse_xml(data, max_bytes=MAX_DATAGRAM_BYTES)
    except XmlRejectedError:
        return None
    probe = find_local(root, "Body", "Probe")
    message_id = text_of(find_local(root, "Header", "MessageID"))
    if probe is None or not message_id:
        return None
    types = tuple((text_of(find_local(probe, "Types")) or "").split())
    scopes = tuple((text_of(find_local(probe, "Scopes")) or "").split())
    return ProbeRequest(message_id, types, scopes)


@dataclass(frozen=True, slots=True)
class DeviceAnnouncement:
    """How one device describes itself in a ``ProbeMatch``."""

    endpoint: str
    xaddrs: tuple[str, ...]
    scopes: tuple[str, ...]
    types: tuple[str, ...] = (f"dn:{NETWORK_VIDEO_TRANSMITTER}", "tds:Device")

    def matches(self, probe: ProbeRequest) -> bool:
        """Return True when this device answers ``probe``.

        Types match by local name and scopes by prefix (WS-Discovery's default rule).
        """
        own_types = {t.rpartition(":")[2] for t in self.types}
        if any(t.rpartition(":")[2] not in own_types for t in probe.types):
            return False
        return all(any(s.startswith(p.rstrip("/")) for s in self.scopes) for p in probe.scopes)


def onvif_scopes(name: str, location: str, hardware: str) -> tuple[str, ...]:
    """Return the usual ONVIF scopes, values percent-encoded (names contain spaces)."""
    return (
        f"{ONVIF_SCOPE}type/video_encoder",
        f"{ONVIF_SCOPE}Profile/Streaming",
        f"{ONVIF_SCOPE}name/{quote(name, safe='')}",
        f"{ONVIF_SCOPE}location/{quote(location, safe='')}",
        f"{ONVIF_SCOPE}hardware/{quote(hardware, safe='')}",
    )


def probe_matches_message(
    device: DeviceAnnouncement, relates_to: str, message_number: int
) -> bytes:
    """Return the ``ProbeMatches`` answering the probe ``relates_to``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<s:Envelope {_NAMESPACES}><s:Header>"
        f"<a:Action>{_WSD}/ProbeMatches</a:Action>"
        f"<a:MessageID>urn:uuid:{uuid.uuid4()}</a:MessageID>"
        f"<a:RelatesTo>{text(relates_to)}</a:RelatesTo>"
        f"<a:To>{_ANONYMOUS}</a:To>"
        f'<d:AppSequence InstanceId="1" MessageNumber={attr(message_number)}/>'
        "</s:Header><s:Body><d:ProbeMatches><d:ProbeMatch>"
        f"<a:EndpointReference><a:Address>{text(device.endpoint)}</a:Address>"
        "</a:EndpointReference>"
        f"<d:Types>{text(' '.join(device.types))}</d:Types>"
        f"<d:Scopes>{text(' '.join(device.scopes))}</d:Scopes>"
        f"<d:XAddrs>{text(' '.join(device.xaddrs))}</d:XAddrs>"
        "<d:MetadataVersion>1</d:MetadataVersion>"
        "</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>"
    ).encode()


@dataclass(frozen=True, slots=True)
class ProbeMatchesReply:
    """A parsed answer to a probe, and what in it departed from the standard.

    ``quirks`` names what was tolerated (a missing wrapper, a missing ``RelatesTo``...)
    so the client can log it once per camera: a camera that is odd but readable is found,
    and the installer can still tell its vendor.
    """

    relates_to: str
    devices: list[DeviceAnnouncement]
    quirks: tuple[str, ...] = ()


_MAX_MATCHES = 64
"""No camera answers one probe for more devices than this; the rest of a flood is ignored."""


def _scopes(value: str, quirks: list[str]) -> tuple[str, ...]:
    """Scopes are URIs separated by spaces; rejoin a value a camera did not percent-encode.

    ``onvif://www.onvif.org/name/Gym Hallway`` arrives as two tokens; a token that is no
    URI (no ``:``) belongs to the scope before it.
    """
    scopes: list[str] = []
    for token in value.split():
        if scopes and ":" not in token:
            scopes[-1] = f"{scopes[-1]} {token}"
            if "an unencoded space inside a scope" not in quirks:
                quirks.append("an unencoded space inside a scope")
        else:
            scopes.append(token)
    return tuple(scopes)


def _announcement(match: ET.Element, quirks: list[str]) -> DeviceAnnouncement | None:
    endpoint = text_of(find_local(match, "EndpointReference", "Address"))
    xaddrs = tuple((text_of(find_local(match, "XAddrs")) or "").split())
    if not endpoint or not xaddrs:
        return None
    return DeviceAnnouncement(
        endpoint=endpoint,
        xaddrs=xaddrs,
        scopes=_scopes(text_of(find_local(match, "Scopes")) or "", quirks),
        types=tuple((text_of(find_local(match, "Types")) or "").split()),
    )


def parse_probe_matches(data: bytes) -> ProbeMatchesReply | None:
    """Return the devices a ``ProbeMatches`` announces, None for anything else.

    Parsed leniently, because real cameras vary: a ``ProbeMatch`` placed straight in the
    SOAP body without its ``ProbeMatches`` wrapper, any namespace prefixes (or the SOAP 1.1
    envelope), whitespace around values, a byte-order mark or blank lines before the XML
    declaration, and a missing ``RelatesTo`` (the caller decides whether to trust that).
    """
    quirks: list[str] = []
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped != data:
        quirks.append("bytes before the XML declaration")
    try:
        root = parse_xml(stripped, max_bytes=MAX_DATAGRAM_BYTES)
    except XmlRejectedError:
        return None
    body = find_local(root, "Body")
    if body is None:
        return None
    wrapper = find_local(body, "ProbeMatches")
    if wrapper is None:
        wrapper = body
        if not any(local_name(child.tag) == "ProbeMatch" for child in body):
            return None
        quirks.append("ProbeMatch without a ProbeMatches wrapper")
    relates_to = text_of(find_local(root, "Header", "RelatesTo")) or ""
    if not relates_to:
        quirks.append("no RelatesTo header")
    devices = []
    for match in list(wrapper)[:_MAX_MATCHES]:
        if local_name(match.tag) != "ProbeMatch":
            continue
        device = _announcement(match, quirks)
        if device is None:
            quirks.append("a ProbeMatch without an address or XAddrs")
            continue
        devices.append(device)
    return ProbeMatchesReply(relates_to, devices, tuple(quirks))


def scope_value(scopes: tuple[str, ...], kind: str) -> str | None:
    """Return the decoded value of the first ``onvif://www.onvif.org/<kind>/...`` scope."""
    prefix = f"{ONVIF_SCOPE}{kind}/"
    for scope in scopes:
        if scope.lower().startswith(prefix.lower()):
            return unquote(scope[len(prefix) :])
    return None


class _ResponderProtocol(asyncio.DatagramProtocol):
    def __init__(self, device: DeviceAnnouncement) -> None:
        self._device = device
        self._transport: asyncio.DatagramTransport | None = None
        self._message_number = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self._transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        probe = parse_probe(data)
        if probe is None or self._transport is None or not self._device.matches(probe):
            return
        self._message_number += 1
        reply = probe_matches_message(self._device, probe.message_id, self._message_number)
        self._transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("WS-Discovery responder: %s", exc)


class DiscoveryResponder:
    """Answer WS-Discovery probes for one device on UDP ``port``.

    Unicast probes sent to ``host:port`` are always answered. With ``multicast`` the
    socket also joins 239.255.255.250 on the interface whose address is ``host``; do that
    only inside a private network namespace in tests, so nothing leaves the machine.
    """

    def __init__(
        self,
        device: DeviceAnnouncement,
        *,
        host: str = "127.0.0.1",
        port: int = DISCOVERY_PORT,
        multicast: bool = False,
    ) -> None:
        self.device = device
        self._host = host
        self._port = port
        self._multicast = multicast
        self._transport: asyncio.DatagramTransport | None = None

    @property
    def port(self) -> int:
        """Return the bound UDP port (the real one when 0 was asked for)."""
        if self._transport is None:
            return self._port
        sockname: tuple[str, int] = self._transport.get_extra_info("sockname")
        return sockname[1]

    async def start(self) -> None:
        """Bind the socket (joining the multicast group when asked) and start answering."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if self._multicast:
                # Multicast datagrams are delivered to sockets bound to the wildcard.
                sock.bind(("", self._port))
                interface = socket.inet_aton(self._host)
                membership = struct.pack("4s4s", socket.inet_aton(MULTICAST_GROUP), interface)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
            else:
                sock.bind((self._host, self._port))
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _ResponderProtocol(self.device), sock=sock
        )
        self._transport = transport

    async def stop(self) -> None:
        """Close the socket."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0)
