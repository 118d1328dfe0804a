"""Hostile and quirky WS-Discovery answers, and a UDP responder on loopback that sends them.

Shared by the discovery tests and the API fuzz (``tests/detectors/engine/fuzz_roundtrip.py``),
which pins ``POST /onvif/discover`` targets to a responder sending every hostile answer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from detectors.onvif.ws_discovery import parse_probe

type Reply = Callable[[str], list[bytes]]
"""Given the probe's MessageID, the datagrams a fake camera answers with."""

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"


def match_xml(prefix: str = "d", address: str = "urn:uuid:cam-1", port: int = 8080) -> str:
    return (
        f"<{prefix}:ProbeMatch>"
        f"<a:EndpointReference><a:Address>\n   {address}  \n</a:Address></a:EndpointReference>"
        f"<{prefix}:Types>dn:NetworkVideoTransmitter</{prefix}:Types>"
        f"<{prefix}:Scopes> onvif://www.onvif.org/name/Quirky%20Cam\n"
        f"   onvif://www.onvif.org/location/Gym </{prefix}:Scopes>"
        f"<{prefix}:XAddrs>\n http://127.0.0.1:{port}/onvif/device_service \n</{prefix}:XAddrs>"
        f"<{prefix}:MetadataVersion>1</{prefix}:MetadataVersion>"
        f"</{prefix}:ProbeMatch>"
    )


def envelope(body: str, relates_to: str | None, soap: str = SOAP12, action: str = "") -> bytes:
    relates = f"<a:RelatesTo>{relates_to}</a:RelatesTo>" if relates_to is not None else ""
    action = action or f"{WSD}/ProbeMatches"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{soap}" '
        f'xmlns:a="{WSA}" xmlns:d="{WSD}" xmlns:wsdd="{WSD}"><SOAP-ENV:Header>'
        f"<a:Action>{action}</a:Action><a:MessageID>urn:uuid:reply</a:MessageID>{relates}"
        f"</SOAP-ENV:Header><SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


class FakeCamera(asyncio.DatagramProtocol):
    """A UDP responder on 127.0.0.1 that answers every probe with ``reply``."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.transport: asyncio.DatagramTransport | None = None
        self.probes = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        probe = parse_probe(data)
        assert probe is not None, data
        self.probes += 1
        assert self.transport is not None
        for datagram in self.reply(probe.message_id):
            self.transport.sendto(datagram, addr)


HOSTILE: dict[str, Reply] = {
    "oversized": lambda mid: [
        envelope("<d:ProbeMatches>" + match_xml() * 200 + "</d:ProbeMatches>", mid)
    ],
    "entity expansion": lambda mid: [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "'
        + b"a" * 1000
        + b'">]>'
        + envelope(match_xml(address="&a;"), mid)[38:]
    ],
    "truncated": lambda mid: [
        envelope(f"<d:ProbeMatches>{match_xml()}</d:ProbeMatches>", mid)[:-40]
    ],
    "no address": lambda mid: [
        envelope(
            re.sub(r"<a:EndpointReference>.*?</a:EndpointReference>", "", match_xml(), flags=re.S),
            mid,
        )
    ],
    "binary noise": lambda _mid: [bytes(range(256)) * 8],
    "spoofed RelatesTo": lambda _mid: [
        envelope(f"<d:ProbeMatches>{match_xml()}</d:ProbeMatches>", "urn:uuid:not-yours")
    ],
}
"""Datagrams that must find nothing and break nothing (each answers one probe)."""
