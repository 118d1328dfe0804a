"""The simulator's snapshot and MJPEG URLs, read by the engine's own frame sources."""

from __future__ import annotations

import contextlib
from pathlib import Path

import aiohttp
import pytest

from detectors.http_auth import DigestAuth
from detectors.pipeline.sources import (
    MjpegSource,
    OfflineReason,
    SnapshotSource,
    SourceOfflineError,
)
from detectors.sim.camera import CameraSim
from tests.sim import MJPEG_SIM

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_snapshot_needs_digest_and_decodes(camera: CameraSim) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(camera.snapshot_url()) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith(
                'Digest realm="school-guard-sim"'
            )
        source = SnapshotSource(camera.snapshot_url(), DigestAuth("admin", "s3cret"))
        frame = await source.fetch(session)
        sub = await SnapshotSource(camera.snapshot_url("sub"), DigestAuth("admin", "s3cret")).fetch(
            session
        )
    assert frame is not None and sub is not None
    assert frame.image.shape == (576, 768, 3)
    assert sub.image.shape == (288, 384, 3)


async def test_snapshot_with_wrong_password_is_auth_failed(camera: CameraSim) -> None:
    source = SnapshotSource(camera.snapshot_url(), DigestAuth("admin", "nope"))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SourceOfflineError) as caught:
            await source.fetch(session)
    assert caught.value.reason is OfflineReason.AUTH_FAILED


async def test_mjpeg_stream_delivers_video_frames(camera: CameraSim) -> None:
    source = MjpegSource(camera.stream_url("sub"))
    shapes = []
    async with contextlib.aclosing(source.frames()) as frames:
        async for frame in frames:
            assert frame is not None
            shapes.append(frame.image.shape)
            if len(shapes) == 3:
                break
    assert shapes == [(288, 384, 3)] * 3


async def test_drop_stream_ends_open_streams_and_refuses_new_ones(camera: CameraSim) -> None:
    source = MjpegSource(camera.stream_url(), read_timeout_s=5)
    received = 0

    async def read_until_dropped() -> None:
        nonlocal received
        async with contextlib.aclosing(source.frames()) as frames:
            async for frame in frames:
                assert frame is not None
                received += 1
                if received == 2:
                    camera.faults.drop_stream = True

    with pytest.raises(SourceOfflineError) as lost:
        await read_until_dropped()
    assert lost.value.reason is OfflineReason.CONNECTION_LOST
    assert received in {2, 3}  # a frame already being written may still arrive

    with pytest.raises(SourceOfflineError) as refused:
        async with contextlib.aclosing(MjpegSource(camera.stream_url()).frames()) as frames:
            await anext(frames)
    assert refused.value.reason is OfflineReason.HTTP_ERROR
    assert refused.value.detail.startswith("503 ")


async def test_stream_auth_protects_the_stream(samples_dir: Path) -> None:
    async with CameraSim(samples_dir / "vtest.avi", stream_auth=True, **MJPEG_SIM) as sim:
        with pytest.raises(SourceOfflineError) as refused:
            async with contextlib.aclosing(MjpegSource(sim.stream_url()).frames()) as frames:
                await anext(frames)
        assert refused.value.reason is OfflineReason.AUTH_FAILED
        source = MjpegSource(sim.stream_url(), DigestAuth("admin", "admin"))
        async with contextlib.aclosing(source.frames()) as frames:
            frame = await anext(frames)
    assert frame is not None
    assert frame.image.shape == (576, 768, 3)


async def test_faults_endpoint_reads_and_changes_faults(camera: CameraSim) -> None:
    url = f"{camera.base_url}/sim/faults"
    async with aiohttp.ClientSession() as session:
        async with session.put(url, json={"slow_seconds": 0.5, "drop_stream": True}) as response:
            assert response.status == 200
            assert await response.json() == {
                "wrong_credentials": False,
                "drop_stream": True,
                "slow_seconds": 0.5,
                "clock_skew_seconds": 0.0,
                "no_profiles": False,
            }
        async with session.patch(url, json={"bogus": 1}) as response:
            assert response.status == 400
            assert "unknown fault 'bogus'" in (await response.json())["error"]
        async with session.put(url, json={"drop_stream": "yes"}) as response:
            assert response.status == 400
        async with session.get(url) as response:
            assert (await response.json())["drop_stream"] is True
    assert camera.faults.slow_seconds == 0.5
