"""The simulator as a real camera: two ONVIF profiles served over RTSP by GStreamer."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from detectors.http_auth import DigestAuth
from detectors.onvif.probe import probe
from detectors.pipeline.sources import OfflineReason, RtspSource, SnapshotSource, SourceOfflineError
from detectors.pipeline.sources.hwdecode import HardwareDecoders
from detectors.sim.camera import CameraSim

NO_GPU = HardwareDecoders((), ())


def _first_frame_size(url: str, attempts: int = 1) -> tuple[int, int]:
    """Open, read one frame, close; ``attempts`` > 1 retries a failed open as the engine does."""
    for attempt in range(attempts):
        source = RtspSource(url, hardware=NO_GPU)
        try:
            source.open()
            while (frame := source.read()) is None:
                pass
            return frame.size
        except SourceOfflineError as error:
            if error.reason is OfflineReason.AUTH_FAILED or attempt == attempts - 1:
                raise
        finally:
            source.close()
    raise AssertionError("unreachable")


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
        # Once in a full-suite run under heavy load an open of the 1080p mount answered
        # "invalid data" (not reproduced since); the engine's reader retries, so does this.
        size = await asyncio.to_thread(_first_frame_size, with_password, 3)
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
