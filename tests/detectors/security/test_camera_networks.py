"""The camera-network check: which addresses pass, every resolved address checked, the setting."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest

from detectors.camera_networks import DEFAULT_CAMERA_NETWORKS, CameraNetworks
from detectors.config import engine_document, parse_config
from detectors.errors import ConfigError, HostLookupError, HostNotAllowedError

DEFAULT = CameraNetworks()


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.3.4.5", "::1", "10.1.2.3", "172.20.0.9", "192.168.1.20", "fd12:3456::7"],
)
def test_the_default_allows_loopback_and_private_ranges(address: str) -> None:
    assert DEFAULT.allows(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",  # cloud metadata services
        "fe80::1",
        "224.0.0.251",
        "239.255.255.250",
        "ff02::1",
        "255.255.255.255",
        "8.8.8.8",
        "172.32.0.1",
        "2001:db8::1",
        "0.0.0.0",
        "::ffff:169.254.169.254",  # IPv4 written as IPv6 is judged as IPv4
        "::ffff:8.8.8.8",
    ],
)
def test_the_default_refuses_link_local_multicast_and_public(address: str) -> None:
    assert not DEFAULT.allows(ipaddress.ip_address(address))


def test_mapped_ipv4_inside_the_networks_passes() -> None:
    assert DEFAULT.allows(ipaddress.ip_address("::ffff:192.168.1.20"))


def test_a_wide_network_does_not_open_link_local_or_multicast() -> None:
    everything = CameraNetworks.of(["0.0.0.0/0", "::/0"])
    assert everything.allows(ipaddress.ip_address("8.8.8.8"))
    for address in ("169.254.169.254", "224.0.0.251", "fe80::1", "ff02::1"):
        assert not everything.allows(ipaddress.ip_address(address)), address


def test_link_local_is_allowed_when_named_on_purpose() -> None:
    named = CameraNetworks.of(["169.254.10.0/24"])
    assert named.allows(ipaddress.ip_address("169.254.10.7"))
    assert not named.allows(ipaddress.ip_address("169.254.169.254"))


async def test_a_refusal_names_the_host_its_address_and_the_setting() -> None:
    only_ten = CameraNetworks.of(["10.0.0.0/8"])
    with pytest.raises(HostNotAllowedError) as refused:
        await only_ten.check_host("localhost", 80, what="probe target")
    message = str(refused.value)
    assert "probe target localhost (127.0.0.1)" in message
    assert "10.0.0.0/8" in message
    assert "security.camera_networks" in message


async def test_a_url_is_judged_by_its_host_and_its_password_is_never_shown() -> None:
    with pytest.raises(HostNotAllowedError) as refused:
        await DEFAULT.check_url("rtsp://admin:hunter2@169.254.169.254/stream1")
    assert "169.254.169.254" in str(refused.value)
    assert "hunter2" not in str(refused.value)
    await DEFAULT.check_url("rtsp://admin:hunter2@[::1]:8554/stream1")
    with pytest.raises(HostNotAllowedError, match="names no host"):
        await DEFAULT.check_url("rtsp:///stream1")


async def test_a_name_that_cannot_be_resolved_is_a_lookup_error() -> None:
    # An empty IDNA label fails inside this process: no resolver is asked.
    with pytest.raises(HostLookupError, match="cannot resolve"):
        await DEFAULT.check_host("camera..school")


def test_every_address_of_a_name_is_checked(tmp_path: Path) -> None:
    """A name with one private and one link-local address is refused.

    The names live in a private /etc/hosts, bind-mounted in a private mount and network
    namespace, so the real resolver answers and nothing leaves the machine.
    """
    hosts = tmp_path / "hosts"
    hosts.write_text(
        "127.0.0.1 localhost\n"
        "192.168.1.20 mixed.camera.test\n"
        "169.254.169.254 mixed.camera.test\n"
        "10.0.0.5 good.camera.test\n"
        "192.168.1.7 good.camera.test\n"
    )
    script = Path(__file__).with_name("hosts_roundtrip.py")
    command = (
        f"mount --bind '{hosts}' /etc/hosts && ip link set lo up"
        f" && exec '{sys.executable}' '{script}'"
    )
    done = subprocess.run(
        ["unshare", "-m", "-n", "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "good.camera.test allowed"
    assert lines[1].startswith(
        "mixed.camera.test refused: camera mixed.camera.test (169.254.169.254)"
    )


def test_the_setting_is_validated_and_written_back() -> None:
    config = parse_config(
        {"engine": {"name": "x"}, "security": {"camera_networks": ["10.20.0.0/16", "fd00::/8"]}}
    )
    assert config.security.camera_networks.texts() == ["10.20.0.0/16", "fd00::/8"]
    document = engine_document(config)
    assert document["security"] == {
        "camera_networks": ["10.20.0.0/16", "fd00::/8"],
        "media_folder": None,
    }
    assert parse_config(document).security == config.security
    assert parse_config({"engine": {"name": "x"}}).security.camera_networks.texts() == list(
        DEFAULT_CAMERA_NETWORKS
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.1/8", "security.camera_networks[0]: expected a network such as 10.0.0.0/8"),
        ("school", "security.camera_networks[0]: expected a network such as 10.0.0.0/8"),
    ],
)
def test_a_bad_network_is_refused_by_path(value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"engine": {"name": "x"}, "security": {"camera_networks": [value]}})
    assert expected in str(refused.value)
