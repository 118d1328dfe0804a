"""Probing whatever answers at an address: every answer is a clear failure, never a crash.

The peers are real HTTP (and TLS) servers on loopback (tests/detectors/onvif/hostile_peers.py).
Each must give a stable failure class with a sentence an installer can act on, and the
probe must end within its timeout whatever the peer does (the guard below is a hang
detector with a wide margin, not a speed assertion).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from detectors.onvif.errors import (
    OnvifError,
    OnvifNotOnvif,
    OnvifProtocolError,
    OnvifTimeout,
)
from detectors.onvif.probe import probe
from tests.detectors.onvif.hostile_peers import ALL_KINDS, hostile_peer

pytestmark = pytest.mark.usefixtures("socket_enabled")

PROBE_TIMEOUT = 2.0
HANG_GUARD = PROBE_TIMEOUT + 20.0

EXPECTED: dict[str, tuple[type[OnvifError], str]] = {
    "forbidden plain text": (OnvifNotOnvif, "answered HTTP 403 (text/plain) that is not ONVIF"),
    "empty 403": (OnvifNotOnvif, "answered HTTP 403 (text/plain) that is not ONVIF"),
    "html page": (OnvifNotOnvif, "answered HTTP 200 (text/html) that is not ONVIF SOAP"),
    "plain text 200": (OnvifNotOnvif, "that is not ONVIF SOAP"),
    "truncated xml": (OnvifNotOnvif, "answered HTTP 200 (text/xml) that is not ONVIF SOAP"),
    "xml not soap": (OnvifNotOnvif, "answered HTTP 200 (text/xml) that is not ONVIF SOAP"),
    "soap fault without detail": (OnvifProtocolError, "does not speak the ONVIF it claims"),
    "huge declared body": (OnvifNotOnvif, "announced an answer of 5000000000 bytes"),
    "endless body": (OnvifNotOnvif, "sent more than 1048576 bytes"),
    "headers then stall": (OnvifTimeout, "did not finish answering within 2 s"),
    "slowloris": (OnvifTimeout, "did not finish answering within 2 s"),
    "clock then html": (OnvifProtocolError, ""),
    "clock then garbage soap": (OnvifProtocolError, "does not speak the ONVIF it claims"),
    "redirect loop": (OnvifNotOnvif, "redirects the ONVIF device service elsewhere"),
    "tls": (OnvifNotOnvif, "if it is an HTTPS-only port"),
}


def test_every_hostile_peer_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(ALL_KINDS)


@pytest.mark.parametrize("kind", ALL_KINDS)
async def test_a_hostile_peer_gives_a_clear_failure(kind: str, tmp_path: Path) -> None:
    expected_class, phrase = EXPECTED[kind]
    async with hostile_peer(kind, tmp_path) as port:
        with pytest.raises(OnvifError) as err:
            await asyncio.wait_for(
                probe("127.0.0.1", port, "admin", "secret", timeout=PROBE_TIMEOUT), HANG_GUARD
            )
    assert type(err.value) is expected_class, err.value
    message = str(err.value)
    assert message.startswith(f"127.0.0.1:{port}"), message
    assert phrase in message
    assert "secret" not in message
