"""WS-Discovery answers as real cameras send them: odd but readable ones are found.

Each quirk comes from a camera implementation that is not ours (one answers a unicast
probe with a bare ``d:ProbeMatch`` in the SOAP body); a real UDP responder on loopback
sends it, and ``discover`` must find the camera. Hostile datagrams (oversized, spoofed,
floods) must find nothing and break nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest

from detectors.onvif.discovery import discover
from tests.detectors.onvif.hostile_datagrams import (
    HOSTILE,
    SOAP11,
    WSD,
    FakeCamera,
    Reply,
    envelope,
    match_xml,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def fake_camera() -> AsyncIterator[Callable[[Reply], asyncio.Future[int]]]:
    """Start fake cameras on loopback; yields a starter returning each one's UDP port."""
    transports: list[asyncio.DatagramTransport] = []

    async def start(reply: Reply) -> int:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: FakeCamera(reply), local_addr=("127.0.0.1", 0)
        )
        transports.append(transport)
        port: int = transport.get_extra_info("sockname")[1]
        return port

    yield start  # type: ignore[misc]
    for transport in transports:
        transport.close()


QUIRKS: dict[str, Reply] = {
    "bare ProbeMatch, Action .../ProbeMatch": lambda mid: [
        envelope(match_xml(), mid, action=f"{WSD}/ProbeMatch")
    ],
    "other prefixes, SOAP 1.1": lambda mid: [
        envelope(f"<wsdd:ProbeMatches>{match_xml('wsdd')}</wsdd:ProbeMatches>", mid, SOAP11)
    ],
    "byte-order mark and blank lines first": lambda mid: [
        b"\xef\xbb\xbf\r\n\n" + envelope(f"<d:ProbeMatches>{match_xml()}</d:ProbeMatches>", mid)
    ],
    "no RelatesTo in a unicast reply": lambda _mid: [
        envelope(f"<d:ProbeMatches>{match_xml()}</d:ProbeMatches>", None)
    ],
    "unencoded space in a scope": lambda mid: [
        envelope(
            f"<d:ProbeMatches>{match_xml().replace('Quirky%20Cam', 'Quirky Cam')}</d:ProbeMatches>",
            mid,
        )
    ],
}


@pytest.mark.parametrize("quirk", list(QUIRKS))
async def test_a_quirky_camera_is_found_and_the_quirk_logged_once(
    quirk: str,
    fake_camera: Callable[[Reply], asyncio.Future[int]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = await fake_camera(QUIRKS[quirk])
    with caplog.at_level(logging.INFO, logger="detectors.onvif.discovery"):
        found = await discover([("127.0.0.1", port)], multicast=False, timeout=0.6)
    assert [(c.endpoint, c.name, c.location, c.host, c.port) for c in found] == [
        ("urn:uuid:cam-1", "Quirky Cam", "Gym", "127.0.0.1", 8080)
    ]
    assert found[0].xaddrs == ("http://127.0.0.1:8080/onvif/device_service",)
    notes = [r.getMessage() for r in caplog.records if "answered with" in r.getMessage()]
    if quirk == "other prefixes, SOAP 1.1":
        assert notes == []  # prefixes and SOAP 1.1 are not quirks, just XML
    else:
        # The probe is sent twice; each quirk is still logged only once per camera.
        assert len(notes) == len(set(notes)) >= 1
        assert all(n.startswith("WS-Discovery: camera at 127.0.0.1 answered with") for n in notes)


async def test_answers_to_someone_else_s_probe_are_ignored(
    fake_camera: Callable[[Reply], asyncio.Future[int]],
) -> None:
    body = f"<d:ProbeMatches>{match_xml()}</d:ProbeMatches>"
    port = await fake_camera(lambda _mid: [envelope(body, "urn:uuid:not-yours")])
    assert await discover([("127.0.0.1", port)], multicast=False, timeout=0.5) == []


@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_hostile_datagrams_find_nothing_and_break_nothing(
    kind: str, fake_camera: Callable[[Reply], asyncio.Future[int]]
) -> None:
    bad = await fake_camera(HOSTILE[kind])
    good = await fake_camera(
        lambda mid: [
            envelope(
                f"<d:ProbeMatches>{match_xml(address='urn:uuid:ok', port=81)}</d:ProbeMatches>", mid
            )
        ]
    )
    found = await discover([("127.0.0.1", bad), ("127.0.0.1", good)], multicast=False, timeout=0.6)
    assert [c.endpoint for c in found] == ["urn:uuid:ok"]


async def test_a_flood_of_matches_is_bounded(
    fake_camera: Callable[[Reply], asyncio.Future[int]],
) -> None:
    many = "".join(match_xml(address=f"urn:uuid:cam-{i}") for i in range(100))
    port = await fake_camera(
        lambda mid: [envelope(f"<d:ProbeMatches>{many}</d:ProbeMatches>", mid)]
    )
    found = await discover([("127.0.0.1", port)], multicast=False, timeout=0.5)
    assert len(found) == 64  # one answer names at most 64 devices
