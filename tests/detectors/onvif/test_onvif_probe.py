"""probe() against the simulated camera on loopback, through onvif-zeep-async."""

from __future__ import annotations

import socket

import pytest

from detectors.onvif.errors import (
    OnvifAuthError,
    OnvifClockSkewError,
    OnvifNoProfile,
    OnvifUnreachable,
)
from detectors.onvif.probe import DeviceInfo, probe
from detectors.sim.camera import CameraSim

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_probe_reads_device_profiles_and_uris(camera: CameraSim) -> None:
    result = await probe("127.0.0.1", camera.port, "admin", "s3cret")

    assert result.device == DeviceInfo(
        manufacturer="School Guard simulator",
        model="school-guard-sim",
        firmware_version="1.0.0",
        serial_number=camera.endpoint.rpartition(":")[2][:12],
        hardware_id="school-guard-sim",
    )
    assert [(s.namespace.rsplit("/", 2)[-2], s.xaddr) for s in result.services] == [
        ("device", camera.device_url),
        ("media", f"{camera.base_url}/onvif/media_service"),
        ("events", f"{camera.base_url}/onvif/events_service"),
    ]
    summary = [
        (p.token, p.name, p.codec, p.width, p.height, p.fps, p.stream_kind) for p in result.profiles
    ]
    assert summary == [
        ("main", "MainStream", "H264", 768, 576, 10.0, "mjpeg"),
        ("sub", "SubStream", "JPEG", 384, 288, 10.0, "mjpeg"),
    ]
    assert [p.stream_uri for p in result.profiles] == [
        camera.stream_url("main"),
        camera.stream_url("sub"),
    ]
    assert result.best_profile.token == "main"
    assert result.snapshot_uri == camera.snapshot_url("main")
    assert result.clock_offset_s is not None
    assert abs(result.clock_offset_s) <= 1.5
    as_json = result.to_json()
    assert as_json["profiles"][1]["stream_uri"] == camera.stream_url("sub")
    assert "s3cret" not in repr(as_json)


async def test_wrong_password_is_an_auth_error(camera: CameraSim) -> None:
    with pytest.raises(OnvifAuthError, match="refused the username or password") as caught:
        await probe("127.0.0.1", camera.port, "admin", "wrong")
    assert type(caught.value) is OnvifAuthError


async def test_wrong_credentials_fault_rejects_the_right_password(camera: CameraSim) -> None:
    camera.faults.wrong_credentials = True
    with pytest.raises(OnvifAuthError):
        await probe("127.0.0.1", camera.port, "admin", "s3cret")


async def test_closed_port_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OnvifUnreachable, match=f"no ONVIF service answers at 127.0.0.1:{port}"):
        await probe("127.0.0.1", port, "admin", "s3cret", timeout=5)


async def test_clock_skew_of_an_hour_is_reported_and_adjusted_for(camera: CameraSim) -> None:
    camera.faults.clock_skew_seconds = 3600
    result = await probe("127.0.0.1", camera.port, "admin", "s3cret")
    assert result.time_adjusted is True
    assert result.clock_offset_s is not None
    assert abs(result.clock_offset_s - 3600) <= 1.5
    assert result.device.model == "school-guard-sim"


async def test_clock_skew_without_adjustment_names_the_clock(camera: CameraSim) -> None:
    camera.faults.clock_skew_seconds = -3600
    with pytest.raises(OnvifClockSkewError, match=r"clock is -(3599|3600|3601) s off") as caught:
        await probe("127.0.0.1", camera.port, "admin", "s3cret", adjust_time=False)
    assert abs(caught.value.offset_s + 3600) <= 1.5


async def test_small_skew_within_tolerance_needs_no_adjustment(camera: CameraSim) -> None:
    camera.faults.clock_skew_seconds = 120
    result = await probe("127.0.0.1", camera.port, "admin", "s3cret", adjust_time=False)
    assert result.clock_offset_s is not None
    assert abs(result.clock_offset_s - 120) <= 1.5


async def test_slow_answers_within_the_timeout_succeed(camera: CameraSim) -> None:
    camera.faults.slow_seconds = 0.2
    result = await probe("127.0.0.1", camera.port, "admin", "s3cret", timeout=30)
    assert [p.token for p in result.profiles] == ["main", "sub"]


async def test_answers_slower_than_the_timeout_are_unreachable(camera: CameraSim) -> None:
    camera.faults.slow_seconds = 2.0
    with pytest.raises(OnvifUnreachable, match="did not finish answering within 1 s"):
        await probe("127.0.0.1", camera.port, "admin", "s3cret", timeout=1)


async def test_camera_without_profiles_is_no_profile(camera: CameraSim) -> None:
    camera.faults.no_profiles = True
    with pytest.raises(OnvifNoProfile, match=r"no media profile .* \(0 profiles\)"):
        await probe("127.0.0.1", camera.port, "admin", "s3cret")
