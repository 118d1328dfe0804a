"""Fixtures for the ONVIF tests: a simulated camera on 127.0.0.1 and a synthetic video."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors.sim.camera import CameraSim
from tests.sim import MJPEG_SIM, RTSP_SIM

MOTION_FPS = 20.0
STILL_FRAMES = 16
MOVING_FRAMES = 12


@pytest.fixture(scope="session")
def motion_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1.4 s loop: 0.8 s still, then a bright square sliding for 0.6 s.

    Played in a loop it makes motion start and stop every loop, so MotionAlarm events
    with both states arrive within seconds.
    """
    path = tmp_path_factory.mktemp("video") / "motion.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), MOTION_FPS, (160, 120))
    assert writer.isOpened()
    for index in range(STILL_FRAMES + MOVING_FRAMES):
        frame = np.full((120, 160, 3), 40, np.uint8)
        x = 10 + max(0, index - STILL_FRAMES + 1) * 8
        frame[40:80, x : x + 40] = 230
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
async def camera(samples_dir: Path) -> AsyncIterator[CameraSim]:
    """The simulator playing vtest.avi over MJPEG, with a unicast WS-Discovery responder."""
    async with CameraSim(
        samples_dir / "vtest.avi",
        username="admin",
        password="s3cret",
        name="Main entrance",
        location="Building A",
        discovery_port=0,
        **MJPEG_SIM,
    ) as sim:
        yield sim


@pytest.fixture(params=["h264", "h265"])
async def rtsp_camera(
    samples_dir: Path, request: pytest.FixtureRequest, socket_enabled: None
) -> AsyncIterator[CameraSim]:
    """The simulator streaming RTSP in H.264 or H.265 (GStreamer's server)."""
    async with CameraSim(
        samples_dir / "vtest.avi",
        username="admin",
        password="s3cret",
        codec=request.param,
        **RTSP_SIM,
    ) as sim:
        yield sim
