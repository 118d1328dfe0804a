"""The simulator as a real camera: two ONVIF profiles served over RTSP by GStreamer."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from detectors.http_auth import DigestAuth
from detectors.onvif.camera_sim import CameraSim
from detectors.onvif.probe import probe
from detectors.pipeline.sources import OfflineReason, RtspSource, SnapshotSource, SourceOfflineError
from detectors.pipeline.sources.hwdecode import HardwareDecoders

NO_GPU = HardwareDecoders((), ())


def _first_frame_size(url: str) -> tuple[int, int]:
    source = RtspSource(url, hardware=NO_GPU)
    source.open()
    try:
        while (frame := source.read()) is None:
            pass
        return frame.size
    finally:
        source.close()


async def test_profiles_stream_rtsp_main_and_sub(rtsp_camera: CameraSim) -> None:
    result = await probe("127.0.0.1", rtsp_camera.port, "admin", "s3cret")
    codec = "H265" if rtsp_camera.codec == "h265" else "H264"
    assert [(p.token, p.codec, p.width, p.height, p.stream_kind) for p in result.profiles] == [
        ("main", codec, 1920, 1080, "rtsp"),
        ("sub", codec, 640, 480, "rtsp"),
    ]
    for profile in result.profiles:
        assert profile.stream_uri is not None
        assert profile.stream_uri.startswith("rtsp://127.0.0.1:")
        assert "s3cret" not in profile.stream_uri
        with_password = profile.stream_uri.replace("rtsp://", "rtsp://admin:s3cret@")
        size = await asyncio.to_thread(_first_frame_size, with_password)
        assert size == (profile.width, profile.height)


async def test_rtsp_needs_the_camera_password(rtsp_camera: CameraSim) -> None:
    url = rtsp_camera.stream_url("sub").replace("rtsp://", "rtsp://admin:nope@")
    with pytest.raises(SourceOfflineError) as caught:
        await asyncio.to_thread(_first_frame_size, url)
    assert caught.value.reason is OfflineReason.AUTH_FAILED


@pytest.mark.parametrize("rtsp_camera", ["h264"], indirect=True)
async def test_snapshot_uri_still_works_at_profile_sizes(rtsp_camera: CameraSim) -> None:
    auth = DigestAuth("admin", "s3cret")
    async with aiohttp.ClientSession() as session:
        main = await SnapshotSource(rtsp_camera.snapshot_url(), auth).fetch(session)
        sub = await SnapshotSource(rtsp_camera.snapshot_url("sub"), auth).fetch(session)
        async with session.get(f"{rtsp_camera.base_url}/stream.mjpg") as response:
            assert response.status == 404  # this camera streams RTSP
    assert main is not None and sub is not None
    assert (main.size, sub.size) == ((1920, 1080), (640, 480))


@pytest.mark.parametrize("rtsp_camera", ["h264"], indirect=True)
async def test_drop_stream_fault_stops_and_restarts_rtsp(rtsp_camera: CameraSim) -> None:
    url = rtsp_camera.stream_url("sub").replace("rtsp://", "rtsp://admin:s3cret@")
    faults = f"{rtsp_camera.base_url}/sim/faults"
    async with aiohttp.ClientSession() as session:
        async with session.patch(faults, json={"drop_stream": True}) as response:
            assert response.status == 200
        with pytest.raises(SourceOfflineError) as caught:
            await asyncio.to_thread(_first_frame_size, url)
        assert caught.value.reason is OfflineReason.CONNECTION_REFUSED
        async with session.patch(faults, json={"drop_stream": False}) as response:
            assert response.status == 200
    assert await asyncio.to_thread(_first_frame_size, url) == (640, 480)
