"""WS-Discovery: unicast to 127.0.0.1 here, multicast only inside a private namespace."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from detectors.onvif.discovery import DiscoveredCamera, discover
from detectors.onvif.errors import OnvifDiscoveryError
from detectors.onvif.ws_discovery import (
    DeviceAnnouncement,
    ProbeMatchesReply,
    parse_probe,
    parse_probe_matches,
    probe_matches_message,
    probe_message,
)
from detectors.sim.camera import CameraSim

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).resolve().parents[3]


async def test_unicast_probe_finds_the_simulator(camera: CameraSim) -> None:
    assert camera.discovery_port is not None
    found = await discover([("127.0.0.1", camera.discovery_port)], multicast=False, timeout=1.0)
    assert found == [
        DiscoveredCamera(
            endpoint=camera.endpoint,
            xaddrs=(camera.device_url,),
            scopes=(
                "onvif://www.onvif.org/type/video_encoder",
                "onvif://www.onvif.org/Profile/Streaming",
                "onvif://www.onvif.org/name/Main%20entrance",
                "onvif://www.onvif.org/location/Building%20A",
                "onvif://www.onvif.org/hardware/school-guard-sim",
            ),
            name="Main entrance",
            location="Building A",
            hardware="school-guard-sim",
            host="127.0.0.1",
            port=camera.port,
        )
    ]
    assert found[0].to_json()["name"] == "Main entrance"


async def test_a_port_without_a_responder_finds_nothing() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert await discover([("127.0.0.1", port)], multicast=False, timeout=0.5) == []


async def test_no_target_and_no_multicast_is_empty_at_once() -> None:
    assert await discover(multicast=False) == []


async def test_unsendable_probe_is_a_discovery_error() -> None:
    with pytest.raises(OnvifDiscoveryError, match="cannot send a WS-Discovery probe"):
        await discover([("127.0.0.1", 0)], multicast=False, timeout=0.2)


def test_probe_matches_round_trip_and_filters() -> None:
    probe = parse_probe(probe_message("urn:uuid:1"))
    assert probe is not None
    assert probe.types == ("dn:NetworkVideoTransmitter",)
    device = DeviceAnnouncement("urn:uuid:cam", ("http://192.0.2.1/onvif/device_service",), ())
    assert device.matches(probe)
    printer = DeviceAnnouncement("urn:uuid:p", ("http://192.0.2.2/",), (), types=("Printer",))
    assert not printer.matches(probe)
    parsed = parse_probe_matches(probe_matches_message(device, "urn:uuid:1", 7))
    assert parsed == ProbeMatchesReply("urn:uuid:1", [device], ())


@pytest.mark.parametrize(
    "datagram",
    [
        b"",
        b"not xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'/>",
        b"<a>" * 70000,
    ],
)
def test_garbage_datagrams_are_ignored(datagram: bytes) -> None:
    assert parse_probe(datagram) is None
    assert parse_probe_matches(datagram) is None


def test_multicast_discovery_inside_a_private_network_namespace(samples_dir: Path) -> None:
    script = Path(__file__).with_name("onvif_multicast_roundtrip.py")
    command = (
        f'ip link set lo up && exec "{sys.executable}" "{script}" "{samples_dir / "vtest.avi"}"'
    )
    result = subprocess.run(
        ["unshare", "-n", "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "found": [["Gym door", "Building B", True], ["Library", "Building C", True]],
        "count": 2,
        "without_targets": 0,
    }
